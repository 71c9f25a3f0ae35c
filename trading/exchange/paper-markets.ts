import { z } from 'zod';
import type { Database } from '../../db/index.ts';
import { BundledReplayMarket } from './bundled-replay.ts';
import { CcxtExchange } from './ccxt-exchange.ts';
import type { MarketDataSource } from './types.ts';

/** Where paper bots get prices: `exchange` (Binance's public API), `replay` (candles/), or `auto`. */
export type PaperMarketSetting = 'auto' | 'exchange' | 'replay';
export type PaperMarketSource = 'exchange' | 'replay';

export interface PaperMarkets {
  /** Decides once (probing the exchange for `auto`) and remembers; later calls return the same. */
  decide(): Promise<{ source: PaperMarketSource; reason: string }>;
  /**
   * The market for a paper bot of `timeframe`: the replay when decided so; otherwise the
   * exchange's public API through one ccxt client shared by every paper bot of this process
   * (markets loaded once, one rate limiter), not one client per bot.
   */
  marketFor(timeframe: string): MarketDataSource;
  /** What was decided; undefined before `decide()` has finished (the exchange meanwhile). */
  readonly source: PaperMarketSource | undefined;
}

export interface PaperMarketsOptions {
  readonly setting: PaperMarketSetting;
  /**
   * `auto` falls back to the replay only on the embedded database — the laptop demo. On a
   * real PostgreSQL a trader's paper results must come from the real market, so there `auto`
   * means the exchange even when it cannot be reached (the bots then pause and say why).
   */
  readonly embedded: boolean;
  /** Resolves when the exchange answers; by default one candle of BTC/USDT through ccxt. */
  readonly probe?: () => Promise<unknown>;
  readonly now?: () => number;
  /**
   * The candle cache the replay writes the bars it closes into (the charts read it; the offline
   * demo has no market feed to fill it). Unset: the replay writes nothing.
   */
  readonly cache?: Database;
  /** Test seam: the shared exchange client paper bots read from. */
  readonly exchange?: () => CcxtExchange;
}

export function createPaperMarkets(options: PaperMarketsOptions): PaperMarkets {
  let decision: Promise<{ source: PaperMarketSource; reason: string }> | undefined;
  let source: PaperMarketSource | undefined;
  const replays = new Map<string, BundledReplayMarket>();
  let exchange: CcxtExchange | undefined;
  const probe = options.probe ?? (() => probeBinance(5_000));
  const decide = async (): Promise<{ source: PaperMarketSource; reason: string }> => {
    if (options.setting === 'replay') return { source: 'replay', reason: 'PAPER_MARKET=replay' };
    if (options.setting === 'exchange') return { source: 'exchange', reason: 'PAPER_MARKET=exchange' };
    if (!options.embedded) return { source: 'exchange', reason: 'PAPER_MARKET=auto on PostgreSQL always uses the exchange' };
    try {
      await probe();
      return { source: 'exchange', reason: 'the exchange answered' };
    } catch (error) {
      return { source: 'replay', reason: `no route to Binance (${firstLine(error)})` };
    }
  };
  return {
    decide() {
      decision ??= decide().then((result) => {
        source = result.source;
        return result;
      });
      return decision;
    },
    get source() {
      return source;
    },
    marketFor(timeframe) {
      if (source !== 'replay') {
        exchange ??= options.exchange?.() ?? new CcxtExchange({ live: true });
        return exchange;
      }
      let market = replays.get(timeframe);
      if (!market) {
        market = new BundledReplayMarket({
          timeframe,
          ...(options.now ? { now: options.now } : {}),
          ...(options.cache ? { cache: options.cache } : {}),
        });
        replays.set(timeframe, market);
      }
      return market;
    },
  };
}

const BINANCE_PROBE_URL = 'https://api.binance.com/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1';
const probeAnswer = z.array(z.array(z.unknown()).min(6)).min(1);

/**
 * Resolves when Binance's public API answers one candle of BTC/USDT (the request ccxt's
 * fetchOHLCV sends), through Node's own fetch: a process that finds no route (the offline demo)
 * never loads ccxt, whose ~40 MB of heap it would otherwise keep for as long as it runs.
 */
async function probeBinance(timeoutMs: number): Promise<void> {
  let response: Response;
  try {
    response = await fetch(BINANCE_PROBE_URL, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    // undici says "fetch failed" and puts the network error (getaddrinfo ENOTFOUND …) in its cause.
    const cause = (error as { cause?: unknown }).cause;
    throw new Error(cause instanceof Error ? `${(error as Error).message}: ${cause.message}` : String((error as Error).message ?? error));
  }
  if (!response.ok) throw new Error(`Binance answered HTTP ${response.status}`);
  if (!probeAnswer.safeParse(await response.json()).success) throw new Error('Binance answered something other than candles');
}

/** The network cause when there is one ("getaddrinfo ENOTFOUND api.binance.com"), else the first line. */
function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const cause = /getaddrinfo \w+ [\w.-]+|\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b|timed? ?out/i.exec(text);
  return cause ? cause[0] : text.split('\n')[0]!.slice(0, 120);
}

/**
 * What exchangeForBot needs to know of the paper market for a bot of `timeframe`: the shared
 * exchange client, or the replay (for testnet bots too, since no testnet can be reached).
 */
export function paperMarketOptions(
  markets: PaperMarkets | undefined,
  timeframe: string,
): { paperMarket?: MarketDataSource; sandboxAsPaper?: boolean } {
  if (!markets) return {};
  return { paperMarket: markets.marketFor(timeframe), ...(markets.source === 'replay' ? { sandboxAsPaper: true } : {}) };
}
