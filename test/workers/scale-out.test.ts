import crypto from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock/index.ts';
import * as db from '../../db/index.ts';
import { queryRows } from '../../db/index.ts';
import { createLogger } from '../../observability/index.ts';
import { StaleOwnerError } from '../../trading/index.ts';
import { BotWorker, LocalBotLocks, RedisBotLocks } from '../../workers/index.ts';
import { createTestDatabase, realPostgresAvailable, type TestDatabase } from '../support/databases.ts';
import { fencedPaperRunner, seedPaperBots } from '../support/paper-bots.ts';
import { REDIS_URL, redisAvailable } from '../support/redis.ts';
import { HOUR, syntheticMarket } from '../support/synthetic-market.ts';

const CHILD = fileURLToPath(new URL('../support/worker-child.ts', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const silent = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);
const ready = !realPostgresAvailable || !redisAvailable ? 'needs PostgreSQL and Redis on 127.0.0.1' : '';
if (ready) console.log(`scale-out tests skipped: ${ready}`);

describe.skipIf(ready !== '')('bot ticks across worker processes (PostgreSQL + Redis)', () => {
  const databases: TestDatabase[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const test of databases) await test.dispose();
  });

  it('three workers, 200 paper bots: each tick once per interval, none lost to a SIGKILLed worker beyond its lock TTL, no order twice', async () => {
    const test = await createTestDatabase('postgres');
    databases.push(test);
    await seedPaperBots(test.handle.db, 200);
    const intervalMs = 1_000;
    const ttlMs = 3_000;
    const prefix = `bcf-scale-${crypto.randomUUID().slice(0, 8)}`;
    const ids = [0, 1, 2].map((i) => `w${i}-${crypto.randomUUID().slice(0, 6)}`);
    const start = (id: string) =>
      new Promise<ChildProcess>((resolve, reject) => {
        const child = spawn(process.execPath, [CHILD], {
          // From bar 65 of the replayed market: its first RSI entries fall inside the 30 slots.
          env: {
            ...process.env,
            DATABASE_URL: test.url!,
            REDIS_URL,
            PREFIX: prefix,
            INTERVAL_MS: String(intervalMs),
            TTL_MS: String(ttlMs),
            WORKER_ID: id,
            START_BAR: '65',
          },
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        children.push(child);
        child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve(child));
        child.on('error', reject);
      });
    const workers = await Promise.all(ids.map(start));
    // The first slot is chosen once every worker has loaded, so a slow start cannot eat into the slots.
    const t0 = (Math.floor(Date.now() / intervalMs) + 2) * intervalMs;
    for (const worker of workers) worker.stdin!.write(`start ${t0}\n`);

    // Run 10 slots, kill the busiest worker without warning, run to 30 slots, stop the others gracefully.
    const killSlot = 10;
    const slots = 30;
    await sleep(t0 - Date.now() + killSlot * intervalMs);
    const [busiest] = await queryRows<{ worker_id: string; bots: number }>(
      test.handle.db,
      sql`select worker_id, count(distinct bot_id)::int as bots from bot_ticks group by worker_id order by 2 desc limit 1`,
    );
    const victim = ids.indexOf(busiest!.worker_id);
    expect(busiest!.bots).toBeGreaterThan(30);
    const killedAt = Date.now();
    workers[victim]!.kill('SIGKILL');
    await sleep(t0 + slots * intervalMs - Date.now());
    const survivors = workers.filter((_, i) => i !== victim);
    for (const child of survivors) child.kill('SIGTERM');
    await Promise.all(survivors.map((child) => new Promise((resolve) => child.on('close', resolve))));

    const perBot = await queryRows<{ bot_id: string; ticks: number; first: string; last: string; workers: number }>(
      test.handle.db,
      sql`select bot_id, count(*)::int as ticks, min(slot_at)::text as first, max(slot_at)::text as last, count(distinct worker_id)::int as workers from bot_ticks where slot_at >= ${new Date(t0).toISOString()}::timestamptz group by bot_id`,
    );
    expect(perBot).toHaveLength(200);
    // Missed slots: only the killed worker's bots, only until their locks lapsed and were taken.
    const maxGap = Math.ceil((ttlMs + 3 * intervalMs) / intervalMs);
    for (const row of perBot) {
      expect(row.ticks, row.bot_id).toBeGreaterThanOrEqual(slots - 10);
      expect(row.ticks, row.bot_id).toBeLessThanOrEqual(slots + 1);
    }
    const gaps = await queryRows<{ bot_id: string; gap: number }>(
      test.handle.db,
      sql`select bot_id, max(gap)::int as gap from (select bot_id, (extract(epoch from slot_at - lag(slot_at) over (partition by bot_id order by slot_at)) * 1000 / ${intervalMs})::int as gap from bot_ticks where slot_at >= ${new Date(t0).toISOString()}::timestamptz) g group by bot_id`,
    );
    for (const row of gaps) expect(row.gap ?? 1, row.bot_id).toBeLessThanOrEqual(maxGap);
    // The killed worker's bots were taken over by the others (a new epoch each).
    const victimBots = await queryRows<{ bot_id: string }>(
      test.handle.db,
      sql`select distinct bot_id from bot_ticks where worker_id = ${ids[victim]!}`,
    );
    const after = await queryRows<{ bot_id: string }>(
      test.handle.db,
      sql`select distinct bot_id from bot_ticks where worker_id <> ${ids[victim]!} and slot_at > ${new Date(killedAt + ttlMs + 3 * intervalMs).toISOString()}::timestamptz`,
    );
    const continued = new Set(after.map((row) => row.bot_id));
    for (const { bot_id } of victimBots) expect(continued.has(bot_id), bot_id).toBe(true);
    const epochs = await queryRows<{ n: number }>(test.handle.db, sql`select count(*)::int as n from bots where owner_epoch > 1`);
    expect(epochs[0]!.n).toBeGreaterThanOrEqual(victimBots.length);
    // No order twice: one row per client order id, in our books and at the (paper) exchange.
    const duplicates = await queryRows<{ n: number }>(
      test.handle.db,
      sql`select count(*)::int as n from (select bot_id, client_order_id from paper_orders group by 1, 2 having count(*) > 1) d`,
    );
    expect(duplicates[0]!.n).toBe(0);
    const orders = await queryRows<{ n: number }>(test.handle.db, sql`select count(*)::int as n from orders`);
    expect(orders[0]!.n).toBeGreaterThan(0);
    expect(Date.now() - killedAt).toBeGreaterThan(ttlMs);
  }, 120_000);

  it('a worker that lost its lock stops acting at once (fencing)', async () => {
    const test = await createTestDatabase('postgres');
    databases.push(test);
    const [botId] = await seedPaperBots(test.handle.db, 1);
    const prefix = `bcf-fence-${crypto.randomUUID().slice(0, 8)}`;
    const replay = syntheticMarket(40);
    const runnerFor = fencedPaperRunner(test.handle.db, replay);
    const lost: string[] = [];
    // The TTL leaves a loaded machine 2 s between B's round and A's (B's lock must still hold).
    const ttlMs = 2_000;
    const a = new BotWorker({
      db: test.handle.db,
      locks: new RedisBotLocks({ url: REDIS_URL, workerId: 'a', ttlMs, prefix }),
      workerId: 'a',
      intervalMs: 1000,
      lockTtlMs: ttlMs,
      logger: silent,
      runnerFor,
      onLost: (id) => lost.push(id),
    });
    const b = new BotWorker({
      db: test.handle.db,
      locks: new RedisBotLocks({ url: REDIS_URL, workerId: 'b', ttlMs, prefix }),
      workerId: 'b',
      intervalMs: 1000,
      lockTtlMs: ttlMs,
      logger: silent,
      runnerFor,
    });
    replay.now = 41 * HOUR;
    expect(await a.round(1_000_000)).toEqual({ ticked: 1, skipped: 0 });
    // A stalls (no heartbeat) past its TTL; B takes the bot with a new epoch.
    await sleep(ttlMs + 200);
    replay.now = 42 * HOUR;
    expect(await b.round(1_001_000)).toEqual({ ticked: 1, skipped: 0 });
    // A wakes up for the next slot: it renews, finds the lock gone, and does nothing.
    replay.now = 43 * HOUR;
    expect(await a.round(1_002_000)).toEqual({ ticked: 0, skipped: 0 });
    expect(lost).toEqual([botId]);
    // Even a runner kept by mistake is refused by the epoch check.
    const [row] = await test.handle.db.select().from(db.bots);
    const stale = await runnerFor(row!, row!.ownerEpoch - 1);
    await expect(stale.tick(row!)).rejects.toBeInstanceOf(StaleOwnerError);
    const ticks = await queryRows<{ worker_id: string }>(test.handle.db, sql`select worker_id from bot_ticks order by slot_at`);
    expect(ticks.map((t) => t.worker_id)).toEqual(['a', 'b']);
    await a.stop();
    await b.stop();
  });
});

describe('stopping a worker whose ticks hang (an exchange that never answers)', () => {
  it('gives the round in progress its grace period and starts no further tick', async () => {
    const test = await createTestDatabase('pglite');
    try {
      await seedPaperBots(test.handle.db, 4);
      let started = 0;
      let tickStarted!: () => void;
      const firstTick = new Promise<void>((resolve) => {
        tickStarted = resolve;
      });
      const hanging = {
        tick: () => {
          started += 1;
          tickStarted();
          return new Promise<never>(() => {});
        },
      };
      const worker = new BotWorker({
        db: test.handle.db,
        locks: new LocalBotLocks(),
        workerId: 'w',
        intervalMs: 60_000,
        lockTtlMs: 30_000,
        concurrency: 1,
        logger: silent,
        runnerFor: async () => hanging as never,
      });
      void worker.round(Date.now());
      await firstTick;
      await worker.stop(20); // returns although the tick never will
      expect(started).toBe(1); // one lane, stopping: the other three bots were not ticked
    } finally {
      await test.dispose();
    }
  });
});

describe('a worker on a clock moved by the test', () => {
  it('ticks every bot once per slot at the slot instant, and jumps to the current slot (counting the missed ones) when far behind', async () => {
    const test = await createTestDatabase('pglite');
    const clock = new ManualClock(Date.UTC(2026, 11, 1, 12, 0, 0, 250));
    const intervalMs = 10_000;
    const missed: number[] = [];
    const replay = syntheticMarket(40);
    const runnerFor = fencedPaperRunner(test.handle.db, replay);
    const worker = new BotWorker({
      db: test.handle.db,
      locks: new LocalBotLocks(),
      workerId: 'w',
      intervalMs,
      lockTtlMs: 30_000,
      logger: silent,
      clock,
      runnerFor,
      onMissedSlots: (n) => missed.push(n),
    });
    try {
      await seedPaperBots(test.handle.db, 3);
      const ticks = async () =>
        queryRows<{ slot: string; n: number }>(
          test.handle.db,
          sql`select slot_at::text as slot, count(*)::int as n from bot_ticks group by 1 order by 1`,
        );
      worker.start();
      // Five slots: the clock stands still while a round runs.
      await clock.runUntil(async () => (await ticks()).length === 5, { stepMs: 1_000, idle: () => !worker.inRound, what: 'five slots' });
      const five = await ticks();
      expect(five.map((row) => row.n)).toEqual([3, 3, 3, 3, 3]);
      const first = Date.UTC(2026, 11, 1, 12, 0, 10);
      expect(five.map((row) => new Date(row.slot).getTime())).toEqual([0, 1, 2, 3, 4].map((i) => first + i * intervalMs));
      // The machine sleeps for an hour: the worker does not replay 360 slots, it jumps to the current one.
      const before = (await ticks()).length;
      await clock.jump(3_600_000);
      await clock.runUntil(async () => (await ticks()).length >= before + 2, {
        stepMs: 1_000,
        idle: () => !worker.inRound,
        what: 'slots after the sleep',
      });
      expect(missed).toHaveLength(1);
      expect(missed[0]).toBeGreaterThan(300);
      const after = (await ticks()).slice(before);
      // The late round for the slot it was waiting on, then the current slot, on the grid.
      expect(new Date(after.at(-1)!.slot).getTime() % intervalMs).toBe(0);
      expect(clock.now() - new Date(after.at(-1)!.slot).getTime()).toBeLessThan(2 * intervalMs);
      expect(after.every((row) => row.n === 3)).toBe(true);
    } finally {
      await worker.stop(100);
      await test.dispose();
    }
  });
});
