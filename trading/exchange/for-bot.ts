import { eq } from 'drizzle-orm';
import { exchangeAccounts, type bots, type Database } from '../../db/index.ts';
import type { SecretBox } from '../../secrets/index.ts';
import { tradingVenue, type TradingMode } from '../bots.ts';
import { CcxtExchange } from './ccxt-exchange.ts';
import { PaperExchange } from './paper.ts';
import { ExchangeRejectedError, type Exchange, type MarketDataSource } from './types.ts';

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
}

/**
 * The exchange a bot trades on. Paper bots: the paper exchange over real market data.
 * Live-mode bots: their own exchange account through ccxt, on the sandbox/testnet unless
 * TRADING_MODE=live (or on the paper exchange with `sandboxAsPaper`; real money never is). API keys are decrypted here, handed to ccxt, and go nowhere else.
 */
export async function exchangeForBot(db: Database, bot: typeof bots.$inferSelect, options: ExchangeForBotOptions): Promise<Exchange> {
  const venue = tradingVenue(bot.mode, options.tradingMode);
  if (venue === 'paper' || (venue === 'sandbox' && options.sandboxAsPaper && options.paperMarket)) {
    const market = options.paperMarket ?? new CcxtExchange({ live: true, ...(options.apiBaseUrl ? { apiBaseUrl: options.apiBaseUrl } : {}) });
    return new PaperExchange(db, { botId: bot.id, tenantId: bot.tenantId, market, timeframe: bot.timeframe });
  }
  if (!bot.exchangeAccountId) throw new ExchangeRejectedError(`bot ${bot.name} is in live mode but has no exchange account`);
  const [account] = await db.select().from(exchangeAccounts).where(eq(exchangeAccounts.id, bot.exchangeAccountId));
  if (!account || account.tenantId !== bot.tenantId) throw new ExchangeRejectedError(`bot ${bot.name}: its exchange account is missing`);
  if (account.status !== 'active') throw new ExchangeRejectedError(`bot ${bot.name}: exchange account "${account.label}" is ${account.status}`);
  const context = (column: string) => `exchange_accounts:${account.tenantId}:${column}`;
  return new CcxtExchange({
    exchangeId: account.exchange,
    apiKey: options.secretBox.open(account.apiKeyEncrypted, context('api_key')),
    secret: options.secretBox.open(account.apiSecretEncrypted, context('api_secret')),
    // Real money needs both the operator's TRADING_MODE=live and the account not being a sandbox one.
    live: venue === 'live' && !account.sandbox,
    ...(options.apiBaseUrl ? { apiBaseUrl: options.apiBaseUrl } : {}),
  });
}
