import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import { INTERRUPTED_BACKTEST_ERROR, queueBacktest, recoverStaleBacktests } from '../../trading/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

// A backtest queued over the API lives as a job in the memory of the process that took the
// request; when that process stops, the schedule `backtest-recovery` (cli/company-worker.ts)
// finds what it left: still queued → run by the recovering worker, left running → failed, and
// the trader told either way. A fresh one is left to its own process.

const NOW = new Date('2026-12-02T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

describe.each(testDrivers)('backtests left behind by a stopped process, on %s', (driver) => {
  let test: TestDatabase;
  let tenantId: string;
  let userId: string;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    tenantId = crypto.randomUUID();
    await test.handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'recovery' });
    const [user] = await test.handle.db
      .insert(db.users)
      .values({ tenantId, email: 'recovery@example.com', name: 'Rita', locale: 'pt-BR' })
      .returning();
    userId = user!.id;
  });
  afterAll(() => test?.dispose());

  const queued = (createdAt: Date) =>
    queueBacktest(
      test.handle.db,
      db.tenantScope(tenantId),
      {
        strategy: 'rsi',
        parameters: {},
        symbol: 'BTC/USDT',
        timeframe: '1h',
        rangeStart: new Date('2025-01-01T00:00:00Z'),
        rangeEnd: new Date('2025-02-01T00:00:00Z'),
        feeRate: 0.001,
        startingCash: 10_000,
        requestedByUserId: userId,
      },
      createdAt,
    );
  const statusOf = async (id: string) => (await test.handle.db.select().from(db.backtests).where(eq(db.backtests.id, id)))[0]!;

  it('runs one still queued after 2 minutes, fails one left running after 30, and leaves fresh ones alone', async () => {
    const lost = await queued(minutesAgo(5));
    const fresh = await queued(minutesAgo(1));
    const abandoned = await queued(minutesAgo(45));
    await test.handle.db.update(db.backtests).set({ status: 'running' }).where(eq(db.backtests.id, abandoned));
    const stillRunning = await queued(minutesAgo(10));
    await test.handle.db.update(db.backtests).set({ status: 'running' }).where(eq(db.backtests.id, stillRunning));

    expect(await recoverStaleBacktests(test.handle.db, { now: () => NOW })).toEqual({ rerun: 1, interrupted: 1 });

    // Run here: no candles are cached in this database, so it ends failed with the run's own reason.
    expect(await statusOf(lost)).toMatchObject({ status: 'failed', error: 'No candles to backtest' });
    expect(await statusOf(abandoned)).toMatchObject({ status: 'failed', error: INTERRUPTED_BACKTEST_ERROR, finishedAt: NOW });
    expect((await statusOf(fresh)).status).toBe('queued');
    expect((await statusOf(stillRunning)).status).toBe('running');

    // The trader hears of both (backtest_finished: Telegram and the web events stream).
    const told = await test.handle.db.select().from(db.notifications).where(eq(db.notifications.type, 'backtest_finished'));
    expect(told.map((n) => (n.payload as { backtestId: string }).backtestId).sort()).toEqual([lost, abandoned].sort());

    // A second pass finds nothing more to do.
    expect(await recoverStaleBacktests(test.handle.db, { now: () => NOW })).toEqual({ rerun: 0, interrupted: 0 });
  });
});
