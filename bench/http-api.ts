// `node bench/http-api.ts [--seconds 10] [--write]`: the HTTP API (issue 16) measured against a
// real `botcriptofy start` on loopback, the path production takes (rate limits, sessions,
// tool layer, embedded database): GET /api/v1/bots and GET /api/v1/candles (500 bars with RSI)
// at a fixed 200 requests/s (target p95 ≤ 15 ms), the most requests/s an authenticated
// GET /api/v1/me gets from the one Node process (target ≥ 2,000), and POST /api/v1/backtests on
// BTC 5m until its result is stored (target ≤ 200 ms); then the live events' fan-out to 1,000
// clients (bench/api-sse.ts). --write puts them in BENCHMARKS.md's own "HTTP API" and "Live
// events" sections. BENCH_DATA_DIR: a folder with a longer binance_BTCUSDT_5m.csv.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import { percentile } from '../eval/stats.ts';
import type { OpenLoopResult } from './open-loop-client.ts';
import { apiSse, scratchPostgres } from './api-sse.ts';
import { writeOwnSection } from './benchmarks-file.ts';

const BIN = fileURLToPath(new URL('../bin/botcriptofy.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] ?? 10) || 10;
const write = args.includes('--write');
const candleFile = path.join(process.env.BENCH_DATA_DIR ?? path.join(ROOT, 'candles'), 'binance_BTCUSDT_5m.csv');
const RATE = 200;

const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  console.log(line);
};

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The database settings of a run: none for the embedded database, DATABASE_URL and MASTER_KEY for a server. */
type DatabaseEnv = Record<string, string>;

function cli(dataDir: string, database: DatabaseEnv, ...command: string[]): string {
  const run = spawnSync(process.execPath, [BIN, ...command], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dataDir,
      BOTCRIPTOFY_NO_ENV_FILE: '1',
      LOG_LEVEL: 'warn',
      ...database,
    },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`botcriptofy ${command.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

/** `botcriptofy start` on the data folder; its base URL once it says it is up. */
async function startProduct(dataDir: string, database: DatabaseEnv = {}): Promise<{ child: ChildProcess; url: string }> {
  // BENCH_SERVER_NODE_ARGS: Node options for the server (e.g. --trace-gc, which NODE_OPTIONS refuses).
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'start'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dataDir,
      BOTCRIPTOFY_NO_ENV_FILE: '1',
      PORT: '0',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      // The limits stay in the path; only their ceilings are raised so the benchmark measures
      // the server rather than its refusals.
      API_RATE_LIMIT_PER_MINUTE: '1000000',
      API_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000000',
      OLLAMA_HOST: 'http://127.0.0.1:9',
      ...database,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const reader = readline.createInterface({ input: child.stdout! });
    child.on('exit', (code) => reject(new Error(`botcriptofy start exited (code ${code}) before it was up`)));
    // BENCH_SERVER_LOG=FILE keeps what the server logged (to find what a latency spike was).
    const keep = process.env.BENCH_SERVER_LOG;
    reader.on('line', (line) => {
      if (keep) fs.appendFileSync(keep, `${line}\n`);
      try {
        const entry = JSON.parse(line) as { url?: string; msg?: string };
        if (entry.url && entry.msg?.startsWith('BotCriptoFy is up')) resolve(entry.url);
      } catch {
        // a line that is not JSON (none expected with LOG_FORMAT=json)
      }
    });
  });
  return { child, url };
}

async function stopProduct(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function signIn(url: string, email: string, password: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/auth/sign-in/email`, {
    method: 'POST',
    // Better-Auth refuses a sign-in without an Origin it trusts (cross-site request forgery).
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) throw new Error(`sign-in of ${email} failed: ${response.status} ${await response.text()}`);
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');
}

interface Measured {
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly latenciesMs: number[];
  readonly requestsPerS: number;
  readonly serverCpuS: number;
}

/**
 * One route at a steady `ratePerS` as an open loop (bench/open-loop-client.ts, on a thread of
 * its own). autocannon's own rate mode is not this: each connection sends its whole quota for
 * the second back to back and then pauses (lib/httpClient.js, reqsMadeThisSecond), so "200/s
 * over 10 connections" arrives as bursts of 10 requests queued at once, and measures the
 * burst's queue more than the route.
 */
async function measureSteady(server: ChildProcess, url: string, cookie: string, ratePerS: number): Promise<Measured> {
  const cpuBefore = cpuSeconds(server.pid!);
  const worker = new Worker(new URL('./open-loop-client.ts', import.meta.url), { workerData: { url, cookie, ratePerS, seconds } });
  const result = await new Promise<OpenLoopResult>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  return {
    requests: result.latenciesMs.length,
    non2xx: result.non2xx,
    errors: result.errors,
    latenciesMs: result.latenciesMs,
    requestsPerS: result.latenciesMs.length / result.elapsedS,
    serverCpuS: cpuSeconds(server.pid!) - cpuBefore,
  };
}

/** autocannon against one route; every response's time is kept (autocannon's own histogram has no p95). */
async function measure(server: ChildProcess, url: string, cookie: string, options: { connections: number }): Promise<Measured> {
  const latenciesMs: number[] = [];
  const cpuBefore = cpuSeconds(server.pid!);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        headers: { cookie },
        connections: options.connections,
        duration: seconds,
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', (_client, _status, _bytes, responseTimeMs) => latenciesMs.push(responseTimeMs));
  });
  return {
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    latenciesMs,
    requestsPerS: result.requests.total / seconds,
    serverCpuS: cpuSeconds(server.pid!) - cpuBefore,
  };
}

/** GET /candles of the imported BTC/USDT 5m bars up to `last`, with RSI (500 bars: the route's default). */
const candlesUrl = (base: string, last: string) =>
  `${base}/api/v1/candles?symbol=BTC/USDT&timeframe=5m&to=${encodeURIComponent(last)}&indicators=rsi`;

/**
 * Waits for the bots' first round of ticks after start to be over (bot_ticks_total in /metrics
 * up from zero, then still for 2 s): that round also catches the replayed market's cache up
 * with the time since seeding (~0.5–1 s of database work at once), a start-up cost the routes'
 * steady-state rows must not take for theirs. At most 60 s.
 */
async function firstTickRound(base: string): Promise<void> {
  const ticks = async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return [...text.matchAll(/^bot_ticks_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  };
  const deadline = Date.now() + 60_000;
  let last = await ticks();
  let stillSince = Date.now();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await ticks();
    if (now !== last) [last, stillSince] = [now, Date.now()];
    else if (last > 0 && Date.now() - stillSince >= 2_000) return;
  }
  console.error('bench/http-api: no completed round of bot ticks within 60 s; measuring anyway');
}

/**
 * The three GET rows on one running product: a warm-up first (the routes' code paths compiled,
 * the session cache filled), then /bots and /candles at RATE and /me as fast as it answers.
 */
async function measureRoutes(
  server: ChildProcess,
  base: string,
  cookie: string,
  lastBar: string,
): Promise<{ bots: Measured; candles: Measured; me: Measured }> {
  const routes = { bots: `${base}/api/v1/bots`, candles: candlesUrl(base, lastBar), me: `${base}/api/v1/me` };
  await firstTickRound(base);
  for (const url of Object.values(routes)) for (let i = 0; i < 50; i++) await (await fetch(url, { headers: { cookie } })).arrayBuffer();
  return {
    bots: await measureSteady(server, routes.bots, cookie, RATE),
    candles: await measureSteady(server, routes.candles, cookie, RATE),
    me: await measure(server, routes.me, cookie, { connections: 20 }),
  };
}

/** A trader's event stream, read for backtest_finished: `of(id)` resolves with the backtest's status. */
async function finishedBacktests(url: string, cookie: string): Promise<{ of(id: string): Promise<string>; close(): void }> {
  const abort = new AbortController();
  const response = await fetch(`${url}/api/v1/events`, { headers: { cookie }, signal: abort.signal });
  if (response.status !== 200 || !response.body) throw new Error(`GET /events: ${response.status}`);
  const seen = new Map<string, string>();
  const waiting = new Map<string, (status: string) => void>();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffered += value;
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        const message = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (!/^event: backtest_finished$/m.test(message)) continue;
        const data = JSON.parse(/^data: (.*)$/m.exec(message)![1]!) as { backtestId: string; status: string };
        seen.set(data.backtestId, data.status);
        waiting.get(data.backtestId)?.(data.status);
      }
    }
  })();
  return {
    of: (id) => {
      const status = seen.get(id);
      if (status) return Promise.resolve(status);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`backtest ${id}: no backtest_finished within 60 s`)), 60_000);
        waiting.set(id, (s) => {
          clearTimeout(timer);
          resolve(s);
        });
      });
    },
    close: () => abort.abort(),
  };
}

function latencyRow(label: string, m: Measured): string {
  const sorted = [...m.latenciesMs].sort((a, b) => a - b);
  const p = (q: number) => percentile(sorted, q).toFixed(1);
  return `| ${label} | ${m.requests.toLocaleString('en')} | ${m.requestsPerS.toFixed(0)} | ${p(50)} | ${p(95)} | ${p(99)} | ${sorted.at(-1)!.toFixed(1)} | ${m.non2xx + m.errors} | ${((m.serverCpuS / seconds) * 100).toFixed(0)} % |`;
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-bench-api-'));
const loadStart = os.loadavg()[0]!;
let server: ChildProcess | undefined;
try {
  const progress = (step: string) => process.stderr.write(`bench/http-api: ${step}\n`);
  progress('seeding the demo company');
  const seeded = cli(dataDir, {}, 'seed', '--demo');
  const signIns = [...seeded.matchAll(/^\s+trader\s+(\S+)\s+(\S+)$/gm)].map((m) => ({ email: m[1]!, password: m[2]! }));
  if (signIns.length === 0) throw new Error('seed --demo printed no trader sign-ins');
  const imported = JSON.parse(cli(dataDir, {}, 'data', 'import', candleFile, '--pair', 'BTC/USDT', '--timeframe', '5m', '--json')) as {
    imported: number;
    first: string;
    last: string;
  };
  progress('starting botcriptofy');
  const started = await startProduct(dataDir);
  server = started.child;
  const base = started.url;
  const cookie = await signIn(base, signIns[0]!.email, signIns[0]!.password);

  const candles = (await (await fetch(candlesUrl(base, imported.last), { headers: { cookie } })).json()) as { candles: unknown[] };
  progress(`measuring, ${seconds} s a route`);
  const { bots, candles: candleRoute, me } = await measureRoutes(server, base, cookie, imported.last);

  // POST /backtests until the result is there, on each signed-in trader's daily quota: the
  // trader's event stream says it finished (backtest_finished, as the dashboard learns it), then
  // one GET /backtests/{id} gives the result. (Polling GET every 2 ms instead puts a request
  // through the same one process every 2 ms, which slows the very backtest it waits for.)
  progress('backtests');
  const backtestMs: number[] = [];
  let refusedByQuota = 0;
  const BACKTEST_SAMPLES = 41;
  for (const person of signIns) {
    const personCookie = await signIn(base, person.email, person.password);
    const finished = await finishedBacktests(base, personCookie);
    try {
      while (backtestMs.length < BACKTEST_SAMPLES) {
        const t0 = performance.now();
        const queued = await fetch(`${base}/api/v1/backtests`, {
          method: 'POST',
          headers: { cookie: personCookie, 'content-type': 'application/json' },
          body: JSON.stringify({ strategy: 'rsi', symbol: 'BTC/USDT', timeframe: '5m', from: imported.first, to: imported.last }),
        });
        if (queued.status === 409) {
          refusedByQuota++;
          break;
        }
        if (queued.status !== 202) throw new Error(`POST /backtests: ${queued.status} ${await queued.text()}`);
        const { backtestId } = (await queued.json()) as { backtestId: string };
        const status = await finished.of(backtestId);
        const answer = (await (await fetch(`${base}/api/v1/backtests/${backtestId}`, { headers: { cookie: personCookie } })).json()) as {
          backtest?: { status: string };
          metrics?: unknown;
        };
        if (status !== 'succeeded' || answer.backtest?.status !== 'succeeded' || !answer.metrics)
          throw new Error(`backtest ${backtestId}: ${status}, ${JSON.stringify(answer).slice(0, 500)}`);
        backtestMs.push(performance.now() - t0);
      }
    } finally {
      finished.close();
    }
  }
  // The first is the warm-up (the strategy's code and the candle query compiled).
  const measuredBacktests = backtestMs.slice(1).sort((a, b) => a - b);
  await stopProduct(server);
  server = undefined;

  // The same three routes with the database on a PostgreSQL server (a deployment's path: the
  // database's work in its own processes, the start process's CPU left to the API).
  let onServer: { bots: Measured; candles: Measured; me: Measured; version: string } | undefined;
  if (process.env.BENCH_DATABASE_URL) {
    progress('the same routes on PostgreSQL');
    const scratch = await scratchPostgres(process.env.BENCH_DATABASE_URL, 'bcf_bench_api');
    const serverDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-bench-api-pg-'));
    const database = { DATABASE_URL: scratch.url, MASTER_KEY: crypto.randomBytes(32).toString('hex') };
    try {
      const seededThere = cli(serverDir, database, 'seed', '--demo');
      const [, email, password] = /^\s+trader\s+(\S+)\s+(\S+)$/m.exec(seededThere) ?? [];
      if (!email || !password) throw new Error('seed --demo on PostgreSQL printed no trader sign-in');
      cli(serverDir, database, 'data', 'import', candleFile, '--pair', 'BTC/USDT', '--timeframe', '5m');
      const there = await startProduct(serverDir, database);
      server = there.child;
      const serverCookie = await signIn(there.url, email, password);
      const version = (await scratch.serverVersion()) ?? 'PostgreSQL';
      onServer = { ...(await measureRoutes(server, there.url, serverCookie, imported.last)), version };
      await stopProduct(server);
      server = undefined;
    } finally {
      fs.rmSync(serverDir, { recursive: true, force: true });
      await scratch.drop();
    }
  }
  const loadEnd = os.loadavg()[0]!;

  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  out('## HTTP API');
  out();
  out(
    `\`node_modules/.bin/node bench/http-api.ts --seconds ${seconds}${write ? ' --write' : ''}\` on commit ${commit}, ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average ${loadStart.toFixed(1)} at the start, ${loadEnd.toFixed(1)} at the end. A real \`botcriptofy start\` (one Node process, the embedded database, the demo company from \`seed --demo\`, ${imported.imported.toLocaleString('en')} BTC/USDT 5m candles imported from ${path.relative(ROOT, candleFile) || candleFile}) on loopback, ${seconds} s per row with the session cookie of a demo trader: /bots and /candles as an open loop at a steady ${RATE} requests/s from a thread of its own (each request sent at its due time, its latency counted from then: bench/open-loop-client.ts), /me with autocannon's 20 connections as fast as it answers; rate limits in the path with their ceilings raised; the rows start once the bots' first round of ticks since start is over (it also catches the replayed market's cache up, a one-off), after 50 warm-up requests a route. Percentiles over every response of the row (the requests column). Server CPU = the start process's CPU time over the row's wall time (100 % = one core).`,
  );
  out();
  out('| route | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | non-2xx | server CPU |');
  out('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  out(latencyRow(`GET /api/v1/bots at ${RATE}/s (target p95 ≤ 15 ms)`, bots));
  out(latencyRow(`GET /api/v1/candles, ${candles.candles.length} bars + RSI, at ${RATE}/s (target p95 ≤ 15 ms)`, candleRoute));
  out(latencyRow('GET /api/v1/me, as fast as it answers, 20 connections (target ≥ 2,000 req/s)', me));
  out();
  out(
    `POST /api/v1/backtests (rsi, BTC/USDT 5m, all ${imported.imported.toLocaleString('en')} cached bars) until the trader's event stream (GET /api/v1/events) says backtest_finished and GET /api/v1/backtests/{id} then returns the result, target ≤ 200 ms: ${measuredBacktests.length} samples after one warm-up (at most ${BACKTEST_SAMPLES - 1}, from the ${signIns.length} demo traders in turn as their daily plan quotas allow; ${refusedByQuota} refused with 409 at a quota) — p50 ${percentile(measuredBacktests, 50).toFixed(0)} ms, p95 ${percentile(measuredBacktests, 95).toFixed(0)} ms${measuredBacktests.length < 20 ? ' (with fewer than 20 samples p95 is the maximum or next to it)' : ''}, max ${measuredBacktests.at(-1)?.toFixed(0)} ms.`,
  );
  if (onServer) {
    out();
    out(
      `The same routes with the database on ${onServer.version} on this machine (a scratch database, seeded and imported the same way, dropped afterwards; \`BENCH_DATABASE_URL\`), after the embedded server stopped. Server CPU is the start process's alone: the database's own processes run beside it on the other core.`,
    );
    out();
    out('| route (PostgreSQL) | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | non-2xx | server CPU |');
    out('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    out(latencyRow(`GET /api/v1/bots at ${RATE}/s`, onServer.bots));
    out(latencyRow(`GET /api/v1/candles, ${candles.candles.length} bars + RSI, at ${RATE}/s`, onServer.candles));
    out(latencyRow('GET /api/v1/me, as fast as it answers, 20 connections (target ≥ 2,000 req/s)', onServer.me));
  }
  if (write) writeOwnSection('## HTTP API', lines.join('\n'));
} finally {
  if (server) await stopProduct(server);
  fs.rmSync(dataDir, { recursive: true, force: true });
}

// The live events' fan-out, with the start process above stopped (its own server and database).
const sseLines: string[] = [];
await apiSse((line = '') => {
  sseLines.push(line);
  console.log(line);
});
sseLines.push(
  `Run by \`node_modules/.bin/node bench/http-api.ts${write ? ' --write' : ''}\` on the same commit and machine, after the rows above; load average ${os.loadavg()[0]!.toFixed(1)} at its end.`,
);
console.log(sseLines.at(-1));
if (write) writeOwnSection('## Live events', sseLines.join('\n'));
