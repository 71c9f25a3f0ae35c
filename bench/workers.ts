import crypto from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { openDatabase, queryRows, runMigrations } from '../db/index.ts';
import { createLogger } from '../observability/index.ts';
import { BotWorker, LocalBotLocks } from '../workers/index.ts';
import { fencedPaperRunner, NO_LOSS_LIMITS, seedPaperBots } from '../test/support/paper-bots.ts';
import { HOUR, syntheticMarket } from '../test/support/synthetic-market.ts';

const CHILD = fileURLToPath(new URL('../test/support/worker-child.ts', import.meta.url));
const quiet = createLogger({ log: { level: 'silent', format: 'json' } }, { destination: new Writable({ write: (_c, _e, done) => done() }) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Bot ticks a worker sustains: 1,000 paper bots (RSI with thresholds spread so they don't all
 * trade on the same bar), one worker on the embedded database ticking round after round, and
 * on a PostgreSQL server (BENCH_DATABASE_URL, with Redis) 1 and then 2 worker processes.
 */
export async function workerThroughput(out: (line?: string) => void): Promise<void> {
  out('## Bot ticks per worker (1,000 paper bots)');
  out();
  const handle = await openDatabase({ dataDir: '', inMemory: true });
  await runMigrations(handle);
  await seedPaperBots(handle.db, 1000);
  const replay = syntheticMarket(40);
  const worker = new BotWorker({
    db: handle.db,
    locks: new LocalBotLocks(),
    workerId: 'bench',
    intervalMs: 10_000,
    lockTtlMs: 30_000,
    logger: quiet,
    runnerFor: fencedPaperRunner(handle.db, replay, { limits: NO_LOSS_LIMITS }),
  });
  replay.now = 40 * HOUR;
  await worker.round(0); // takes the bots and warms their strategies up
  const rounds: { ticks: number; ms: number }[] = [];
  for (let i = 1; i <= 8; i++) {
    replay.now = (40 + i) * HOUR;
    const started = performance.now();
    const { ticked } = await worker.round(i * 10_000);
    rounds.push({ ticks: ticked, ms: performance.now() - started });
  }
  await handle.close();
  const total = rounds.reduce((a, r) => ({ ticks: a.ticks + r.ticks, ms: a.ms + r.ms }), { ticks: 0, ms: 0 });
  out('One worker on the embedded PGlite (in memory), rounds back to back (each round: every bot once, with the orders the strategies decide, fenced):');
  out();
  out('| rounds | ticks | seconds | ticks/s | slowest round ms |');
  out('|---:|---:|---:|---:|---:|');
  out(`| ${rounds.length} | ${total.ticks} | ${(total.ms / 1000).toFixed(2)} | ${((total.ticks / total.ms) * 1000).toFixed(0)} | ${Math.max(...rounds.map((r) => r.ms)).toFixed(0)} |`);
  out();

  const url = process.env['BENCH_DATABASE_URL'];
  const redisUrl = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  if (!url) {
    out('Several workers need a PostgreSQL server: set BENCH_DATABASE_URL (and BENCH_REDIS_URL, default redis://127.0.0.1:6379).');
    out();
    return;
  }
  out('Worker processes on PostgreSQL at BENCH_DATABASE_URL with Redis locks, given a 200 ms interval so they never wait for the clock (ceiling 5,000 ticks/s), for 25 s; ticks counted in bot_ticks over the last 15 s:');
  out();
  out('| workers | ticks/s |');
  out('|---:|---:|');
  for (const count of [1, 2]) {
    const server = await openDatabase({ url, dataDir: '' });
    await server.db.execute(sql`drop schema public cascade`);
    await server.db.execute(sql`drop schema if exists drizzle cascade`);
    await server.db.execute(sql`create schema public`);
    await runMigrations(server);
    await seedPaperBots(server.db, 1000);
    const prefix = `bcf-bench-${crypto.randomUUID().slice(0, 8)}`;
    const t0 = Date.now();
    const children: ChildProcess[] = [];
    for (let i = 0; i < count; i++) {
      children.push(spawn(process.execPath, [CHILD], { env: { ...process.env, DATABASE_URL: url, REDIS_URL: redisUrl, PREFIX: prefix, INTERVAL_MS: '200', TTL_MS: '5000', T0: String(t0), WORKER_ID: `bench-${i}` }, stdio: 'ignore' }));
    }
    await sleep(10_000);
    const from = new Date().toISOString();
    await sleep(15_000);
    const [row] = await queryRows<{ n: number }>(server.db, sql`select count(*)::int as n from bot_ticks where processed_at >= ${from}::timestamptz`);
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((resolve) => child.on('close', resolve))));
    await server.close();
    const perSecond = row!.n / 15;
    out(`| ${count} | ${perSecond.toFixed(0)} |`);
  }
  out();
}
