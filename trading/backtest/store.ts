import { and, desc, eq, gte, sql } from 'drizzle-orm';
import { assertTenantScope, backtestResults, backtests, getScoped, type Database, type TenantScope } from '../../db/index.ts';
import type { BacktestResult } from './engine.ts';
import { backtestResultRow } from './queue.ts';

export interface BacktestRecordInput {
  readonly symbol: string;
  readonly timeframe: string;
  readonly feeRate: number;
  readonly requestedByUserId?: string;
  readonly result: BacktestResult;
  readonly elapsedMs: number;
  readonly rangeStart?: Date;
  readonly rangeEnd?: Date;
}

/** Stores a finished backtest (request and result together, or neither) for the tenant. */
export async function saveBacktest(db: Database, scope: TenantScope, input: BacktestRecordInput): Promise<string> {
  const { result } = input;
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(backtests)
      .values({
        tenantId: scope.tenantId,
        requestedByUserId: input.requestedByUserId ?? null,
        strategyName: result.strategy,
        parameters: result.parameters,
        symbol: input.symbol,
        timeframe: input.timeframe,
        rangeStart: input.rangeStart ?? null,
        rangeEnd: input.rangeEnd ?? null,
        feeRate: String(input.feeRate),
        startingCashQuote: String(result.startingCash),
        status: 'succeeded',
        finishedAt: new Date(),
      })
      .returning({ id: backtests.id });
    await tx.insert(backtestResults).values(backtestResultRow(row!.id, scope.tenantId, result, input.elapsedMs));
    return row!.id;
  });
}

/** A stored backtest with its result, only if it belongs to the scope's tenant. */
export async function getBacktest(db: Database, scope: TenantScope, backtestId: string) {
  const backtest = await getScoped(db, scope, backtests, backtestId);
  if (!backtest) return undefined;
  const [result] = await db.select().from(backtestResults).where(eq(backtestResults.backtestId, backtest.id));
  return { backtest, result };
}

/**
 * The newest backtest of the tenant with these settings stored since `since`, with its figures
 * (a request that ran it already, before a crash, finds it again).
 */
export async function findRecentBacktest(
  db: Database,
  scope: TenantScope,
  settings: {
    readonly strategy: string;
    readonly symbol: string;
    readonly timeframe: string;
    readonly parameters: Record<string, number>;
    readonly since: Date;
  },
): Promise<
  { id: string; candles: number; trades: number; totalReturnPct: string; maxDrawdownPct: string; winRatePct: string | null } | undefined
> {
  assertTenantScope(scope);
  const [stored] = await db
    .select({
      id: backtests.id,
      candles: backtestResults.candles,
      trades: backtestResults.closedTrades,
      totalReturnPct: backtestResults.totalReturnPct,
      maxDrawdownPct: backtestResults.maxDrawdownPct,
      winRatePct: backtestResults.winRatePct,
    })
    .from(backtests)
    .innerJoin(backtestResults, eq(backtestResults.backtestId, backtests.id))
    .where(
      and(
        eq(backtests.tenantId, scope.tenantId),
        eq(backtests.strategyName, settings.strategy),
        eq(backtests.symbol, settings.symbol),
        eq(backtests.timeframe, settings.timeframe),
        gte(backtests.createdAt, settings.since),
        sql`${backtests.parameters} = ${JSON.stringify(settings.parameters)}::jsonb`,
      ),
    )
    .orderBy(desc(backtests.createdAt))
    .limit(1);
  return stored;
}
