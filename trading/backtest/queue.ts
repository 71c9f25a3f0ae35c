import { and, asc, eq, lt } from 'drizzle-orm';
import { backtestResults, backtests, type Database, type TenantScope } from '../../db/index.ts';
import { loadCandleRange } from '../market-data/range-cache.ts';
import { loadCachedCandles } from '../market-data/store.ts';
import { getStrategy } from '../strategies/index.ts';
import { backtestMetrics, runBacktest, type BacktestResult } from './engine.ts';
import { loadBacktestUpload } from './uploads.ts';
import { numberToDecimal } from '../../i18n/index.ts';
import { enqueueNotification } from '../../notifications/index.ts';

// A backtest asked for over the API runs as a job: the request stores it `queued` (so the
// plan's daily quota counts it at once), a job runs it on the candle cache and stores the
// result (`succeeded`) or why not (`failed`). A job run twice (a retry, two workers) runs it once.

export interface QueuedBacktestInput {
  readonly strategy: string;
  readonly parameters: Record<string, number>;
  readonly symbol: string;
  readonly timeframe: string;
  readonly rangeStart: Date;
  readonly rangeEnd: Date;
  readonly feeRate: number;
  readonly startingCash: number;
  readonly requestedByUserId?: string | undefined;
}

/** Stores a backtest to run (status `queued`) in the tenant's account; its id. */
export async function queueBacktest(db: Database, scope: TenantScope, input: QueuedBacktestInput, now: Date): Promise<string> {
  const [row] = await db
    .insert(backtests)
    .values({
      tenantId: scope.tenantId,
      requestedByUserId: input.requestedByUserId ?? null,
      strategyName: input.strategy,
      parameters: input.parameters,
      symbol: input.symbol,
      timeframe: input.timeframe,
      rangeStart: input.rangeStart,
      rangeEnd: input.rangeEnd,
      feeRate: String(input.feeRate),
      startingCashQuote: String(input.startingCash),
      status: 'queued',
      createdAt: now,
    })
    .returning({ id: backtests.id });
  return row!.id;
}

/** The result's figures and lists as stored beside a finished backtest. */
export function backtestResultRow(backtestId: string, tenantId: string, result: BacktestResult, elapsedMs: number) {
  return {
    backtestId,
    tenantId,
    candles: result.candles,
    closedTrades: result.trades,
    finalEquityQuote: String(result.finalEquity),
    totalReturnPct: String(result.totalReturnPct),
    maxDrawdownPct: String(result.maxDrawdownPct),
    winRatePct: result.winRatePct === null ? null : String(result.winRatePct),
    profitFactor: result.profitFactor === null ? null : String(result.profitFactor),
    sharpe: result.sharpe === null ? null : String(result.sharpe),
    exposurePct: String(result.exposurePct),
    metrics: { ...backtestMetrics(result) },
    tradeList: result.tradeList,
    equityCurve: result.equityCurve,
    elapsedMs: Math.round(elapsedMs),
  };
}

export type QueuedBacktestOutcome = 'succeeded' | 'failed' | 'not_queued';

/**
 * Runs a queued backtest on the cached candles of its range (exchange binance) and stores the
 * outcome. `not_queued`: another run took it already (or it does not exist), nothing done.
 */
export async function runQueuedBacktest(
  db: Database,
  backtestId: string,
  now: () => Date = () => new Date(),
): Promise<QueuedBacktestOutcome> {
  const [claimed] = await db
    .update(backtests)
    .set({ status: 'running' })
    .where(and(eq(backtests.id, backtestId), eq(backtests.status, 'queued')))
    .returning();
  if (!claimed) return 'not_queued';
  try {
    // Candles the trader uploaded for it (POST /backtests with a CSV), or the cached range.
    const series =
      (await loadBacktestUpload(db, claimed.id)) ??
      (claimed.rangeStart && claimed.rangeEnd
        ? // A range asked for again (by this trader or another) is read from memory while its bars are unchanged.
          await loadCandleRange(
            db,
            { exchange: 'binance', symbol: claimed.symbol, timeframe: claimed.timeframe },
            { fromMs: claimed.rangeStart.getTime(), toMs: claimed.rangeEnd.getTime() },
          )
        : await loadCachedCandles(
            db,
            { exchange: 'binance', symbol: claimed.symbol, timeframe: claimed.timeframe },
            { fromMs: claimed.rangeStart?.getTime(), toMs: claimed.rangeEnd?.getTime() },
          ));
    const strategy = getStrategy(claimed.strategyName);
    const parameters = claimed.parameters as Record<string, number>;
    if (series.length <= strategy.warmupBars(parameters))
      throw new Error(`Not enough cached ${claimed.timeframe} candles of ${claimed.symbol} in the range (have ${series.length}).`);
    const started = performance.now();
    const result = runBacktest(series, strategy, parameters, {
      feeRate: Number(claimed.feeRate),
      startingCash: Number(claimed.startingCashQuote),
    });
    const elapsedMs = performance.now() - started;
    await db.transaction(async (tx) => {
      await tx.insert(backtestResults).values(backtestResultRow(claimed.id, claimed.tenantId, result, elapsedMs));
      await tx.update(backtests).set({ status: 'succeeded', finishedAt: now() }).where(eq(backtests.id, claimed.id));
      await notifyFinished(tx, claimed, {
        status: 'succeeded',
        totalReturnPct: numberToDecimal(result.totalReturnPct, 4),
        trades: result.trades,
      });
    });
    return 'succeeded';
  } catch (error) {
    const message = (error as Error).message;
    await db.transaction(async (tx) => {
      await tx.update(backtests).set({ status: 'failed', error: message, finishedAt: now() }).where(eq(backtests.id, claimed.id));
      await notifyFinished(tx, claimed, { status: 'failed', error: message.slice(0, 1000) });
    });
    return 'failed';
  }
}

/** The person who queued the backtest is told it finished (`backtest_finished`: the web events stream, Telegram). */
async function notifyFinished(
  db: Database,
  backtest: typeof backtests.$inferSelect,
  outcome: { status: 'succeeded'; totalReturnPct: string; trades: number } | { status: 'failed'; error: string },
): Promise<void> {
  if (!backtest.requestedByUserId) return;
  await enqueueNotification(db, {
    tenantId: backtest.tenantId,
    to: { userId: backtest.requestedByUserId },
    type: 'backtest_finished',
    payload: {
      backtestId: backtest.id,
      strategy: backtest.strategyName,
      symbol: backtest.symbol,
      timeframe: backtest.timeframe,
      ...outcome,
    },
    dedupeKey: `backtest_finished:${backtest.id}`,
  });
}

/** Why a backtest left `running` by a stopped process failed (the trader is told, and may submit it again). */
export const INTERRUPTED_BACKTEST_ERROR = 'Interrupted: the server running it stopped before it finished; submit it again.';

/**
 * Backtests a stopped process left behind (its in-memory job gone): one still `queued` after
 * `queuedForMs` is run here (at most `max` a call, oldest first; the claim in runQueuedBacktest
 * keeps a live process from running it too), one still `running` after `runningForMs` fails
 * with INTERRUPTED_BACKTEST_ERROR. Times are from `created_at` (a backtest runs in seconds).
 */
export async function recoverStaleBacktests(
  db: Database,
  options: { now: () => Date; queuedForMs?: number; runningForMs?: number; max?: number },
): Promise<{ rerun: number; interrupted: number }> {
  const at = options.now().getTime();
  const interrupted = await db
    .update(backtests)
    .set({ status: 'failed', error: INTERRUPTED_BACKTEST_ERROR, finishedAt: options.now() })
    .where(and(eq(backtests.status, 'running'), lt(backtests.createdAt, new Date(at - (options.runningForMs ?? 30 * 60_000)))))
    .returning();
  for (const backtest of interrupted) await notifyFinished(db, backtest, { status: 'failed', error: INTERRUPTED_BACKTEST_ERROR });
  const lost = await db
    .select({ id: backtests.id })
    .from(backtests)
    .where(and(eq(backtests.status, 'queued'), lt(backtests.createdAt, new Date(at - (options.queuedForMs ?? 2 * 60_000)))))
    .orderBy(asc(backtests.createdAt))
    .limit(options.max ?? 5);
  let rerun = 0;
  for (const { id } of lost) if ((await runQueuedBacktest(db, id, options.now)) !== 'not_queued') rerun++;
  return { rerun, interrupted: interrupted.length };
}
