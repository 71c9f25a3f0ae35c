import { eq } from 'drizzle-orm';
import { exchangeAccounts, type bots, type Database } from '../../db/index.ts';
import type { SecretBox } from '../../secrets/index.ts';
import { tradingVenue, type TradingMode } from '../bots.ts';
import { CcxtExchange } from './ccxt-exchange.ts';
import type { MarketFeeds } from './market-feed.ts';
import { PaperExchange } from './paper.ts';
import { ExchangeRejectedError, type Exchange, type ExchangeOrderRequest, type MarketDataSource } from './types.ts';

export interface ExchangeForBotOptions {
  readonly tradingMode: TradingMode;
  readonly secretBox: SecretBox;
  /** Market data for paper bots; by default the exchange's public API through ccxt. */
  readonly paperMarket?: MarketDataSource;
  /**
   * Sandbox (testnet) bots trade the paper exchange over `paperMarket` too: set when paper
   * bots trade the replayed market because no exchange can be reached — no testnet can be.
   */
  readonly sandboxAsPaper?: boolean;
  /** Test seam: replaces the exchange's API base URL. */
  readonly apiBaseUrl?: string;
  /**
   * The shared market feeds of this process (market-feed.ts): paper bots without a `paperMarket`
   * read their candles and prices from them, and live bots on a real account their signals, so
   * the exchange sees requests per pair, not per bot. Orders still go to the account's exchange.
   */
  readonly feeds?: MarketFeeds;
}

/** Without feeds: one public client per exchange (and test URL) per process, not one per bot. */
const publicClients = new Map<string, CcxtExchange>();
function publicClient(apiBaseUrl: string | undefined): CcxtExchange {
  const id = `binance ${apiBaseUrl ?? ''}`;
  let client = publicClients.get(id);
  if (!client) {
    client = new CcxtExchange({ live: true, ...(apiBaseUrl ? { apiBaseUrl } : {}) });
    publicClients.set(id, client);
  }
  return client;
}

/**
 * The exchange a bot trades on. Paper bots: the paper exchange over real market data.
 * Live-mode bots: their own exchange account through ccxt, on the sandbox/testnet unless
 * TRADING_MODE=live (or on the paper exchange with `sandboxAsPaper`; real money never is). API keys are decrypted here, handed to ccxt, and go nowhere else.
 */
export async function exchangeForBot(db: Database, bot: typeof bots.$inferSelect, options: ExchangeForBotOptions): Promise<Exchange> {
  const venue = tradingVenue(bot.mode, options.tradingMode);
  if (venue === 'paper' || (venue === 'sandbox' && options.sandboxAsPaper && options.paperMarket)) {
    let market = options.paperMarket;
    if (!market && options.feeds) {
      // Paper bots trade Binance's market (CcxtExchange's default exchange).
      for (const symbol of bot.symbols) options.feeds.watch('binance', symbol, bot.timeframe);
      market = options.feeds.reader('binance');
    }
    market ??= publicClient(options.apiBaseUrl);
    return new PaperExchange(db, { botId: bot.id, tenantId: bot.tenantId, market, timeframe: bot.timeframe });
  }
  if (!bot.exchangeAccountId) throw new ExchangeRejectedError(`bot ${bot.name} is in live mode but has no exchange account`);
  const [account] = await db.select().from(exchangeAccounts).where(eq(exchangeAccounts.id, bot.exchangeAccountId));
  if (!account || account.tenantId !== bot.tenantId) throw new ExchangeRejectedError(`bot ${bot.name}: its exchange account is missing`);
  if (account.status !== 'active')
    throw new ExchangeRejectedError(`bot ${bot.name}: exchange account "${account.label}" is ${account.status}`);
  const context = (column: string) => `exchange_accounts:${account.tenantId}:${column}`;
  const live = venue === 'live' && !account.sandbox;
  const orders = new CcxtExchange({
    exchangeId: account.exchange,
    apiKey: options.secretBox.open(account.apiKeyEncrypted, context('api_key')),
    secret: options.secretBox.open(account.apiSecretEncrypted, context('api_secret')),
    // Real money needs both the operator's TRADING_MODE=live and the account not being a sandbox one.
    live,
    ...(options.apiBaseUrl ? { apiBaseUrl: options.apiBaseUrl } : {}),
  });
  // A sandbox account fills at its testnet's prices, so its signals stay on the testnet's candles;
  // a real account's signals come from the shared feed of the real market.
  if (!live || !options.feeds) return orders;
  for (const symbol of bot.symbols) options.feeds.watch(account.exchange, symbol, bot.timeframe);
  return new FeedSignalsExchange(orders, options.feeds.reader(account.exchange));
}

/** A real account whose candles (the bot's signals) come from the shared feed; everything else is the account's. */
class FeedSignalsExchange implements Exchange {
  readonly id: string;
  readonly live: boolean;
  readonly #account: Exchange;
  readonly #feed: MarketDataSource;
  constructor(account: Exchange, feed: MarketDataSource) {
    this.#account = account;
    this.#feed = feed;
    this.id = account.id;
    this.live = account.live;
  }
  fetchCandles(symbol: string, timeframe: string, sinceMs?: number, limit?: number) {
    return this.#feed.fetchCandles(symbol, timeframe, sinceMs, limit);
  }
  async feedHealth(symbol: string, timeframe: string) {
    return (await this.#feed.feedHealth?.(symbol, timeframe)) ?? { stale: false, lastBarAgeMs: null };
  }
  lastPrice(symbol: string) {
    return this.#account.lastPrice(symbol);
  }
  marketRules(symbol: string) {
    return this.#account.marketRules(symbol);
  }
  placeOrder(request: ExchangeOrderRequest) {
    return this.#account.placeOrder(request);
  }
  findOrder(symbol: string, clientOrderId: string) {
    return this.#account.findOrder(symbol, clientOrderId);
  }
  cancelOrder(symbol: string, clientOrderId: string) {
    return this.#account.cancelOrder(symbol, clientOrderId);
  }
  balances() {
    return this.#account.balances();
  }
}
