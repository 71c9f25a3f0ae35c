import { and, asc, desc, eq, gt, gte, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { sleepUnlessAborted } from '../../clock/index.ts';
import { bots, candles, exchangeAccounts, type Database } from '../../db/index.ts';
import { detectGaps, loadCachedCandles, timeframeSchema, timeframeToMs, upsertCandles, type CandleKey } from '../market-data/index.ts';
import type { MarketRules } from '../risk/index.ts';
import { CcxtExchange } from './ccxt-exchange.ts';
import { ExchangeUnavailableError, type MarketDataSource } from './types.ts';

/**
 * One market feed per (exchange, symbol, timeframe), shared by every bot that trades it.
 *
 * The candle cache in PostgreSQL (the `candles` table) is what bots read: a `MarketFeeds` per
 * process hands each bot a reader over the cache, and for every pair some bot of this process
 * trades it competes for a lease (`feed-lock:<exchange>:<symbol>:<tf>`, Redis compare-and-set
 * across workers, or in-process) whose holder is the one fetcher of that pair for the whole
 * cluster. The fetcher streams bars with ccxt pro `watchOHLCV` over the exchange's WebSocket
 * where ccxt supports it, and asks `fetchOHLCV` (one REST client per exchange per process, ccxt's
 * rate limiter on) for the history, for bars the stream skipped, and whenever the stream is
 * silent once the next bar can have closed; REST pages forward from the newest cached bar, so a
 * fetcher that takes over from a dead one fills the bars missed in between. On taking a lease
 * it also back-fills holes in the recent history (gaps.ts).
 * Requests to the exchange therefore grow with pairs, not with bots.
 *
 * A feed whose newest closed bar is older than two timeframes is stale: its bots take no new
 * entries (exits still run) until bars arrive again; each process reads that from the cache
 * itself, so every worker agrees whoever fetches. Staleness is exported as gauges, shown by
 * `botcriptofy status`, and announced once per stale episode through `onStale`.
 */

/** A lease per feed: compare-and-set in Redis across workers (workers/locks.ts), or in-process. */
export interface FeedLeases {
  acquire(key: string): Promise<boolean>;
  /** Renews the given leases; returns the ones still held. */
  renew(keys: readonly string[]): Promise<Set<string>>;
  release(key: string): Promise<void>;
}

/** One process, no Redis: every lease is this process's (LocalBotLocks' rule, for feeds). */
export class LocalFeedLeases implements FeedLeases {
  readonly #held = new Set<string>();
  async acquire(key: string): Promise<boolean> {
    this.#held.add(key);
    return true;
  }
  async renew(keys: readonly string[]): Promise<Set<string>> {
    return new Set(keys.filter((key) => this.#held.has(key)));
  }
  async release(key: string): Promise<void> {
    this.#held.delete(key);
  }
}

export interface FeedHealth {
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: string;
  /** Open time of the newest closed bar in the cache (ms), null when none is cached. */
  readonly lastBarOpenMs: number | null;
  /** Time since the newest cached bar closed (ms), null when none is cached. */
  readonly lastBarAgeMs: number | null;
  /** No new closed bar within two timeframes: the feed's bots take no new entries. */
  readonly stale: boolean;
}

/** A feed turned stale (once per episode) or fresh again. */
export interface FeedStaleEvent extends FeedHealth {
  /** Identifies the episode across workers: the feed and the last bar before it stalled. */
  readonly episodeKey: string;
}

/** What MarketFeeds needs of an exchange: closed candles and its market rules. */
export type FeedSource = Pick<MarketDataSource, 'fetchCandles' | 'marketRules'>;

export interface MarketFeedsOptions {
  readonly db: Database;
  readonly leases: FeedLeases;
  /** The exchange client a fetcher uses; by default one public CcxtExchange per exchange id, made on first use. */
  readonly sourceFor?: (exchangeId: string) => FeedSource;
  /** Test seam for the default clients: the exchange's API base URL (a scripted exchange on loopback). */
  readonly apiBaseUrl?: string;
  readonly now?: () => number;
  /** How often `start()` runs a step (taking free leases, a poll when due, staleness). */
  readonly stepMs?: number;
  /**
   * How often `start()` renews the leases held, on a timer of its own so a long fetch (a
   * back-fill paging through the rate limiter) never lets a lease lapse; ≤ a third of the TTL.
   */
  readonly renewMs?: number;
  /** After the next bar is due, how often the fetcher asks again until it is there. */
  readonly pollMs?: number;
  /** Bars fetched (and kept free of gaps) behind the newest when a feed starts: the bots' warm-up reads these. */
  readonly historyBars?: number;
  /** Bars of each feed kept in memory for the bots' reads (older ones are read from the database). */
  readonly windowBars?: number;
  /** How old the in-memory copy of a feed may get before a read looks at the database again. */
  readonly refreshMs?: number;
  readonly onHealth?: (health: FeedHealth) => void;
  /** A feed turned stale (once per episode per process; the episode key lets callers dedupe across workers). */
  readonly onStale?: (event: FeedStaleEvent) => void;
  readonly onResumed?: (health: FeedHealth) => void;
  /** A fetch failed (the feed goes stale if it keeps failing). */
  readonly onError?: (key: CandleKey, error: unknown) => void;
  /**
   * A feed no bot of this process has read for `max(15 min, 10 bars)` is let go (its lease
   * released for a worker that still trades the pair): the bots on it stopped or moved.
   */
  readonly onForgotten?: (key: CandleKey) => void;
  /**
   * The fetcher streams bars over the exchange's WebSocket (ccxt pro `watchOHLCV`) where ccxt
   * supports it for the exchange (Binance does); REST polling then only steps in when the stream
   * has said nothing for a bar (or a minute), and fills bars the stream skipped. Default on,
   * except with an `apiBaseUrl` and no `wsUrl` (a scripted REST exchange, which has no stream).
   */
  readonly streaming?: boolean;
  /** Test seam: the exchange's spot WebSocket URL (a scripted stream on loopback). */
  readonly wsUrl?: string;
}

/** What a fetcher needs of a ccxt pro client. */
interface StreamClient {
  readonly has: Record<string, unknown>;
  readonly urls: Record<string, unknown>;
  watchOHLCV(symbol: string, timeframe: string): Promise<number[][]>;
  unWatchOHLCV?(symbol: string, timeframe: string): Promise<unknown>;
  loadHttpProxyAgent(): Promise<unknown>;
  close(): Promise<unknown>;
}

const feedKeySchema = z.object({
  exchange: z.string().min(1).max(40),
  symbol: z.string().regex(/^[A-Z0-9]+\/[A-Z0-9]+(:[A-Z0-9]+)?$/i),
  timeframe: timeframeSchema,
});

/** The lease name of a feed, `<exchange>:<symbol>:<tf>`: the Redis store makes it `<prefix>:feed-lock:<exchange>:<symbol>:<tf>`. */
export function feedLeaseKey(key: CandleKey): string {
  return `${key.exchange}:${key.symbol}:${key.timeframe}`;
}

/** Age and staleness of a feed whose newest cached bar opened at `lastBarOpenMs`. */
export function feedHealthAt(
  key: CandleKey,
  lastBarOpenMs: number | null,
  nowMs: number,
  barMs = timeframeToMs(key.timeframe),
): FeedHealth {
  if (lastBarOpenMs === null) return { ...key, lastBarOpenMs: null, lastBarAgeMs: null, stale: true };
  const lastBarAgeMs = Math.max(0, nowMs - (lastBarOpenMs + barMs));
  return { ...key, lastBarOpenMs, lastBarAgeMs, stale: lastBarAgeMs > 2 * barMs };
}

class Feed {
  readonly key: CandleKey;
  readonly id: string;
  readonly barMs: number;
  /** Recent closed bars, oldest first, contiguous (reloaded whole when a hole shows). */
  bars: number[][] = [];
  refreshedAtMs = Number.NEGATIVE_INFINITY;
  refreshing: Promise<void> | undefined;
  watchedSinceMs: number;
  /** Last time a bot of this process read or watched the feed. */
  usedAtMs: number;
  leased = false;
  lastPollMs = Number.NEGATIVE_INFINITY;
  /** The episode announced as stale, until bars arrive again. */
  staleEpisode: string | undefined;
  /** The stream loop while this process streams the feed. */
  streaming: Promise<void> | undefined;
  /** When the stream last delivered (this process's clock). */
  streamedAtMs = Number.NEGATIVE_INFINITY;
  /** Streamed bars by open time, the latest values of each, until a later bar shows they are final. */
  readonly pending = new Map<number, number[]>();

  constructor(key: CandleKey, nowMs: number) {
    this.key = key;
    this.id = feedLeaseKey(key);
    this.barMs = timeframeToMs(key.timeframe);
    this.watchedSinceMs = nowMs;
    this.usedAtMs = nowMs;
  }

  get newestOpenMs(): number | null {
    return this.bars.length > 0 ? this.bars.at(-1)![0]! : null;
  }
}

export class MarketFeeds {
  readonly #options: MarketFeedsOptions;
  readonly #feeds = new Map<string, Feed>();
  readonly #sources = new Map<string, FeedSource>();
  readonly #streamClients = new Map<string, Promise<StreamClient | undefined>>();
  readonly #now: () => number;
  readonly #windowBars: number;
  readonly #historyBars: number;
  #timer: NodeJS.Timeout | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  #stepping: Promise<void> | undefined;
  #stopped = false;
  /** Aborted by stop(): ends the stream loops' waits between reconnections at once. */
  readonly #stopping = new AbortController();

  constructor(options: MarketFeedsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#historyBars = options.historyBars ?? 1000;
    this.#windowBars = Math.max(options.windowBars ?? 1000, 2);
  }

  /** The one exchange client of this process for `exchangeId` (markets loaded once, one rate limiter). */
  sourceFor(exchangeId: string): FeedSource {
    let source = this.#sources.get(exchangeId);
    if (!source) {
      source =
        this.#options.sourceFor?.(exchangeId) ??
        new CcxtExchange({ exchangeId, live: true, ...(this.#options.apiBaseUrl ? { apiBaseUrl: this.#options.apiBaseUrl } : {}) });
      this.#sources.set(exchangeId, source);
    }
    return source;
  }

  /** Starts competing for the fetcher lease of a pair (a bot of this process trades it). */
  watch(exchange: string, symbol: string, timeframe: string): void {
    this.#feed({ exchange, symbol, timeframe });
  }

  /** The market data a bot of `exchange` reads: candles and prices from the shared feeds, never a request per bot. */
  reader(exchange: string): MarketDataSource & { feedHealth(symbol: string, timeframe: string): Promise<FeedHealth> } {
    return {
      fetchCandles: (symbol, timeframe, sinceMs, limit) => this.fetchCandles({ exchange, symbol, timeframe }, sinceMs, limit),
      lastPrice: (symbol) => this.lastPrice(exchange, symbol),
      marketRules: (symbol): Promise<MarketRules> => this.sourceFor(exchange).marketRules(symbol),
      feedHealth: (symbol, timeframe) => this.health({ exchange, symbol, timeframe }),
    };
  }

  /** Feeds this process watches, as last read. */
  healthAll(): FeedHealth[] {
    return [...this.#feeds.values()].map((feed) => this.#healthOf(feed));
  }

  /** Whether this process is the fetcher of the feed (holds its lease). */
  isFetcher(key: CandleKey): boolean {
    return this.#feeds.get(feedLeaseKey(key))?.leased ?? false;
  }

  async fetchCandles(key: CandleKey, sinceMs?: number, limit = 1000): Promise<number[][]> {
    const feed = this.#feed(key);
    await this.#refreshIfDue(feed);
    const bars = feed.bars;
    if (sinceMs === undefined) {
      if (limit <= bars.length) return bars.slice(bars.length - limit);
      const rows = await this.#query(key, { newest: limit });
      return rows.reverse();
    }
    if (bars.length > 0 && sinceMs >= bars[0]![0]!) {
      const from = firstAtOrAfter(bars, sinceMs);
      return bars.slice(from, from + limit);
    }
    return this.#query(key, { sinceMs, limit });
  }

  /** The close of the newest closed bar: the price paper orders fill at, as in the backtester. */
  async lastPrice(exchange: string, symbol: string): Promise<number> {
    // A symbol's price from any of its feeds this process watches; the shortest timeframe is the freshest.
    const feeds = [...this.#feeds.values()]
      .filter((feed) => feed.key.exchange === exchange && feed.key.symbol === symbol)
      .sort((a, b) => a.barMs - b.barMs);
    const feed = feeds[0];
    if (feed) feed.usedAtMs = this.#now();
    if (!feed) throw new ExchangeUnavailableError(`no feed of ${exchange} ${symbol} in this process: no bot here trades it`);
    await this.#refreshIfDue(feed);
    const newest = feed.bars.at(-1);
    if (!newest) throw new ExchangeUnavailableError(`no ${exchange} ${symbol} candles in the cache yet (its feed has not fetched)`);
    return newest[4]!;
  }

  async health(key: CandleKey): Promise<FeedHealth> {
    const feed = this.#feed(key);
    await this.#refreshIfDue(feed);
    return this.#healthOf(feed);
  }

  /**
   * One pass over the watched feeds: take or renew leases, fetch where this process is the
   * fetcher and a bar is due, read every feed's newest bar, report staleness.
   */
  step(): Promise<void> {
    this.#stepping ??= this.#step().finally(() => (this.#stepping = undefined));
    return this.#stepping;
  }

  /** Renews the leases this process holds; a lease lost stops its fetching at the next page. */
  renew(): Promise<void> {
    this.#renewing ??= (async () => {
      const held = [...this.#feeds.values()].filter((feed) => feed.leased);
      if (held.length === 0) return;
      const still = await this.#options.leases.renew(held.map((feed) => feed.id)).catch(() => new Set<string>());
      for (const feed of held) feed.leased = still.has(feed.id);
    })().finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  /** Runs `step()` every `stepMs` and `renew()` every `renewMs` until `stop()`. */
  start(): void {
    const stepMs = this.#options.stepMs ?? 2_000;
    const renewMs = this.#options.renewMs ?? stepMs;
    const loop = () => {
      if (this.#stopped) return;
      void this.step().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(loop, stepMs);
      });
    };
    const renewLoop = () => {
      if (this.#stopped) return;
      void this.renew().finally(() => {
        if (!this.#stopped) this.#renewTimer = setTimeout(renewLoop, renewMs);
      });
    };
    loop();
    this.#renewTimer = setTimeout(renewLoop, renewMs);
  }

  /** Stops stepping and gives up this process's leases, so another worker takes the feeds at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping.abort();
    clearTimeout(this.#timer);
    clearTimeout(this.#renewTimer);
    await this.#stepping?.catch(() => {});
    await this.#renewing?.catch(() => {});
    for (const feed of this.#feeds.values()) {
      if (feed.leased) await this.#options.leases.release(feed.id).catch(() => {});
      feed.leased = false;
    }
    // Closing the WebSocket clients ends the stream loops' pending watches.
    for (const client of this.#streamClients.values()) await (await client.catch(() => undefined))?.close().catch(() => {});
    for (const feed of this.#feeds.values()) await feed.streaming?.catch(() => {});
  }

  async #step(): Promise<void> {
    const feeds = [...this.#feeds.values()];
    await this.renew();
    for (const feed of feeds) {
      if (this.#stopped) return;
      if (this.#now() - feed.usedAtMs > Math.max(15 * 60_000, 10 * feed.barMs)) {
        this.#feeds.delete(feed.id);
        if (feed.leased) await this.#options.leases.release(feed.id).catch(() => {});
        feed.leased = false;
        this.#options.onForgotten?.(feed.key);
        continue;
      }
      try {
        if (!feed.leased && (await this.#options.leases.acquire(feed.id))) {
          feed.leased = true;
          feed.lastPollMs = Number.NEGATIVE_INFINITY;
          await this.#backfill(feed);
        }
        if (feed.leased) await this.#pollIfDue(feed);
        if (feed.leased) this.#startStream(feed);
      } catch (error) {
        this.#options.onError?.(feed.key, error);
      }
      try {
        await this.#refresh(feed);
      } catch (error) {
        this.#options.onError?.(feed.key, error);
        continue;
      }
      this.#report(feed);
    }
  }

  #feed(key: CandleKey): Feed {
    const id = feedLeaseKey(key);
    let feed = this.#feeds.get(id);
    if (!feed) {
      feed = new Feed(feedKeySchema.parse(key), this.#now());
      this.#feeds.set(id, feed);
    }
    feed.usedAtMs = this.#now();
    return feed;
  }

  #healthOf(feed: Feed): FeedHealth {
    const now = this.#now();
    const health = feedHealthAt(feed.key, feed.newestOpenMs, now, feed.barMs);
    // A feed just watched has had no chance to fetch yet: not stale for its first two bars.
    if (health.lastBarOpenMs === null && now - feed.watchedSinceMs <= 2 * feed.barMs) return { ...health, stale: false };
    return health;
  }

  #report(feed: Feed): void {
    const health = this.#healthOf(feed);
    this.#options.onHealth?.(health);
    if (health.stale && feed.staleEpisode === undefined) {
      feed.staleEpisode = `${feed.id}:${health.lastBarOpenMs ?? 'none'}`;
      this.#options.onStale?.({ ...health, episodeKey: feed.staleEpisode });
    } else if (!health.stale && feed.staleEpisode !== undefined) {
      feed.staleEpisode = undefined;
      this.#options.onResumed?.(health);
    }
  }

  async #refreshIfDue(feed: Feed): Promise<void> {
    if (this.#now() - feed.refreshedAtMs < (this.#options.refreshMs ?? 1_000)) return;
    await this.#refresh(feed);
  }

  /** Brings the in-memory window up to the cache: one query for the bars newer than it holds. */
  #refresh(feed: Feed): Promise<void> {
    feed.refreshing ??= (async () => {
      const newest = feed.newestOpenMs;
      const rows =
        newest === null
          ? (await this.#query(feed.key, { newest: this.#windowBars })).reverse()
          : await this.#query(feed.key, { afterMs: newest, limit: this.#windowBars });
      const contiguous = rows.every((row, i) => row[0]! - (i === 0 ? (newest ?? row[0]! - feed.barMs) : rows[i - 1]![0]!) === feed.barMs);
      // A bar that does not follow the previous one means the window holds a hole that a back-fill
      // may have filled since: read the whole window again rather than serve the hole.
      if (!contiguous && newest !== null) feed.bars = (await this.#query(feed.key, { newest: this.#windowBars })).reverse();
      else feed.bars = feed.bars.concat(rows);
      if (feed.bars.length > this.#windowBars) feed.bars = feed.bars.slice(feed.bars.length - this.#windowBars);
      feed.refreshedAtMs = this.#now();
    })().finally(() => (feed.refreshing = undefined));
    return feed.refreshing;
  }

  async #query(key: CandleKey, range: { newest: number } | { sinceMs?: number; afterMs?: number; limit: number }): Promise<number[][]> {
    const where = and(
      eq(candles.exchange, key.exchange),
      eq(candles.symbol, key.symbol),
      eq(candles.timeframe, key.timeframe),
      'sinceMs' in range && range.sinceMs !== undefined ? gte(candles.openTime, new Date(range.sinceMs)) : undefined,
      'afterMs' in range && range.afterMs !== undefined ? gt(candles.openTime, new Date(range.afterMs)) : undefined,
    );
    const rows =
      'newest' in range
        ? await this.#options.db.select().from(candles).where(where).orderBy(desc(candles.openTime)).limit(range.newest)
        : await this.#options.db.select().from(candles).where(where).orderBy(asc(candles.openTime)).limit(range.limit);
    return rows.map((row) => [
      row.openTime.getTime(),
      Number(row.open),
      Number(row.high),
      Number(row.low),
      Number(row.close),
      Number(row.volumeBase),
    ]);
  }

  /** The newest bar in the cache (not the window: another fetcher may have written since). */
  async #newestCachedOpenMs(key: CandleKey): Promise<number | null> {
    const [row] = await this.#query(key, { newest: 1 });
    return row ? row[0]! : null;
  }

  /** The fetcher asks only once the next bar can have closed, then every `pollMs` until it is there. */
  async #pollIfDue(feed: Feed): Promise<void> {
    const now = this.#now();
    const newest = await this.#newestCachedOpenMs(feed.key);
    // While the stream speaks, it brings the bars: REST only after it has been silent for a bar (at most a minute).
    const streamGraceMs = feed.streaming && now - feed.streamedAtMs < Math.min(feed.barMs, 60_000) ? Math.min(feed.barMs, 60_000) : 0;
    if (newest !== null && now < newest + 2 * feed.barMs + streamGraceMs) return;
    if (now - feed.lastPollMs < (this.#options.pollMs ?? 5_000)) return;
    feed.lastPollMs = now;
    await this.#fetchForward(feed, newest === null ? this.#historyStart(feed, now) : newest + feed.barMs, now);
  }

  /** Pages from `sinceMs` to the newest closed bar, writing each page to the cache. */
  async #fetchForward(feed: Feed, sinceMs: number, now: number, untilMs = Number.POSITIVE_INFINITY): Promise<void> {
    const source = this.sourceFor(feed.key.exchange);
    const pageSize = 1000;
    // Stops when the lease is lost mid-way: the new holder continues from the newest cached bar.
    for (let since = sinceMs; since <= untilMs && feed.leased; ) {
      const page = await source.fetchCandles(feed.key.symbol, feed.key.timeframe, since, pageSize);
      // Closed bars only, by this clock too (the exchange's forming bar never enters the cache).
      const closed = page.filter((row) => row[0]! >= since && row[0]! + feed.barMs <= now && row[0]! <= untilMs);
      if (closed.length > 0) await upsertCandles(this.#options.db, feed.key, closed);
      if (page.length < pageSize || closed.length === 0) return;
      since = closed.at(-1)![0]! + feed.barMs;
    }
  }

  /** The one ccxt pro client of this process for `exchangeId`, or undefined when ccxt cannot stream its bars. */
  #streamClient(exchangeId: string): Promise<StreamClient | undefined> {
    let client = this.#streamClients.get(exchangeId);
    if (!client) {
      client = (async () => {
        const ccxt = (await import('ccxt')).default;
        const Pro = (ccxt.pro as unknown as Record<string, (new (config: object) => StreamClient) | undefined>)[exchangeId];
        if (!Pro) return undefined;
        const instance = new Pro({
          enableRateLimit: true,
          options: { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, adjustForTimeDifference: false },
        });
        if (!instance.has['watchOHLCV']) return undefined;
        const api = instance.urls['api'] as Record<string, unknown>;
        if (this.#options.apiBaseUrl)
          for (const key of Object.keys(api)) if (typeof api[key] === 'string') api[key] = `${this.#options.apiBaseUrl}/${key}`;
        if (this.#options.wsUrl) {
          api['ws'] = { ...(api['ws'] as object), spot: this.#options.wsUrl };
          await instance.loadHttpProxyAgent(); // ccxt asks for it before it opens a plain ws:// URL
        }
        return instance;
      })();
      this.#streamClients.set(exchangeId, client);
    }
    return client;
  }

  /** The fetcher's stream loop: each delivery's bars kept as pending until a later bar shows they closed. */
  #startStream(feed: Feed): void {
    const streaming = this.#options.streaming ?? (this.#options.apiBaseUrl === undefined || this.#options.wsUrl !== undefined);
    if (!streaming || feed.streaming || this.#stopped) return;
    const holding = () => feed.leased && !this.#stopped && this.#feeds.get(feed.id) === feed;
    feed.streaming = (async () => {
      const client = await this.#streamClient(feed.key.exchange);
      if (!client) return; // no WebSocket for this exchange in ccxt: REST polling only
      let failures = 0;
      while (holding()) {
        let rows: number[][];
        try {
          rows = await client.watchOHLCV(feed.key.symbol, feed.key.timeframe);
        } catch (error) {
          if (!holding()) break;
          // ccxt reconnects on the next watch, here after a backoff (up to a minute: an exchange
          // that cannot be reached is not hammered); REST polling covers the silence meanwhile.
          this.#options.onError?.(feed.key, error);
          await sleepUnlessAborted(Math.min(60_000, (this.#options.stepMs ?? 2_000) * 2 ** failures++), this.#stopping.signal);
          continue;
        }
        failures = 0;
        if (!holding()) break;
        feed.streamedAtMs = this.#now();
        for (const row of rows) feed.pending.set(row[0]!, row.slice(0, 6));
        await this.#flushStream(feed).catch((error: unknown) => this.#options.onError?.(feed.key, error));
      }
      feed.pending.clear();
      // The lease went to another worker (or the feed was let go): stop the subscription; at stop() the client is closed instead.
      if (!this.#stopped) await client.unWatchOHLCV?.(feed.key.symbol, feed.key.timeframe).catch(() => {});
    })().finally(() => (feed.streaming = undefined));
  }

  /** Writes the streamed bars that are final (a later bar has begun), fetching over REST any bar the stream skipped. */
  async #flushStream(feed: Feed): Promise<void> {
    const newestSeen = Math.max(...feed.pending.keys());
    const now = this.#now();
    const closed = [...feed.pending.values()]
      .filter((row) => row[0]! < newestSeen && row[0]! + feed.barMs <= now)
      .sort((a, b) => a[0]! - b[0]!);
    if (closed.length === 0) return;
    for (const row of closed) feed.pending.delete(row[0]!);
    let previous = await this.#newestCachedOpenMs(feed.key);
    const fresh = closed.filter((row) => previous === null || row[0]! > previous);
    for (const row of fresh) {
      // A bar the stream skipped (a reconnection, a lost message): fetched over REST first, so the cache has no hole.
      if (previous !== null && row[0]! > previous + feed.barMs)
        await this.#fetchForward(feed, previous + feed.barMs, now, row[0]! - feed.barMs);
      previous = row[0]!;
    }
    if (feed.leased) await upsertCandles(this.#options.db, feed.key, closed);
  }

  #historyStart(feed: Feed, now: number): number {
    return (Math.floor(now / feed.barMs) - this.#historyBars) * feed.barMs;
  }

  /** On taking a feed: fills holes in its recent history (a fetcher that died mid-page, an outage longer than a page). */
  async #backfill(feed: Feed): Promise<void> {
    const now = this.#now();
    const from = this.#historyStart(feed, now);
    const cached = await loadCachedCandles(this.#options.db, feed.key, { fromMs: from });
    if (cached.length === 0) return; // the first poll fetches the whole history
    if (cached.time[0]! > from) await this.#fetchForward(feed, from, now, cached.time[0]! - feed.barMs);
    for (const gap of detectGaps(cached, feed.barMs)) await this.#fetchForward(feed, gap.after + feed.barMs, now, gap.before - feed.barMs);
  }
}

function firstAtOrAfter(bars: readonly number[][], timeMs: number): number {
  let lo = 0;
  let hi = bars.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bars[mid]![0]! < timeMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The feeds running bots read, with the newest cached bar of each, for `botcriptofy status`:
 * every (exchange, symbol, timeframe) of a running bot (paper bots read Binance's) that has bars
 * in the cache. A pair with none cached is left out: it is either not started yet or traded on
 * the replayed market of the offline demo, which does not use the cache.
 */
export async function readMarketFeedHealth(db: Database, nowMs = Date.now()): Promise<FeedHealth[]> {
  const running = await db
    .select({ symbols: bots.symbols, timeframe: bots.timeframe, exchange: exchangeAccounts.exchange })
    .from(bots)
    .leftJoin(exchangeAccounts, eq(exchangeAccounts.id, bots.exchangeAccountId))
    .where(inArray(bots.status, ['running']));
  const keys = new Map<string, CandleKey>();
  for (const bot of running)
    for (const symbol of bot.symbols) {
      const key = { exchange: bot.exchange ?? 'binance', symbol, timeframe: bot.timeframe };
      keys.set(feedLeaseKey(key), key);
    }
  const out: FeedHealth[] = [];
  for (const key of keys.values()) {
    const [row] = await db
      .select({ newest: sql<Date | string | null>`max(${candles.openTime})` })
      .from(candles)
      .where(and(eq(candles.exchange, key.exchange), eq(candles.symbol, key.symbol), eq(candles.timeframe, key.timeframe)));
    if (!row?.newest) continue;
    out.push(feedHealthAt(key, new Date(row.newest).getTime(), nowMs));
  }
  return out;
}
