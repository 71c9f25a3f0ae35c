// `npm run bench`: measures the performance targets and rewrites BENCHMARKS.md.
// Run on an otherwise idle machine; every figure is printed with how it was obtained.
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  BUNDLED_CANDLES_DIR,
  BotRunner,
  DEFAULT_RISK_LIMITS,
  tickBots,
  PaperExchange,
  ReplayMarketData,
  loadCandleFile,
  getStrategy,
  optimize,
  parseGrid,
  parseStrategyParameters,
  runBacktest,
  type BacktestResult,
} from '../trading/index.ts';
import { eq, sql } from 'drizzle-orm';
import { Writable } from 'node:stream';
import { BillingService, createStripeClient, financeSummary } from '../billing/index.ts';
import { openDatabase, queryRows, runMigrations, tenantData, tenantScope, bots, customers, tenants, webhookEvents } from '../db/index.ts';
import { createApp } from '../server/index.ts';
import { createLogger, createMetrics } from '../observability/index.ts';
import { seedDemoCompany } from '../demo/index.ts';
import { agentTurns } from './agents.ts';
import { chaosTurns } from './chaos.ts';
import { scaleTicks, workerThroughput } from './workers.ts';
import { telegramLatency } from './telegram.ts';
import { outboxBurst } from './telegram-outbox.ts';
import { reportLatency } from './report.ts';
import { candleLoading } from './load.ts';
import { engineCold } from './engine-cold.ts';
import { startMemory } from './start-memory.ts';
import { writeBenchmarks } from './benchmarks-file.ts';
import { createSecretBox } from '../secrets/index.ts';
import { spawn } from 'node:child_process';
import path from 'node:path';
import crypto from 'node:crypto';
import { percentile } from '../eval/stats.ts';

// The candles that ship with the repository (candles/); BENCH_DATA_DIR points at a folder of
// larger files with the same names to measure on more bars.
const DATA = process.env.BENCH_DATA_DIR ? path.resolve(process.env.BENCH_DATA_DIR) + path.sep : BUNDLED_CANDLES_DIR;
const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  console.log(line);
};
const gc = (globalThis as { gc?: () => void }).gc;

async function backtestThroughput() {
  out('## Backtest throughput (target: ≥ 20 M candles/s per core, excluding file loading)');
  out();
  out(
    'Each strategy runs 5 times to warm up the JIT, then 30 timed runs on one core; the table gives the median and the best. "Cold" is the very first run in the process (what a single CLI call sees).',
  );
  out();
  out('| file | candles | strategy | trades | cold ms | median ms | median M candles/s | best M candles/s |');
  out('|---|---:|---|---:|---:|---:|---:|---:|');
  for (const file of ['binance_BTCUSDT_5m.csv', 'binance_BTCUSDT_1m.csv', 'binance_BTCUSDT_1h.csv']) {
    const series = loadCandleFile(DATA + file);
    for (const name of ['rsi-reference', 'rsi']) {
      const strategy = getStrategy(name);
      const params = parseStrategyParameters(strategy, {});
      const coldStart = performance.now();
      const first = runBacktest(series, strategy, params);
      const cold = performance.now() - coldStart;
      for (let i = 0; i < 5; i++) runBacktest(series, strategy, params);
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const started = performance.now();
        runBacktest(series, strategy, params);
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      const median = percentile(times, 50);
      out(
        `| ${file} | ${series.length} | ${name} | ${first.trades} | ${cold.toFixed(2)} | ${median.toFixed(2)} | ${(series.length / median / 1000).toFixed(1)} | ${(series.length / times[0]! / 1000).toFixed(1)} |`,
      );
    }
  }
  out();
}

/** Results held at once by the memory table: one result's few KiB are within the heap's noise. */
const HELD_RESULTS = 20;

/** V8's heap and the array buffers' memory. */
function usedBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Bytes one result retains, before and after its trade list is read: the mean over HELD_RESULTS
 * results held at once, each read after three forced collections (after one, a row once read
 * 233 KiB where it reads 298). A function of its own, so the results die when it returns: kept
 * in the caller's loop, the previous case's were still held at the next case's first reading
 * (a local lives until it is assigned again), and the next measure subtracted them.
 */
function retainedByOneResult(collect: () => void, backtest: () => BacktestResult): { trades: number; retained: number; withList: number } {
  const settle = () => {
    for (let pass = 0; pass < 3; pass++) collect();
  };
  settle();
  const before = usedBytes();
  const results = Array.from({ length: HELD_RESULTS }, backtest);
  settle();
  const retained = (usedBytes() - before) / HELD_RESULTS;
  for (const held of results) if (held.tradeList.length !== held.trades) throw new Error('the trade list and the trade count differ');
  settle();
  return { trades: results[0]!.trades, retained, withList: (usedBytes() - before) / HELD_RESULTS };
}

async function backtestMemory() {
  out('## Backtest memory');
  out();
  out(
    `Memory retained by one result (the mean of ${HELD_RESULTS} results held at once, measured after forced collections; V8's heap and array buffers, where typed arrays keep their numbers), against its number of trades: if the engine kept anything per candle the figure per trade would grow with the file; it stays near the size of a trade record (the small file shows the fixed part: the 500-point equity curve). A result keeps its trades as numbers (8 a trade, in a buffer that doubles) until its trade list is first read; the last columns are the same results once it has been. The files are loaded and each case run once before the first measure: the engine's code and type feedback are not a result's.`,
  );
  out();
  out('| file | candles | trades | retained | bytes per trade | with the trade list read | bytes per trade |');
  out('|---|---:|---:|---:|---:|---:|---:|');
  if (!gc) {
    out('(skipped: run with node --expose-gc, as `npm run bench` does)');
    return;
  }
  const collect = gc;
  const cases = (
    [
      ['binance_BTCUSDT_1h.csv', 'rsi-reference', {}],
      ['binance_BTCUSDT_5m.csv', 'rsi-reference', {}],
      ['binance_BTCUSDT_5m.csv', 'rsi', { rsiBuy: 48, rsiSell: 52 }],
    ] as const
  ).map(([file, strategy, params]) => {
    const series = loadCandleFile(DATA + file);
    const rules = getStrategy(strategy);
    const parameters = parseStrategyParameters(rules, params);
    runBacktest(series, rules, parameters);
    return { label: `${file} (${strategy} ${JSON.stringify(params)})`, series, rules, parameters };
  });
  for (const { label, series, rules, parameters } of cases) {
    const { trades, retained, withList } = retainedByOneResult(collect, () => runBacktest(series, rules, parameters));
    const perTrade = (bytes: number) => (bytes / Math.max(1, trades)).toFixed(0);
    out(
      `| ${label} | ${series.length} | ${trades} | ${(retained / 1024).toFixed(0)} KiB | ${perTrade(retained)} | ${(withList / 1024).toFixed(0)} KiB | ${perTrade(withList)} |`,
    );
  }
  out();
}

async function optimizeScaling() {
  out('## Parameter search scaling');
  out();
  const series = loadCandleFile(`${DATA}binance_BTCUSDT_5m.csv`);
  const grid = 'rsiBuy=25..45:1,rsiSell=55..75:2,stopLossPct=2..5:1';
  out(`\`optimize --strategy rsi --grid '${grid}'\` on binance_BTCUSDT_5m.csv (${series.length} candles), including worker start-up:`);
  out();
  out('| workers | combinations | seconds | M candles/s |');
  out('|---:|---:|---:|---:|');
  for (const workers of [1, 2]) {
    const result = await optimize(series, { strategy: 'rsi', grid: parseGrid(grid), workers });
    out(`| ${workers} | ${result.evaluated} | ${(result.elapsedMs / 1000).toFixed(2)} | ${(result.candlesPerSecond / 1e6).toFixed(1)} |`);
  }
  out();
}

async function apiAndDatabase() {
  out('## API and database latency (targets: API p95 < 50 ms, database queries p95 < 10 ms, API memory < 512 MB)');
  out();
  const targets: { label: string; url?: string }[] = [{ label: 'embedded PGlite' }];
  const pgUrl = process.env.BENCH_DATABASE_URL;
  if (pgUrl) targets.push({ label: 'PostgreSQL 127.0.0.1', url: pgUrl });
  out('| database | query | samples | p50 ms | p95 ms | p99 ms |');
  out('|---|---|---:|---:|---:|---:|');
  for (const target of targets) {
    const handle = await openDatabase({ dataDir: '', inMemory: !target.url, url: target.url });
    await runMigrations(handle);
    await seedDemoCompany(handle.db, { secretBox: createSecretBox(crypto.randomBytes(32)), asOf: new Date('2026-11-01T00:00:00Z') });
    const owners = await handle.db.selectDistinct({ tenantId: bots.tenantId }).from(bots).limit(50);
    const measure = async (label: string, query: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < 50; i++) await query(i);
      const times: number[] = [];
      for (let i = 0; i < 1000; i++) {
        const started = performance.now();
        await query(i);
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      out(
        `| ${target.label} | ${label} | ${times.length} | ${percentile(times, 50).toFixed(2)} | ${percentile(times, 95).toFixed(2)} | ${percentile(times, 99).toFixed(2)} |`,
      );
    };
    await measure("a trader's bots (tenant scope)", (i) => tenantData(handle.db, tenantScope(owners[i % owners.length]!.tenantId)).bots());
    await measure("a trader's last 100 trades", (i) =>
      tenantData(handle.db, tenantScope(owners[i % owners.length]!.tenantId)).trades({ limit: 100 }),
    );
    await handle.close();
  }
  out();
  out(
    'The API is a real `botcriptofy start` process (embedded database, demo company seeded), requested over loopback from this one; its memory is read from /proc.',
  );
  out();
  out('| request | samples | p50 ms | p95 ms | p99 ms | API process RSS after |');
  out('|---|---:|---:|---:|---:|---:|');
  out(await apiLatency());
  out();
}

async function apiLatency(): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-bench-'));
  const child = spawn(process.execPath, [fileURLToPath(new URL('../bin/botcriptofy.js', import.meta.url)), 'start'], {
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, PORT: '0', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const match = /"url":"(http:[^"]+)"/.exec(buffered);
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`botcriptofy start exited with ${code}`)));
    });
    const times: number[] = [];
    for (let i = 0; i < 2200; i++) {
      const started = performance.now();
      const response = await fetch(`${url}/health`);
      await response.arrayBuffer();
      if (i >= 200) times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
    return `| GET /health (database ping + migration status) | ${times.length} | ${percentile(times, 50).toFixed(2)} | ${percentile(times, 95).toFixed(2)} | ${percentile(times, 99).toFixed(2)} | ${(rssKb / 1024).toFixed(0)} MB |`;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function paperRunner() {
  out('## Paper bot runner (target: 1,000 bots, one tick each, < 1 s of CPU)');
  out();
  const handle = await openDatabase({ dataDir: '', inMemory: true });
  await runMigrations(handle);
  const series = loadCandleFile(`${DATA}binance_BTCUSDT_1h.csv`);
  const replay = new ReplayMarketData(new Map([['BTC/USDT', series]]), { barMs: 3_600_000, now: series.time[200]! + 3_600_000 });
  const tenantId = crypto.randomUUID();
  await handle.db.insert(tenants).values({ id: tenantId, kind: 'trader', name: 'bench' });
  const runners: BotRunner[] = [];
  const count = 1000;
  const rows = Array.from({ length: count }, (_, i) => ({
    tenantId,
    name: `bot ${i}`,
    strategyName: 'rsi',
    symbols: ['BTC/USDT'],
    timeframe: '1h',
    status: 'running' as const,
    stakeQuote: '1000',
  }));
  const inserted = await handle.db.insert(bots).values(rows).returning();
  for (const bot of inserted) {
    const exchange = new PaperExchange(handle.db, { botId: bot.id, tenantId, market: replay, timeframe: '1h' });
    await exchange.deposit('USDT', 1000);
    runners.push(
      new BotRunner(
        { db: handle.db, exchange, limits: { ...DEFAULT_RISK_LIMITS, maxDailyLossQuotePerTenant: 1e12 }, killSwitch: () => false },
        bot,
      ),
    );
  }
  for (const runner of runners) await runner.tick(); // first tick warms each strategy up
  const measure = async () => {
    replay.now += 3_600_000;
    const cpu = process.cpuUsage();
    const wall = performance.now();
    const { ticked, failed } = await tickBots(handle.db, runners);
    const used = process.cpuUsage(cpu);
    if (failed.length > 0 || ticked !== count) throw new Error(`ticked ${ticked}, failed ${failed.length}`);
    return { cpuS: (used.user + used.system) / 1e6, wallS: (performance.now() - wall) / 1000 };
  };
  out(
    'One process, embedded PGlite, 1,000 paper bots running `rsi` on BTC/USDT 1h replayed from binance_BTCUSDT_1h.csv; each round advances the replay clock by one bar and ticks every bot once the way a worker does (`tickBots`: all bot rows in one query; per bot the new candle, strategy, position check, risk gate and order when there is a signal; one write of the tick stamps).',
  );
  out();
  out('| round | CPU seconds | wall seconds |');
  out('|---:|---:|---:|');
  for (let round = 1; round <= 5; round++) {
    const r = await measure();
    out(`| ${round} | ${r.cpuS.toFixed(3)} | ${r.wallS.toFixed(3)} |`);
  }
  out();
  await handle.close();
}

async function billingFigures() {
  out(
    '## Billing (targets: webhooks ≥ 500 verified events/s on the embedded database; finance figures < 200 ms for the demo company, < 2 s for 100,000 subscriptions)',
  );
  out();
  const handle = await openDatabase({ dataDir: '', inMemory: true });
  await runMigrations(handle);
  const asOf = new Date('2026-11-01T00:00:00Z');
  await seedDemoCompany(handle.db, { secretBox: createSecretBox(crypto.randomBytes(32)), asOf });
  const time = async (work: () => Promise<unknown>, runs = 5) => {
    await work();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await work();
      times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  };
  const demoMs = await time(() => financeSummary(handle.db, { asOf, months: 12 }));

  // Webhooks: signed invoice.paid events for linked customers, one in ten a replay.
  const secret = 'whsec_bench';
  const stripe = await createStripeClient({ secretKey: undefined });
  const linked = await handle.db.select({ tenantId: customers.tenantId, id: customers.id }).from(customers).limit(200);
  for (const [i, c] of linked.entries())
    await handle.db
      .update(customers)
      .set({ stripeCustomerId: `cus_bench_${i}` })
      .where(eq(customers.id, c.id));
  const app = createApp({
    database: handle,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: createLogger({ log: { level: 'silent', format: 'json' } }, { destination: new Writable({ write: (_c, _e, done) => done() }) }),
    version: 'bench',
    startedAt: new Date(),
    stripeWebhooks: { stripe, secret },
  });
  const t0 = Math.floor(asOf.getTime() / 1000);
  const bodies = Array.from({ length: 2000 }, (_, i) => {
    const n = i % 10 === 9 ? i - 1 : i; // every tenth delivery repeats the previous event
    return JSON.stringify({
      id: `evt_bench_${n}`,
      object: 'event',
      type: 'invoice.paid',
      created: t0 + n,
      data: {
        object: {
          id: `in_bench_${n}`,
          object: 'invoice',
          customer: `cus_bench_${n % linked.length}`,
          status: 'paid',
          currency: 'brl',
          amount_due: 9990,
          amount_paid: 9990,
          attempt_count: 1,
          period_start: t0,
          period_end: t0 + 2_592_000,
          created: t0 + n,
          status_transitions: { paid_at: t0 + n },
          lines: { data: [] },
        },
      },
    });
  });
  const signed = bodies.map((body) => ({ body, header: stripe.webhooks.generateTestHeaderString({ payload: body, secret }) }));
  const started = performance.now();
  for (const { body, header } of signed) {
    const response = await app.request('/webhooks/stripe', { method: 'POST', body, headers: { 'stripe-signature': header } });
    if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
  }
  const perSecond = signed.length / ((performance.now() - started) / 1000);
  const processed = await handle.db.$count(webhookEvents);
  await handle.close();

  // 100,000 subscriptions generated in SQL: a change log, monthly invoices and payments.
  const big = await openDatabase({ dataDir: '', inMemory: true });
  await runMigrations(big);
  await new BillingService(big.db, undefined).ensurePlanRows();
  await big.db.execute(
    sql`insert into tenants (id, kind, name, created_at) select md5('t' || g)::uuid, 'trader', 'Trader ' || g, now() from generate_series(1, 100000) g`,
  );
  await big.db.execute(
    sql`insert into customers (id, tenant_id, email, name) select md5('c' || g)::uuid, md5('t' || g)::uuid, 'u' || g || '@example.com', 'Trader ' || g from generate_series(1, 100000) g`,
  );
  await big.db.execute(sql`insert into subscriptions (id, tenant_id, customer_id, plan_id, interval, status, amount_cents, current_period_start, current_period_end, started_at, ended_at)
    select md5('s' || g)::uuid, md5('t' || g)::uuid, md5('c' || g)::uuid, case when g % 4 = 0 then 'enterprise' else 'pro' end, case when g % 5 = 0 then 'year'::billing_interval else 'month' end,
      case when g % 7 = 0 then 'canceled'::subscription_status when g % 31 = 0 then 'past_due' else 'active' end,
      case when g % 4 = 0 then (case when g % 5 = 0 then 499900 else 49990 end) else (case when g % 5 = 0 then 99900 else 9990 end) end,
      ${asOf.toISOString()}::timestamptz - interval '10 days', ${asOf.toISOString()}::timestamptz + interval '20 days',
      ${asOf.toISOString()}::timestamptz - (g % 365) * interval '1 day', case when g % 7 = 0 then ${asOf.toISOString()}::timestamptz - (g % 30) * interval '1 day' end
    from generate_series(1, 100000) g`);
  await big.db.execute(sql`insert into subscription_changes (tenant_id, subscription_id, kind, mrr_before_cents, mrr_after_cents, occurred_at)
    select tenant_id, id, 'created', 0, case when interval = 'year' then round(amount_cents / 12.0) else amount_cents end, started_at from subscriptions`);
  await big.db.execute(sql`insert into subscription_changes (tenant_id, subscription_id, kind, mrr_before_cents, mrr_after_cents, occurred_at)
    select tenant_id, id, 'canceled', case when interval = 'year' then round(amount_cents / 12.0) else amount_cents end, 0, ended_at from subscriptions where ended_at is not null`);
  await big.db.execute(sql`insert into invoices (tenant_id, customer_id, subscription_id, plan_id, status, amount_due_cents, amount_paid_cents, period_start, period_end, paid_at, attempt_count, created_at)
    select s.tenant_id, s.customer_id, s.id, s.plan_id, 'paid', s.amount_cents, s.amount_cents, m, m + interval '1 month', m + interval '1 hour', 1, m
    from subscriptions s, generate_series(0, 2) k, lateral (select ${asOf.toISOString()}::timestamptz - k * interval '1 month' as m) t where m >= s.started_at`);
  await big.db.execute(
    sql`insert into payments (tenant_id, invoice_id, status, amount_cents, created_at) select tenant_id, id, 'succeeded', amount_paid_cents, paid_at from invoices`,
  );
  await big.db.execute(sql`analyze`);
  const counts = await queryRows<{ subs: number; changes: number; invoices: number }>(
    big.db,
    sql`select (select count(*)::int from subscriptions) subs, (select count(*)::int from subscription_changes) changes, (select count(*)::int from invoices) invoices`,
  );
  const bigMs = await time(() => financeSummary(big.db, { asOf, months: 12 }), 3);
  await big.close();

  out('| measure | result |');
  out('|---|---:|');
  out(`| finance summary, demo company (12 months, 320 traders), median of 5, embedded | ${demoMs.toFixed(0)} ms |`);
  out(
    `| finance summary, ${counts[0]!.subs} subscriptions, ${counts[0]!.changes} changes, ${counts[0]!.invoices} invoices, median of 3, embedded | ${bigMs.toFixed(0)} ms |`,
  );
  out(
    `| webhook ingestion: ${signed.length} signed invoice.paid deliveries (10 % replays), one at a time, verified and mirrored, embedded | ${perSecond.toFixed(0)} events/s (${processed} distinct events stored) |`,
  );
  out();
}

const started = new Date();
out('# Benchmarks');
out();
out(
  `Command: \`npm run bench\` (\`node --expose-gc bench/run.ts\`${process.env.BENCH_DATABASE_URL ? ', with BENCH_DATABASE_URL set' : ''}).`,
);
out(
  `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}.`,
);
out(`Date: ${started.toISOString().slice(0, 10)}.`);
out(
  `Candle files: ${process.env.BENCH_DATA_DIR ? `BENCH_DATA_DIR=${process.env.BENCH_DATA_DIR}` : 'candles/ (the ones that ship with the repository)'}.`,
);
out();
// BENCH_ONLY=backtest,runner (names below) runs a subset and leaves BENCHMARKS.md alone.
const sections = {
  load: () => candleLoading(out, DATA),
  backtest: backtestThroughput,
  engine: () => engineCold(out),
  memory: backtestMemory,
  optimize: optimizeScaling,
  api: apiAndDatabase,
  runner: paperRunner,
  billing: billingFigures,
  agents: () => agentTurns(out),
  chaos: () => chaosTurns(out),
  workers: () => workerThroughput(out),
  scale: () => scaleTicks(out),
  'start-memory': () => startMemory(out),
  telegram: () => telegramLatency(out),
  outbox: () => outboxBurst(out),
  report: () => reportLatency(out),
};
const only = process.env.BENCH_ONLY?.split(',');
for (const [name, run] of Object.entries(sections)) if (!only || only.includes(name)) await run();
if (!only) writeBenchmarks(lines.join('\n'));
