import { ProductError } from '../../errors/index.ts';
import type { MarketRules } from '../risk/index.ts';

export type OrderSide = 'buy' | 'sell';

export interface ExchangeOrderRequest {
  /** Our idempotency key: the same id twice is the same order. */
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: 'market' | 'limit';
  readonly amountBase: number;
  readonly limitPriceQuote?: number;
}

export interface ExchangeOrder {
  readonly clientOrderId: string;
  readonly exchangeOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: 'market' | 'limit';
  readonly status: 'open' | 'filled' | 'canceled' | 'rejected';
  readonly amountBase: number;
  readonly filledBase: number;
  /** Average fill price in quote currency, null while nothing is filled. */
  readonly averagePriceQuote: number | null;
  readonly feeQuote: number;
  readonly rejectReason?: string;
}

/** Where prices come from: closed candles `[openTime, open, high, low, close, volume]`. */
export interface MarketDataSource {
  /**
   * Closed candles, oldest first: from `sinceMs` on (at most `limit`), or without `sinceMs`
   * the newest `limit`.
   */
  fetchCandles(symbol: string, timeframe: string, sinceMs?: number, limit?: number): Promise<number[][]>;
  /** The latest traded price, in quote currency. */
  lastPrice(symbol: string): Promise<number>;
  marketRules(symbol: string): Promise<MarketRules>;
  /**
   * Sources fed by a shared market feed (market-feed.ts) say whether it is stale: no new closed
   * bar within two timeframes. Bots then take no new entries; exits still run.
   */
  feedHealth?(symbol: string, timeframe: string): Promise<{ readonly stale: boolean; readonly lastBarAgeMs: number | null }>;
  /**
   * Why this source will download nothing now (null: it may), for a source that knows before
   * being asked (exchangeWhenReachable): a download then skips looking for the cache's gaps.
   */
  unavailableReason?(): Promise<string | null>;
}

/** One trading account (a bot's), on paper or on a real exchange. */
export interface Exchange extends MarketDataSource {
  readonly id: string;
  /** True only when real money moves. */
  readonly live: boolean;
  /** Places an order; placing the same clientOrderId again returns the first order. */
  placeOrder(request: ExchangeOrderRequest): Promise<ExchangeOrder>;
  findOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | undefined>;
  cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | undefined>;
  /** Free balance per asset. */
  balances(): Promise<Record<string, number>>;
}

/** The exchange failed in a way worth retrying (network, timeout, rate limit). */
export class ExchangeUnavailableError extends ProductError {
  readonly category = 'unavailable' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExchangeUnavailableError';
  }
}

/** The exchange refused the request itself (bad symbol, insufficient funds, ...): do not retry. */
export class ExchangeRejectedError extends ProductError {
  readonly category = 'conflict' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExchangeRejectedError';
  }
}

/** Splits 'BTC/USDT' into base and quote assets. */
export function splitSymbol(symbol: string): { base: string; quote: string } {
  const [base, quote] = symbol.split('/');
  if (!base || !quote) throw new ExchangeRejectedError(`"${symbol}" is not a BASE/QUOTE symbol`);
  return { base, quote: quote.split(':')[0]! };
}
