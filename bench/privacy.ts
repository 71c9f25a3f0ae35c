// `node bench/privacy.ts [--runs 5] [--url postgres://…/db] [--write]`: export of one trader with
// 10,000 trades (target ≤ 1 s) and their erasure (target ≤ 2 s) on the embedded database (or,
// with --url, on a new scratch database of that PostgreSQL server, dropped afterwards), with the
// demo company around them. The export is timed both ways a door takes it: streamed to a file
// (`privacy export --out`, writePersonExport) and as one object (the API, exportPersonData).
// --write puts the figures in BENCHMARKS.md's own "Privacy" section (one per driver).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { verifyAuditChain } from '../audit/index.ts';
import { openDatabase, queryRows, runMigrations } from '../db/index.ts';
import { seedDemoCompany } from '../demo/index.ts';
import { percentile } from '../eval/stats.ts';
import { erasePerson, exportPersonData, writePersonExport } from '../privacy/index.ts';
import { createSecretBox } from '../secrets/index.ts';
import { writeOwnSection } from './benchmarks-file.ts';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 5) || 5;
const write = args.includes('--write');
const serverUrl = args.includes('--url') ? args[args.indexOf('--url') + 1] : undefined;
const TRADES = 10_000;
const TRADERS = 40;

const loadStart = os.loadavg()[0]!;
// On a server: a scratch database of its own, dropped at the end.
const scratchName = `bench_privacy_${process.pid}`;
const admin = serverUrl ? postgres(serverUrl, { max: 1, onnotice: () => {} }) : undefined;
let url: string | undefined;
if (admin && serverUrl) {
  await admin.unsafe(`create database ${scratchName}`);
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${scratchName}`;
  url = parsed.toString();
}
const handle = url ? await openDatabase({ url, dataDir: '', poolMax: 2 }) : await openDatabase({ dataDir: '', inMemory: true });
const driverName = url
  ? `PostgreSQL ${(await queryRows<{ v: string }>(handle.db, sql`select version() as v`))[0]!.v.split(' ').slice(0, 2).join(' ')}`
  : 'embedded PGlite (in memory)';
await runMigrations(handle);
const db = handle.db;
await seedDemoCompany(db, { secretBox: createSecretBox(crypto.randomBytes(32)), asOf: new Date('2026-11-01T00:00:00Z'), traders: TRADERS });

// Traders who own a bot: the first is exported, each erased once (an erasure cannot be repeated on the same person).
const traders = await queryRows<{ email: string; tenant_id: string; bot_id: string }>(
  db,
  sql`select u.email, u.tenant_id, (select id from bots b where b.tenant_id = u.tenant_id order by created_at limit 1) as bot_id
      from users u join tenants t on t.id = u.tenant_id
      where t.kind = 'trader' and exists (select 1 from bots b where b.tenant_id = u.tenant_id) order by u.email limit ${runs}`,
);
// Each gets 10,000 closed trades (and the orders behind them) on top of the demo's own.
for (const trader of traders) {
  await db.execute(sql`
    insert into trades (tenant_id, bot_id, symbol, status, amount_base, open_price_quote, close_price_quote, fee_quote, profit_quote, profit_pct, exit_reason, opened_at, closed_at)
    select ${trader.tenant_id}::uuid, ${trader.bot_id}::uuid, 'BTC/USDT', 'closed', 0.01, 60000 + i % 500, 60010 + i % 700, 0.6,
           (i % 700) - (i % 500) + 10, 0.1, 'exit_signal', timestamptz '2025-01-01' + i * interval '5 minutes', timestamptz '2025-01-01' + i * interval '5 minutes' + interval '1 hour'
    from generate_series(1, ${TRADES}) i`);
  await db.execute(sql`
    insert into orders (tenant_id, bot_id, client_order_id, symbol, side, type, status, amount_base, filled_base, average_price_quote, fee_quote, reason, created_at)
    select ${trader.tenant_id}::uuid, ${trader.bot_id}::uuid, 'bench-' || i, 'BTC/USDT', case when i % 2 = 0 then 'buy'::order_side else 'sell'::order_side end, 'market', 'filled', 0.01, 0.01, 60000, 0.6, 'entry', timestamptz '2025-01-01' + i * interval '150 seconds'
    from generate_series(1, ${TRADES * 2}) i`);
  await db.execute(sql`update bots set status = 'running' where id = ${trader.bot_id}::uuid`);
}
await db.execute(sql`analyze`);

const exportMs: number[] = [];
const fileMs: number[] = [];
let exportedRows = 0;
let exportedBytes = 0;
let fileBytes = 0;
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-privacy-'));
for (let i = 0; i < runs + 1; i++) {
  // Streamed to a new file, as `privacy export --out FILE` writes it.
  const file = path.join(folder, `export-${i}.json`);
  let started = performance.now();
  const stream = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
  const head = await writePersonExport(db, traders[0]!.email, async (text) => {
    if (!stream.write(text)) await once(stream, 'drain');
  });
  stream.end();
  await finished(stream);
  let ms = performance.now() - started;
  if (i > 0) fileMs.push(ms); // the first run warms the statements up
  fileBytes = fs.statSync(file).size;
  if (head.counts.trades! < TRADES) throw new Error(`the file holds ${head.counts.trades} trades, not ${TRADES}`);
  fs.rmSync(file);
  // As one object (what the API answers with).
  started = performance.now();
  const document = await exportPersonData(db, traders[0]!.email);
  ms = performance.now() - started;
  if (i > 0) exportMs.push(ms);
  exportedRows = Object.values(document.counts).reduce((a, b) => a + b, 0);
  exportedBytes = JSON.stringify(document).length;
  if (document.data.trades!.rows.length < TRADES) throw new Error(`the export holds ${document.counts.trades} trades, not ${TRADES}`);
}
fs.rmSync(folder, { recursive: true, force: true });
const eraseMs: number[] = [];
for (const trader of traders) {
  const started = performance.now();
  const result = await erasePerson(db, trader.email, { kind: 'system', id: 'system:bench' });
  eraseMs.push(performance.now() - started);
  if (result.stoppedBots < 1) throw new Error('the running bot was not stopped');
}
const verified = await verifyAuditChain(db);
if (!verified.ok) throw new Error(`audit verify failed after the erasures: ${verified.message}`);
await handle.close();
if (admin) {
  await admin.unsafe(`drop database if exists ${scratchName} with (force)`);
  await admin.end();
}
const loadEnd = os.loadavg()[0]!;

const row = (name: string, times: number[], target: number) => {
  const sorted = [...times].sort((a, b) => a - b);
  return `| ${name} | ${sorted.length} | ${percentile(sorted, 50).toFixed(0)} | ${sorted[0]!.toFixed(0)} | ${sorted.at(-1)!.toFixed(0)} | ${target} | ${sorted.at(-1)! <= target ? 'yes' : 'no'} |`;
};
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {}
const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
const heading = url
  ? '## Privacy on PostgreSQL (targets: export of one trader with 10,000 trades ≤ 1 s; erase ≤ 2 s)'
  : '## Privacy (targets: export of one trader with 10,000 trades ≤ 1 s; erase ≤ 2 s)';
const section = [
  heading,
  '',
  `\`node_modules/.bin/node bench/privacy.ts --runs ${runs}${url ? ' --url postgres://…' : ''} --write\` on commit ${commit}, ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; load average ${loadStart.toFixed(1)} at the start, ${loadEnd.toFixed(1)} at the end (the machine is shared). ${driverName} with a ${TRADERS}-trader demo company; each measured trader got ${TRADES.toLocaleString('en')} closed trades and ${(TRADES * 2).toLocaleString('en')} orders more, and a running bot. Export to a file = \`writePersonExport\` streamed into a new file as \`privacy export --out\` does (${(fileBytes / 2 ** 20).toFixed(1)} MiB); export as an object = \`exportPersonData\` (what the API answers with; ${exportedRows.toLocaleString('en')} rows, ${(exportedBytes / 2 ** 20).toFixed(1)} MiB of JSON); both after one warm-up run, ${runs} timed runs each; erase = \`erasePerson\` on a different trader each run (the bot stopped first, keys deleted, audit rows redacted and attested); \`audit verify\` passed afterwards (${verified.rowsChecked} rows).`,
  '',
  '| step | runs | median ms | min ms | max ms | target ms | met |',
  '|---|---:|---:|---:|---:|---:|---|',
  row('export to a file (10,000 trades)', fileMs, 1000),
  row('export as an object (10,000 trades)', exportMs, 1000),
  row('erase', eraseMs, 2000),
].join('\n');
console.log(section);
if (write) writeOwnSection(url ? '## Privacy on PostgreSQL' : '## Privacy (', section);
