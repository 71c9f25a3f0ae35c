import { z } from 'zod';
import { UsageError } from '../../errors/index.ts';
import {
  barsIn,
  CcxtExchange,
  downloadCandles,
  ExchangeRejectedError,
  ExchangeUnavailableError,
  inferTimeframeMs,
  lastClosedBarMs,
  listCachedCandles,
  loadCandles,
  MarketDataUnavailableError,
  msToTimeframe,
  timeframeSchema,
  timeframeToMs,
  upsertCandles,
  type CandleKey,
  type CandleRange,
  type DownloadProgress,
  type DownloadReport,
} from '../../trading/index.ts';
import { withRuntime } from '../open-runtime.ts';
import { formatTable } from '../table.ts';

const DAY_MS = 86_400_000;

/** Options as commander hands them over: strings, checked here (zod), each mistake a usage error (exit 2). */
const exchangeSchema = z.string().regex(/^[a-z][a-z0-9]*$/, { error: 'expected a ccxt exchange id such as binance' });
const pairSchema = z
  .string()
  .transform((text) => text.trim().toUpperCase())
  .pipe(z.string().regex(/^[A-Z0-9]+\/[A-Z0-9]+$/, { error: 'expected a pair such as BTC/USDT' }));
/** A UTC date (2026-01-31) or instant (2026-01-31T12:00:00Z). */
const dateText = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/, { error: 'expected a date such as 2026-01-31' });

function parseOption<T>(schema: z.ZodType<T>, option: string, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UsageError(`${option}: ${parsed.error.issues[0]?.message ?? 'invalid'}, got "${String(value)}"`);
  return parsed.data;
}

function parseList<T>(schema: z.ZodType<T>, option: string, value: string): T[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`${option}: expected a comma-separated list, got "${value}"`);
  return [...new Set(items.map((item) => parseOption(schema, option, item)))];
}

/**
 * A date option in ms. A bare date is midnight UTC as a start; as an end (`--to`, `--until`) it
 * means the whole day, so `--to 2026-03-31` includes March 31st's bars.
 */
export function parseDateOption(option: string, value: string, end: 'start' | 'end'): number {
  const text = parseOption(dateText, option, value);
  const dateOnly = text.length === 10;
  const ms = new Date(dateOnly ? `${text}T00:00:00Z` : /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text}Z` : text).getTime();
  if (Number.isNaN(ms)) throw new UsageError(`${option}: not a real date, got "${value}"`);
  return dateOnly && end === 'end' ? ms + DAY_MS - 1 : ms;
}

const iso = (ms: number | null) => (ms === null ? '–' : new Date(ms).toISOString().replace(':00.000Z', 'Z').replace('T', ' '));
const count = (n: number) => n.toLocaleString('en-US');

export interface DataDownloadOptions {
  exchange: string;
  pairs: string;
  timeframes: string;
  days?: string;
  since?: string;
  until?: string;
  /** Test seam: the exchange's REST base URL (a scripted exchange on loopback). */
  apiUrl?: string;
  json?: boolean;
}

/** Jobs run side by side: the exchange client's rate limiter (shared) paces them; this only overlaps the waits. */
const PARALLEL_JOBS = 3;

/**
 * `data download`: every pair × timeframe's missing bars in the range, into the candle cache.
 * A rerun fetches only what is still missing; Ctrl-C stops before the next request and keeps
 * what was stored.
 */
export async function dataDownloadCommand(options: DataDownloadOptions): Promise<void> {
  const exchangeId = parseOption(exchangeSchema, '--exchange', options.exchange);
  const pairs = parseList(pairSchema, '--pairs', options.pairs);
  const timeframes = parseList(timeframeSchema, '--timeframes', options.timeframes);
  if (options.days !== undefined && options.since !== undefined)
    throw new UsageError('--days and --since both say where to start: give one');
  const days = options.days === undefined ? 30 : parseOption(z.coerce.number().int().min(1).max(36_500), '--days', options.days);
  const nowMs = Date.now();
  const fromMs = options.since === undefined ? nowMs - days * DAY_MS : parseDateOption('--since', options.since, 'start');
  const untilMs = options.until === undefined ? nowMs : parseDateOption('--until', options.until, 'end');
  if (fromMs > Math.min(untilMs, nowMs))
    throw new UsageError(`nothing to download: the range starts ${new Date(fromMs).toISOString()}, after it ends`);
  const apiUrl = options.apiUrl === undefined ? undefined : parseOption(z.url(), '--api-url', options.apiUrl);
  const ccxt = (await import('ccxt')).default;
  if (!ccxt.exchanges.includes(exchangeId))
    throw new UsageError(`--exchange: ccxt knows no exchange "${exchangeId}" (e.g. binance, kraken, okx)`);
  // Public market data only: no keys, and `live` means the exchange itself rather than its testnet, whose candles are not the market's.
  const source = new CcxtExchange({ exchangeId, live: true, ...(apiUrl ? { apiBaseUrl: apiUrl } : {}) });
  for (const symbol of pairs) {
    try {
      await source.marketRules(symbol);
    } catch (error) {
      if (error instanceof ExchangeRejectedError) throw new UsageError(`--pairs: ${exchangeId} has no market ${symbol}`);
      if (error instanceof ExchangeUnavailableError)
        throw new MarketDataUnavailableError(`${exchangeId} did not answer: ${error.message}`, { cause: error });
      throw error;
    }
  }

  const jobs = pairs.flatMap((symbol) =>
    timeframes.map((timeframe) => {
      const barMs = timeframeToMs(timeframe);
      const range: CandleRange = { fromMs, toMs: Math.min(untilMs, lastClosedBarMs(nowMs, barMs)) };
      return { key: { exchange: exchangeId, symbol, timeframe } satisfies CandleKey, range };
    }),
  );
  const board =
    process.stderr.isTTY && !options.json
      ? new ProgressBoard(
          jobs.map((job) => `${job.key.symbol} ${job.key.timeframe}`),
          process.stderr,
        )
      : undefined;
  const abort = new AbortController();
  // The first Ctrl-C lets the requests in flight finish and be stored; a second one (Node's default again) quits at once.
  const onSignal = () => {
    console.error('Stopping: the pages in flight are stored, no other is asked for (Ctrl-C again to quit at once).');
    abort.abort();
  };
  process.once('SIGINT', onSignal);

  await withRuntime(async ({ database }) => {
    const reports: (DownloadReport | undefined)[] = new Array(jobs.length);
    let failure: unknown;
    let next = 0;
    const worker = async () => {
      while (next < jobs.length && failure === undefined && !abort.signal.aborted) {
        const index = next++;
        const job = jobs[index]!;
        try {
          const report = await downloadCandles(database.db, source, job.key, job.range, {
            signal: abort.signal,
            ...(board ? { onProgress: (progress: DownloadProgress) => board.update(index, progress) } : {}),
          });
          reports[index] = report;
          board?.finish(index, report);
          if (!board && !options.json) console.log(reportLine(report));
        } catch (error) {
          // The first failure stops the other jobs (each stores its page in flight) and is the one reported.
          if (failure !== undefined) return;
          failure =
            error instanceof ExchangeRejectedError
              ? new UsageError(`${exchangeId} refused ${job.key.symbol} ${job.key.timeframe}: ${error.message}`)
              : error;
          abort.abort();
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(PARALLEL_JOBS, jobs.length) }, worker));
    } finally {
      process.removeListener('SIGINT', onSignal);
    }
    if (failure !== undefined) throw failure;
    const done = reports.filter((report): report is DownloadReport => report !== undefined);
    if (options.json) {
      console.log(
        JSON.stringify({
          exchange: exchangeId,
          from: new Date(fromMs).toISOString(),
          interrupted: abort.signal.aborted,
          jobs: done.map(({ key, range, missingBars, requests, storedCandles, interrupted, cached: { firstMs, lastMs, ...cached } }) => ({
            symbol: key.symbol,
            timeframe: key.timeframe,
            to: new Date(range.toMs).toISOString(),
            missingBefore: missingBars,
            requests,
            storedCandles,
            interrupted,
            cached: {
              ...cached,
              first: firstMs === null ? null : new Date(firstMs).toISOString(),
              last: lastMs === null ? null : new Date(lastMs).toISOString(),
            },
          })),
          storedCandles: done.reduce((sum, report) => sum + report.storedCandles, 0),
          requests: done.reduce((sum, report) => sum + report.requests, 0),
        }),
      );
    }
    if (abort.signal.aborted) {
      console.error('Interrupted: every page already fetched is stored; run the same command again to fetch the rest.');
      process.exitCode = 130;
    }
  });
}

function reportLine(report: DownloadReport): string {
  const { key, cached } = report;
  const holes =
    cached.gaps === 0
      ? 'no gaps'
      : `${count(cached.missingBars)} bars missing in ${cached.gaps} gap${cached.gaps === 1 ? '' : 's'} (the exchange has none there)`;
  const fetched =
    report.missingRanges.length === 0
      ? 'already cached'
      : `${count(report.storedCandles)} candles fetched in ${report.requests} request${report.requests === 1 ? '' : 's'}${report.interrupted ? ' (interrupted)' : ''}`;
  return `${key.symbol} ${key.timeframe}: ${fetched}; cached ${iso(cached.firstMs)} → ${iso(cached.lastMs)}, ${count(cached.candles)} candles, ${holes}`;
}

/** One progress bar per pair and timeframe on a terminal, redrawn in place (cursor up, clear line). */
export class ProgressBoard {
  private readonly labels: readonly string[];
  private readonly lines: string[];
  private readonly terminal: { write(text: string): unknown; readonly columns?: number };
  private drawn = false;
  constructor(labels: readonly string[], terminal: { write(text: string): unknown; readonly columns?: number }) {
    this.terminal = terminal;
    const width = Math.max(...labels.map((label) => label.length));
    this.labels = labels.map((label) => label.padEnd(width));
    this.lines = this.labels.map((label) => `${label}  ${bar(0)}   0 %  waiting`);
    this.draw();
  }

  update(index: number, progress: DownloadProgress): void {
    const fraction = progress.missingBars === 0 ? 1 : progress.coveredBars / progress.missingBars;
    this.lines[index] =
      `${this.labels[index]}  ${bar(fraction)} ${String(Math.floor(fraction * 100)).padStart(3)} %  ${count(progress.storedCandles)} candles, ${progress.requests} request${progress.requests === 1 ? '' : 's'}`;
    this.draw();
  }

  finish(index: number, report: DownloadReport): void {
    this.lines[index] =
      `${this.labels[index]}  ${bar(1)} 100 %  ${reportLine(report).slice(report.key.symbol.length + report.key.timeframe.length + 3)}`;
    this.draw();
  }

  /** Each line is cut to the terminal's width: a wrapped line would break the move back up. */
  private draw(): void {
    const columns = this.terminal.columns || 120;
    const up = this.drawn ? `\x1b[${this.lines.length}A` : '';
    this.terminal.write(up + this.lines.map((line) => `\r\x1b[2K${line.slice(0, columns - 1)}\n`).join(''));
    this.drawn = true;
  }
}

function bar(fraction: number): string {
  const width = 24;
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** `data list`: what the candle cache holds, per exchange, pair and timeframe. */
export async function dataListCommand(options: { exchange?: string; pair?: string; timeframe?: string; json?: boolean }): Promise<void> {
  const filter = {
    ...(options.exchange === undefined ? {} : { exchange: parseOption(exchangeSchema, '--exchange', options.exchange) }),
    ...(options.pair === undefined ? {} : { symbol: parseOption(pairSchema, '--pair', options.pair) }),
    ...(options.timeframe === undefined ? {} : { timeframe: parseOption(timeframeSchema, '--timeframe', options.timeframe) }),
  };
  await withRuntime(async ({ database }) => {
    const sets = await listCachedCandles(database.db, filter);
    if (options.json) {
      console.log(
        JSON.stringify(
          sets.map(({ firstMs, lastMs, ...set }) => ({
            ...set,
            first: new Date(firstMs).toISOString(),
            last: new Date(lastMs).toISOString(),
          })),
        ),
      );
      return;
    }
    if (sets.length === 0) {
      console.log(
        'The candle cache is empty. Fill it with `botcriptofy data download --pairs BTC/USDT --timeframes 5m --days 30` or `data import FILE --pair BTC/USDT --timeframe 5m`.',
      );
      return;
    }
    console.log(
      formatTable(
        ['EXCHANGE', 'PAIR', 'TIMEFRAME', 'FIRST', 'LAST', 'CANDLES', 'GAPS', 'MISSING BARS'],
        sets.map((set) => [
          set.exchange,
          set.symbol,
          set.timeframe,
          iso(set.firstMs),
          iso(set.lastMs),
          count(set.candles),
          String(set.gaps),
          count(set.missingBars),
        ]),
        (column) => column >= 5,
      ),
    );
  });
}

/**
 * `data import FILE`: a candle file (CSV or freqtrade JSON, read by the byte-level loader) into
 * the cache under an exchange, pair and timeframe. Bars already cached at the same times are
 * replaced by the file's.
 */
export async function dataImportCommand(
  file: string,
  options: { pair: string; timeframe: string; exchange: string; json?: boolean },
): Promise<void> {
  const key: CandleKey = {
    exchange: parseOption(exchangeSchema, '--exchange', options.exchange),
    symbol: parseOption(pairSchema, '--pair', options.pair),
    timeframe: parseOption(timeframeSchema, '--timeframe', options.timeframe),
  };
  // The file's own binary cache is not written: an import reads the file once.
  const { series } = loadCandles(file, { cacheDir: null });
  const barMs = timeframeToMs(key.timeframe);
  const spacingMs = series.length > 1 ? inferTimeframeMs(series) : undefined;
  if (spacingMs !== undefined && spacingMs !== barMs) {
    throw new UsageError(
      `${file} holds ${msToTimeframe(spacingMs) ?? `${spacingMs} ms`} bars, not ${key.timeframe}: pass --timeframe ${msToTimeframe(spacingMs) ?? '…'}`,
    );
  }
  const offGrid = series.time.findIndex((time) => time % barMs !== 0 && barMs <= DAY_MS);
  if (offGrid !== -1)
    throw new UsageError(
      `${file}: bar ${offGrid + 1} opens at ${new Date(series.time[offGrid]!).toISOString()}, not on the ${key.timeframe} grid`,
    );
  await withRuntime(async ({ database }) => {
    const chunk = 5_000;
    for (let start = 0; start < series.length; start += chunk) {
      const rows: number[][] = [];
      for (let i = start; i < Math.min(series.length, start + chunk); i++) {
        rows.push([series.time[i]!, series.open[i]!, series.high[i]!, series.low[i]!, series.close[i]!, series.volume[i]!]);
      }
      await upsertCandles(database.db, key, rows);
    }
    const range = { fromMs: series.time[0]!, toMs: series.time[series.length - 1]! };
    const [cached] = await listCachedCandles(database.db, { ...key, range });
    const summary = {
      ...key,
      file,
      imported: series.length,
      first: new Date(range.fromMs).toISOString(),
      last: new Date(range.toMs).toISOString(),
      gaps: cached?.gaps ?? 0,
      missingBars: cached?.missingBars ?? 0,
      expectedBars: barsIn(range, barMs),
    };
    if (options.json) console.log(JSON.stringify(summary));
    else {
      console.log(
        `Imported ${count(series.length)} candles of ${key.symbol} ${key.timeframe} (${key.exchange}) from ${file}: ${iso(range.fromMs)} → ${iso(range.toMs)}` +
          (summary.gaps
            ? `, ${count(summary.missingBars)} bars missing in ${summary.gaps} gaps (\`data download\` fills what the exchange has)`
            : ', no gaps'),
      );
    }
  });
}
