// `node bench/assistant.ts [--runs 10] [--bots 10000] [--write]`: the trader's assistant (issue 22)
// on the embedded database (in memory): words → draft → backtest on a year of cached 1h candles
// (target ≤ 3 s, no model: the rules draft), and the daily review of running bots with one
// digest per trader (target: 10,000 bots ≤ 60 s on one worker). --write puts the figures in
// BENCHMARKS.md's own "Trader's assistant" section.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import os from 'node:os';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { ModelGateway } from '../agents/index.ts';
import { BillingService } from '../billing/index.ts';
import { customers, openDatabase, queryRows, runMigrations, subscriptions, tenantScope, tenants, users } from '../db/index.ts';
import { percentile } from '../eval/stats.ts';
import { createMastra } from '../mastra.config.ts';
import { createLogger } from '../observability/index.ts';
import { invokeTool, TOOLS, type ToolContext } from '../tools/index.ts';
import { drawBacktestBesideBuyAndHold } from '../telegram/assistant-chart.ts';
import { backtestBesideBuyAndHold, upsertCandles } from '../trading/index.ts';
import { runBotReview } from '../workflows/index.ts';
import { writeOwnSection } from './benchmarks-file.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) || fallback : fallback);
const runs = option('--runs', 10);
const botCount = option('--bots', 10_000);
const write = args.includes('--write');
const HOUR = 3_600_000;
const NOW = new Date('2026-11-01T12:30:00Z');

const loadStart = os.loadavg()[0]!;
const handle = await openDatabase({ dataDir: '', inMemory: true });
await runMigrations(handle);
const db = handle.db;
const billing = new BillingService(db, undefined);
await billing.ensurePlanRows();

// One trader on Pro (50 backtests a day) and a year of hourly ETH bars up to the last closed one.
const tenantId = crypto.randomUUID();
const userId = crypto.randomUUID();
await db.insert(tenants).values({ id: tenantId, kind: 'trader', name: 'Bench' });
await db.insert(users).values({ id: userId, tenantId, email: 'bench@example.com', name: 'Bench', locale: 'pt-BR' });
const [customer] = await db.insert(customers).values({ tenantId, email: 'bench@example.com', name: 'Bench' }).returning();
await db.insert(subscriptions).values({
  tenantId,
  customerId: customer!.id,
  planId: 'pro',
  interval: 'month',
  status: 'active',
  amountCents: 9_990,
  currentPeriodStart: new Date(NOW.getTime() - 86_400_000),
  currentPeriodEnd: new Date(NOW.getTime() + 29 * 86_400_000),
  startedAt: new Date(NOW.getTime() - 86_400_000),
});
const lastBar = Date.UTC(2026, 10, 1, 11);
const price = (i: number) => 100 * Math.exp(0.00008 * i) + 0.6 * Math.sin(i / 4);
const yearBars = 366 * 24;
await upsertCandles(
  db,
  { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' },
  Array.from({ length: yearBars }, (_, i) => {
    const open = price(Math.max(0, i - 1));
    const close = price(i);
    return [lastBar - (yearBars - 1 - i) * HOUR, open, Math.max(open, close) * 1.0005, Math.min(open, close) * 0.9995, close, 10];
  }),
);
const ctx: ToolContext = { db, actor: { kind: 'trader', userId, tenantId, name: 'Bench' }, billing, now: () => NOW };

const draftMs: number[] = [];
const backtestMs: number[] = [];
const chartMs: number[] = [];
const totalMs: number[] = [];
const telegramMs: number[] = [];
let candles = 0;
for (let i = 0; i < runs + 1; i++) {
  const started = performance.now();
  const drafted = await invokeTool(TOOLS, ctx, 'draft_bot_from_text', {
    text: 'quero um robô RSI no ETH de 1h, stop de 3 %, sem gastar mais que 500 USDT',
  });
  const drawn = performance.now();
  if (!drafted.ok) throw new Error(drafted.message);
  const draftId = (drafted as { result: { draft: { draftId: string } } }).result.draft.draftId;
  const tested = await invokeTool(TOOLS, ctx, 'backtest_draft', { draftId });
  const done = performance.now();
  if (!tested.ok) throw new Error(tested.message);
  const figures = (tested as { result: { draft: { backtests: { candles: number; backtestId: string }[] } } }).result.draft.backtests[0]!;
  candles = figures.candles;
  // What Telegram adds to the answer: the equity beside buy-and-hold, read and drawn as a PNG.
  const beside = await backtestBesideBuyAndHold(db, tenantScope(tenantId), figures.backtestId);
  const chart = await drawBacktestBesideBuyAndHold(beside, 'RSI ETH 1h', 'pt-BR');
  const charted = performance.now();
  if (chart.png.length === 0) throw new Error('no chart');
  await invokeTool(TOOLS, ctx, 'discard_draft', { draftId });
  if (i === 0) continue; // the first run warms the statements up
  draftMs.push(drawn - started);
  backtestMs.push(done - drawn);
  chartMs.push(charted - done);
  totalMs.push(done - started);
  telegramMs.push(charted - started);
}

// The daily review: `botCount` running bots, ten per trader, over 20 pairs with fresh candles;
// each with 20 closed trades, the last four losses on a tenth of them, and two rejected orders.
const pairs = Array.from({ length: 20 }, (_, i) => `C${i}/USDT`);
for (const pair of pairs)
  await upsertCandles(
    db,
    { exchange: 'binance', symbol: pair, timeframe: '1h' },
    Array.from({ length: 3 }, (_, i) => [lastBar - (2 - i) * HOUR, 1, 1, 1, 1, 1]),
  );
const traders = Math.ceil(botCount / 10);
await db.execute(sql`
  insert into tenants (id, kind, name) select overlay(overlay(md5('t' || i) placing '4' from 13) placing '8' from 17)::uuid, 'trader', 'T' || i from generate_series(1, ${traders}) i`);
await db.execute(sql`
  insert into users (tenant_id, email, name, locale) select overlay(overlay(md5('t' || i) placing '4' from 13) placing '8' from 17)::uuid, 't' || i || '@example.com', 'T' || i, 'pt-BR' from generate_series(1, ${traders}) i`);
await db.execute(sql`
  insert into bots (id, tenant_id, name, strategy_name, symbols, timeframe, stake_quote, status)
  select overlay(overlay(md5('b' || i) placing '4' from 13) placing '8' from 17)::uuid, overlay(overlay(md5('t' || (1 + (i - 1) / 10)) placing '4' from 13) placing '8' from 17)::uuid, 'Bot ' || i, 'rsi', array['C' || (i % 20) || '/USDT'], '1h', 1000, 'running'
  from generate_series(1, ${botCount}) i`);
await db.execute(sql`
  insert into trades (tenant_id, bot_id, symbol, status, amount_base, open_price_quote, close_price_quote, profit_quote, opened_at, closed_at)
  select b.tenant_id, b.id, b.symbols[1], 'closed', 1, 100, 100, case when j > 16 and (b.name like '%0') then -30 else 5 end,
         ${NOW.toISOString()}::timestamptz - (40 - j) * interval '1 hour', ${NOW.toISOString()}::timestamptz - (39 - j) * interval '1 hour'
  from bots b, generate_series(1, 20) j where b.status = 'running'`);
await db.execute(sql`
  insert into orders (tenant_id, bot_id, client_order_id, symbol, side, type, status, amount_base, reason, created_at)
  select b.tenant_id, b.id, 'r' || j, b.symbols[1], 'buy', 'market', 'rejected', 1, 'entry', ${NOW.toISOString()}::timestamptz - j * interval '1 hour'
  from bots b, generate_series(1, 2) j where b.status = 'running'`);
await db.execute(sql`analyze`);
const silent = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);
const gateway = new ModelGateway({ host: 'http://127.0.0.1:9', model: 'qwen3:0.6b', agentModels: {}, timeoutMs: 1_000 });
const mastra = createMastra({ db, gateway, logger: silent, billing, now: () => NOW });
const reviewStarted = performance.now();
const review = await runBotReview(mastra, NOW);
const reviewMs = performance.now() - reviewStarted;
if (review.status !== 'success') throw new Error(`review ${review.status}: ${review.error ?? ''}`);
const [queued] = await queryRows<{ n: number }>(
  db,
  sql`select count(distinct dedupe_key)::int as n from notifications where type = 'bot_review'`,
);
const loadEnd = os.loadavg()[0]!;
await handle.close();

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const cpu = os.cpus()[0]?.model.split(' ').slice(0, 2).join(' ') ?? 'unknown';
const median = (values: number[]) =>
  Math.round(
    percentile(
      [...values].sort((a, b) => a - b),
      50,
    ),
  );
const row = (name: string, values: number[], target: number | null) =>
  `| ${name} | ${values.length} | ${median(values)} | ${Math.round(Math.min(...values))} | ${Math.round(Math.max(...values))} | ${target ?? '—'} | ${target === null ? '—' : median(values) <= target ? 'yes' : 'no'} |`;
const section = [
  "## Trader's assistant (targets: draft → backtest on a year of cached 1h candles ≤ 3 s excluding model time; daily review of 10,000 bots ≤ 60 s on one worker)",
  '',
  `\`node_modules/.bin/node bench/assistant.ts --runs ${runs} --bots ${botCount} --write\` on commit ${commit}, ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average ${loadStart.toFixed(1)} at the start, ${loadEnd.toFixed(1)} at the end (the machine is shared). The embedded database in memory. Draft = the tool \`draft_bot_from_text\` on the issue's sentence (the rules, no model); backtest = \`backtest_draft\` on ${candles.toLocaleString('en')} cached 1h candles beside buy-and-hold, after one warm-up run; chart = what the Telegram answer adds (\`backtestBesideBuyAndHold\` and the PNG, 960×540). Review = the \`bot-review\` workflow over ${botCount.toLocaleString('en')} running bots of ${traders.toLocaleString('en')} traders (20 closed trades and 2 rejected orders each, 20 pairs), ${review.result!.flaggedBots.toLocaleString('en')} flagged, ${queued!.n.toLocaleString('en')} digests queued.`,
  '',
  '| step | runs | median ms | min ms | max ms | target ms | met |',
  '|---|---:|---:|---:|---:|---:|---|',
  row('draft from words', draftMs, null),
  row('backtest a year (1h)', backtestMs, null),
  row('draft → backtest', totalMs, 3000),
  row('chart beside buy-and-hold (Telegram)', chartMs, null),
  row('draft → backtest → chart (Telegram)', telegramMs, 3000),
  row(`daily review (${botCount.toLocaleString('en')} bots)`, [reviewMs], 60_000),
].join('\n');
console.log(section);
if (write) writeOwnSection("## Trader's assistant", section);
