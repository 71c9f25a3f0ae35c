import crypto from 'node:crypto';
import os from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import * as db from '../db/index.ts';
import { openDatabase, queryRows, runMigrations } from '../db/index.ts';
import { createLogger } from '../observability/index.ts';
import { createSecretBox } from '../secrets/index.ts';
import { BotRunner, exchangeForBot, LocalFeedLeases, MarketFeeds } from '../trading/index.ts';
import { BotWorker, LocalBotLocks } from '../workers/index.ts';
import { startFakeBinance } from '../test/support/fake-binance.ts';
import { fencedPaperRunner, NO_LOSS_LIMITS, seedPaperBots } from '../test/support/paper-bots.ts';
import { HOUR, syntheticMarket } from '../test/support/synthetic-market.ts';

const CHILD = fileURLToPath(new URL('../test/support/worker-child.ts', import.meta.url));
const quiet = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const gc = (globalThis as { gc?: () => void }).gc;

/** BTC/USDT, then P01/USDT, P02/USDT, … (listed by the scripted Binance): `pairs` symbols in all. */
export function benchPairs(pairs: number): string[] {
  return Array.from({ length: pairs }, (_, k) => (k === 0 ? 'BTC/USDT' : `P${String(k).padStart(2, '0')}/USDT`));
}

/**
 * One worker ticking `count` paper bots on 1h, dealt over `pairs` symbols, the way production
 * does: each bot's exchange from exchangeForBot, its candles and prices from the shared market
 * feed of its pair (the candle cache in the database, kept current by the one fetcher of each
 * pair) against a scripted Binance on loopback that counts the requests it gets. Each round a
 * new bar closes at the exchange on every pair (the feed's clock moves an hour), the feeds step,
 * then every bot ticks once. The embedded PGlite in memory, or the PostgreSQL server at `url`
 * (its public schema dropped and migrated first).
 */
export async function feedTicks(count: number, options: { pairs?: number; rounds?: number; url?: string } = {}): Promise<TickRun> {
  const symbols = benchPairs(options.pairs ?? 1);
  const roundCount = options.rounds ?? 8;
  const handle = options.url ? await openDatabase({ url: options.url, dataDir: '' }) : await openDatabase({ dataDir: '', inMemory: true });
  if (options.url) {
    await handle.db.execute(sql`drop schema public cascade`);
    await handle.db.execute(sql`drop schema if exists drizzle cascade`);
    await handle.db.execute(sql`create schema public`);
  }
  await runMigrations(handle);
  await seedPaperBots(handle.db, count, symbols);
  const binance = await startFakeBinance();
  // Bars laid in the past, so the real ccxt client (which drops bars the wall clock has not closed) serves each one.
  const t0 = Math.floor(Date.now() / HOUR) * HOUR - 2_000 * HOUR;
  const synthetic = await syntheticMarket(600).fetchCandles('BTC/USDT', '1h', 0, 600);
  // Each pair its own stretch of the synthetic walk, so pairs signal on different bars.
  const barsOf = symbols.map((_, k) => synthetic.slice(k * 5).map((row, i) => [t0 + i * HOUR, ...row.slice(1)]));
  const publish = (closed: number) => {
    for (const [k, symbol] of symbols.entries()) binance.klinesBySymbol.set(symbol.replace('/', ''), barsOf[k]!.slice(0, closed));
  };
  publish(40);
  let now = t0 + 40 * HOUR + 1_000;
  const feeds = new MarketFeeds({ db: handle.db, leases: new LocalFeedLeases(), apiBaseUrl: binance.url, now: () => now });
  const secretBox = createSecretBox(crypto.randomBytes(32));
  const worker = new BotWorker({
    db: handle.db,
    locks: new LocalBotLocks(),
    workerId: 'bench',
    intervalMs: 10_000,
    lockTtlMs: 30_000,
    logger: quiet,
    runnerFor: async (bot, epoch) =>
      new BotRunner(
        {
          db: handle.db,
          exchange: await exchangeForBot(handle.db, bot, { tradingMode: 'paper', secretBox, feeds }),
          limits: NO_LOSS_LIMITS,
          killSwitch: () => false,
          fence: { epoch },
        },
        bot,
      ),
  });
  // The pairs' history in the cache first (in production the feeds have been running), then the
  // first round takes the bots and warms their strategies up from it.
  for (const symbol of symbols) feeds.watch('binance', symbol, '1h');
  await feeds.step();
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  await worker.round(0);
  gc?.();
  // What the worker keeps for its bots (runners, strategies, exchanges, feed windows), per bot.
  const bytesPerBot = gc ? (process.memoryUsage().heapUsed - heapBefore) / count : undefined;
  const startRequests = binance.requests.length;
  const rounds: Round[] = [];
  for (let i = 1; i <= roundCount; i++) {
    publish(40 + i); // the next bar closes at the exchange
    now += HOUR;
    const before = binance.requests.length;
    const started = performance.now();
    const cpu = process.cpuUsage();
    await feeds.step();
    const { ticked } = await worker.round(i * 10_000);
    const used = process.cpuUsage(cpu);
    rounds.push({
      ticks: ticked,
      ms: performance.now() - started,
      cpuMs: (used.user + used.system) / 1000,
      requests: binance.requests.length - before,
    });
  }
  const orders = (await handle.db.select().from(db.orders)).length;
  await feeds.stop();
  await binance.close();
  await handle.close();
  return { rounds, orders, startRequests, bytesPerBot };
}

/** The same bots and rounds on a replayed market shared in-process: no exchange and no cache (the figure this benchmark gave before the feed; no production path). */
async function replayTicks(count: number): Promise<TickRun> {
  const handle = await openDatabase({ dataDir: '', inMemory: true });
  await runMigrations(handle);
  await seedPaperBots(handle.db, count);
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
  await worker.round(0);
  const rounds: Round[] = [];
  for (let i = 1; i <= 8; i++) {
    replay.now = (40 + i) * HOUR;
    const started = performance.now();
    const { ticked } = await worker.round(i * 10_000);
    rounds.push({ ticks: ticked, ms: performance.now() - started, requests: 0 });
  }
  const orders = (await handle.db.select().from(db.orders)).length;
  await handle.close();
  return { rounds, orders, startRequests: 0 };
}

interface Round {
  readonly ticks: number;
  readonly ms: number;
  /** This process's CPU time over the round (the worker; not the database server's). */
  readonly cpuMs?: number;
  readonly requests: number;
}
interface TickRun {
  readonly rounds: Round[];
  readonly orders: number;
  readonly startRequests: number;
  /** Heap the worker holds per bot once every bot has a runner (after a forced GC); needs --expose-gc. */
  readonly bytesPerBot?: number | undefined;
}

/**
 * Bot ticks a worker sustains: 1,000 paper bots (RSI with thresholds spread so they don't all
 * trade on the same bar), one worker on the embedded database ticking round after round, and
 * on a PostgreSQL server (BENCH_DATABASE_URL, with Redis) 1 and then 2 worker processes.
 */
export async function workerThroughput(out: (line?: string) => void): Promise<void> {
  out('## Bot ticks per worker (1,000 paper bots)');
  out();
  const feed = await feedTicks(1000);
  const replay = await replayTicks(1000);
  out(
    'One worker, 1,000 RSI paper bots on BTC/USDT 1h, the embedded PGlite in memory, 8 rounds back to back (each round: a new bar closes, every bot ticks once with the orders its strategy decides, fenced). "feed" is the production path: each bot\'s exchange from `exchangeForBot`, candles and prices from the shared market feed (the candle cache, kept current by the pair\'s one fetcher, which steps before each round) against a scripted Binance on loopback that counts the requests it gets. "replay" is the market shared in-process that this benchmark measured before (no exchange, no cache), run in the same process for comparison:',
  );
  out();
  out(
    '| path | rounds | ticks | orders | seconds | ticks/s | slowest round ms | exchange requests per tick interval (max) | requests at start (history, markets) |',
  );
  out('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, run] of [
    ['feed', feed],
    ['replay', replay],
  ] as const) {
    const total = run.rounds.reduce((a, r) => ({ ticks: a.ticks + r.ticks, ms: a.ms + r.ms }), { ticks: 0, ms: 0 });
    const requests = name === 'feed' ? String(Math.max(...run.rounds.map((r) => r.requests))) : '—';
    out(
      `| ${name} | ${run.rounds.length} | ${total.ticks} | ${run.orders} | ${(total.ms / 1000).toFixed(2)} | ${((total.ticks / total.ms) * 1000).toFixed(0)} | ${Math.max(...run.rounds.map((r) => r.ms)).toFixed(0)} | ${requests} | ${name === 'feed' ? run.startRequests : '—'} |`,
    );
  }
  out();
  out(
    'Before the feed, each paper bot had a ccxt client of its own: 1,000 bots meant at least 1,000 klines requests per tick interval for the same bar, and a markets load per bot.',
  );
  out();

  const url = process.env['BENCH_DATABASE_URL'];
  const redisUrl = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  if (!url) {
    out('Several workers need a PostgreSQL server: set BENCH_DATABASE_URL (and BENCH_REDIS_URL, default redis://127.0.0.1:6379).');
    out();
    return;
  }
  out(
    'Worker processes on PostgreSQL at BENCH_DATABASE_URL with Redis locks, given a 200 ms interval so they never wait for the clock (ceiling 5,000 ticks/s), for 25 s; ticks counted in bot_ticks over the last 15 s:',
  );
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
      children.push(
        spawn(process.execPath, [CHILD], {
          env: {
            ...process.env,
            DATABASE_URL: url,
            REDIS_URL: redisUrl,
            PREFIX: prefix,
            INTERVAL_MS: '200',
            TTL_MS: '5000',
            WORKER_ID: `bench-${i}`,
          },
          stdio: ['pipe', 'ignore', 'ignore'],
        }),
      );
    }
    // Each worker starts once told the first slot (see test/support/worker-child.ts); the warm-up below covers their loading.
    for (const child of children) child.stdin!.write(`start ${t0}\n`);
    await sleep(10_000);
    const from = new Date().toISOString();
    await sleep(15_000);
    const [row] = await queryRows<{ n: number }>(
      server.db,
      sql`select count(*)::int as n from bot_ticks where processed_at >= ${from}::timestamptz`,
    );
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((resolve) => child.on('close', resolve))));
    await server.close();
    const perSecond = row!.n / 15;
    out(`| ${count} | ${perSecond.toFixed(0)} |`);
  }
  out();
}

/**
 * The issue's scale: 10,000 paper bots over 20 pairs on one worker, through exchangeForBot and
 * the pairs' shared feeds (one fetcher per pair, scripted Binance on loopback), on the embedded
 * PGlite and, with BENCH_DATABASE_URL, on PostgreSQL. Targets: exchange requests per tick
 * interval ≤ 20 × timeframes (1 timeframe here: ≤ 20), ≥ 2,000 bot ticks/s per worker on
 * PostgreSQL, ≤ 20 KB of memory per bot. SCALE_BOTS / SCALE_PAIRS / SCALE_ROUNDS change the size,
 * SCALE_EMBEDDED=0 leaves the embedded row out.
 */
export async function scaleTicks(out: (line?: string) => void): Promise<void> {
  const bots = Number(process.env['SCALE_BOTS'] ?? 10_000);
  const pairs = Number(process.env['SCALE_PAIRS'] ?? 20);
  const rounds = Number(process.env['SCALE_ROUNDS'] ?? 3);
  out(
    `## ${bots.toLocaleString('en-US')} paper bots over ${pairs} pairs on one worker (targets: exchange requests per tick interval ≤ ${pairs} × timeframes, ≥ 2,000 bot ticks/s per worker on PostgreSQL, ≤ 20 KB per bot)`,
  );
  out();
  out(
    `One in-process worker (BotWorker.round, as a worker's timer calls it), ${bots.toLocaleString('en-US')} RSI paper bots on 1h dealt round-robin over ${pairs} pairs (${Math.ceil(bots / pairs)} a pair), each bot's exchange from \`exchangeForBot\` reading its pair's shared market feed (the candle cache; one fetcher per pair, which steps before each round) against a scripted Binance on loopback that counts the requests it gets. A warm-up round gives every bot its runner; then ${rounds} timed rounds, each after a new bar closed on every pair. "Worker CPU s" is this process's CPU time (user + system) over the timed rounds: the worker's own cost, which other processes on the machine stretch far less than the wall time (the database server's CPU is not in it). "Memory per bot" is the heap the worker holds after the warm-up round over what it held before (both after a forced GC), divided by the bots. Load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores at the start.`,
  );
  out();
  out(
    '| database | bots | pairs | rounds | ticks | orders | ticks/s | slowest round s | worker CPU s | ticks per worker CPU s | exchange requests per tick interval (max) | requests at start | memory per bot KB |',
  );
  out('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const url = process.env['BENCH_DATABASE_URL'];
  const embedded = process.env['SCALE_EMBEDDED'] !== '0'; // SCALE_EMBEDDED=0: the PostgreSQL row only
  for (const [name, target] of [
    ...(embedded ? ([['embedded PGlite (memory)', undefined]] as const) : []),
    ...(url ? ([['PostgreSQL', url]] as const) : []),
  ]) {
    const run = await feedTicks(bots, { pairs, rounds, ...(target ? { url: target } : {}) });
    const total = run.rounds.reduce((a, r) => ({ ticks: a.ticks + r.ticks, ms: a.ms + r.ms, cpuMs: a.cpuMs + (r.cpuMs ?? 0) }), {
      ticks: 0,
      ms: 0,
      cpuMs: 0,
    });
    out(
      `| ${name} | ${bots} | ${pairs} | ${run.rounds.length} | ${total.ticks} | ${run.orders} | ${((total.ticks / total.ms) * 1000).toFixed(0)} | ${(Math.max(...run.rounds.map((r) => r.ms)) / 1000).toFixed(1)} | ${(total.cpuMs / 1000).toFixed(1)} | ${((total.ticks / total.cpuMs) * 1000).toFixed(0)} | ${Math.max(...run.rounds.map((r) => r.requests))} | ${run.startRequests} | ${run.bytesPerBot === undefined ? '– (no --expose-gc)' : (run.bytesPerBot / 1024).toFixed(1)} |`,
    );
  }
  if (!url) out('(PostgreSQL row skipped: set BENCH_DATABASE_URL.)');
  out();
}
