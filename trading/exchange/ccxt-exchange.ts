import type { Exchange as CcxtClient } from 'ccxt';
import type { MarketRules } from '../risk/index.ts';
import { timeframeToMs } from '../market-data/index.ts';
import { ExchangeRejectedError, ExchangeUnavailableError, type Exchange, type ExchangeOrder, type ExchangeOrderRequest } from './types.ts';

export interface CcxtExchangeOptions {
  /** ccxt exchange id; Binance by default. */
  readonly exchangeId?: string;
  readonly apiKey?: string;
  readonly secret?: string;
  /**
   * Real money only when true. False means the exchange's sandbox/testnet. Callers decide it
   * from TRADING_MODE=live *and* the bot's own mode (see `resolveTradingVenue`).
   */
  readonly live: boolean;
  readonly timeoutMs?: number;
  /** Replaces the exchange's API base URLs (tests point them at a local server). */
  readonly apiBaseUrl?: string;
}

type Ccxt = typeof import('ccxt').default;
let ccxtModule: Promise<Ccxt> | undefined;
/** ccxt takes half a second to import: loaded by the first request, not by every command that links the engine. */
const loadCcxt = (): Promise<Ccxt> => (ccxtModule ??= import('ccxt').then((module) => module.default));

/** A real exchange through ccxt: market data, orders with our client order ids, balances. */
export class CcxtExchange implements Exchange {
  readonly id: string;
  readonly live: boolean;
  private readonly options: CcxtExchangeOptions;
  private client: CcxtClient | undefined;
  private readonly timeframeCache = new Map<string, number>();

  constructor(options: CcxtExchangeOptions) {
    this.id = options.exchangeId ?? 'binance';
    this.live = options.live;
    this.options = options;
  }

  /** The ccxt client, made on first use. */
  private connect(ccxt: Ccxt): CcxtClient {
    if (this.client) return this.client;
    const Client = (ccxt as unknown as Record<string, new (config: object) => CcxtClient>)[this.id];
    if (!Client) throw new ExchangeRejectedError(`ccxt has no exchange "${this.id}"`);
    const client = new Client({
      apiKey: this.options.apiKey,
      secret: this.options.secret,
      enableRateLimit: true,
      timeout: this.options.timeoutMs ?? 10_000,
      options: { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, adjustForTimeDifference: false },
    });
    if (!this.live) client.setSandboxMode(true);
    if (this.options.apiBaseUrl) {
      const api = client.urls['api'] as Record<string, string>;
      for (const key of Object.keys(api)) api[key] = `${this.options.apiBaseUrl}/${key}`;
    }
    this.client = client;
    return client;
  }

  async fetchCandles(symbol: string, timeframe: string, sinceMs?: number, limit = 1000): Promise<number[][]> {
    const rows = await this.call((client) => client.fetchOHLCV(symbol, timeframe, sinceMs, limit));
    // The exchange includes the bar still forming; strategies only ever see closed bars.
    const barMs = this.barMs(timeframe);
    const now = Date.now();
    return (rows as number[][]).filter((row) => row[0]! + barMs <= now);
  }

  async lastPrice(symbol: string): Promise<number> {
    const ticker = await this.call((client) => client.fetchTicker(symbol));
    if (typeof ticker.last !== 'number') throw new ExchangeUnavailableError(`${this.id} gave no last price for ${symbol}`);
    return ticker.last;
  }

  async marketRules(symbol: string): Promise<MarketRules> {
    const markets = await this.call(async (client) => {
      await client.loadMarkets();
      return client.markets;
    });
    const market = markets?.[symbol];
    if (!market) throw new ExchangeRejectedError(`${this.id} has no market ${symbol}`);
    return {
      minAmountBase: market.limits?.amount?.min ?? 0,
      amountStepBase: typeof market.precision?.amount === 'number' ? market.precision.amount : 0,
      minNotionalQuote: market.limits?.cost?.min ?? 0,
    };
  }

  async placeOrder(request: ExchangeOrderRequest): Promise<ExchangeOrder> {
    try {
      const order = await this.call((client) =>
        client.createOrder(request.symbol, request.type, request.side, request.amountBase, request.limitPriceQuote, {
          newClientOrderId: request.clientOrderId,
          clientOrderId: request.clientOrderId,
        }),
      );
      return this.toOrder(order, request.clientOrderId);
    } catch (error) {
      // A duplicate client order id means the exchange already has this order: return it.
      if (error instanceof ExchangeRejectedError && /duplicate/i.test(error.message)) {
        const existing = await this.findOrder(request.symbol, request.clientOrderId);
        if (existing) return existing;
      }
      throw error;
    }
  }

  findOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | undefined> {
    return this.orderByClientId(clientOrderId, (client, params) => client.fetchOrder('', symbol, params));
  }

  cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | undefined> {
    return this.orderByClientId(clientOrderId, (client, params) => client.cancelOrder('', symbol, params));
  }

  /** Looks an order up by our client id (Binance: origClientOrderId); undefined when unknown. */
  private async orderByClientId(
    clientOrderId: string,
    request: (client: CcxtClient, params: Record<string, string>) => ReturnType<CcxtClient['fetchOrder']>,
  ): Promise<ExchangeOrder | undefined> {
    try {
      const order = await this.call((client) => request(client, { origClientOrderId: clientOrderId, clientOrderId }));
      return this.toOrder(order, clientOrderId);
    } catch (error) {
      if ((error as { cause?: unknown }).cause instanceof (await loadCcxt()).OrderNotFound) return undefined;
      throw error;
    }
  }

  async balances(): Promise<Record<string, number>> {
    const balance = await this.call((client) => client.fetchBalance());
    const free = (balance as unknown as { free?: Record<string, number | undefined> }).free ?? {};
    return Object.fromEntries(Object.entries(free).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
  }

  /** Maps ccxt's errors onto ours: network trouble is retryable, the rest is a refusal. */
  private async call<T>(work: (client: CcxtClient) => Promise<T>): Promise<T> {
    const ccxt = await loadCcxt();
    const client = this.connect(ccxt);
    try {
      return await work(client);
    } catch (error) {
      if (error instanceof ccxt.NetworkError) {
        throw new ExchangeUnavailableError(`${this.id}: ${error.constructor.name}: ${error.message}`, { cause: error });
      }
      if (error instanceof ccxt.BaseError) {
        throw new ExchangeRejectedError(`${this.id}: ${error.constructor.name}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }

  private toOrder(order: Awaited<ReturnType<CcxtClient['fetchOrder']>>, clientOrderId: string): ExchangeOrder {
    const status =
      order.status === 'closed'
        ? 'filled'
        : order.status === 'canceled' || order.status === 'expired'
          ? 'canceled'
          : order.status === 'rejected'
            ? 'rejected'
            : 'open';
    const average = order.average ?? (order.filled ? (order.price ?? null) : null);
    // Binance charges a buy's fee in the base asset: convert it at the fill price.
    const [base, quote] = (order.symbol ?? '').split('/');
    const fee = order.fee;
    const feeQuote = !fee?.cost ? 0 : fee.currency === quote ? fee.cost : fee.currency === base && average ? fee.cost * average : 0;
    return {
      clientOrderId: order.clientOrderId ?? clientOrderId,
      exchangeOrderId: String(order.id),
      symbol: order.symbol ?? '',
      side: order.side === 'sell' ? 'sell' : 'buy',
      type: order.type === 'limit' ? 'limit' : 'market',
      status,
      amountBase: order.amount ?? 0,
      filledBase: order.filled ?? 0,
      averagePriceQuote: average,
      feeQuote,
    };
  }

  private barMs(timeframe: string): number {
    let ms = this.timeframeCache.get(timeframe);
    if (ms === undefined) {
      ms = timeframeToMs(timeframe);
      this.timeframeCache.set(timeframe, ms);
    }
    return ms;
  }
}
