// SSE fan-out (issue 16: "1,000 connected clients, a trade event reaches all of them within
// 100 ms p95"): the HTTP API on a real loopback server with the demo company, 1,000 clients of
// one trader on GET /api/v1/events (on a worker thread), and trade events queued by the
// runner's own producer (notifyBotEvent). Latency: from just before the producer queues the
// event to its arrival at each client. Measured for a producer in the API's process (it wakes
// the reader at once), one in another process on the embedded database (the reader finds it on
// its poll, every 100 ms by default) and, with BENCH_DATABASE_URL, one on a PostgreSQL server
// through its own connection pool, as a worker has (NOTIFY wakes the reader). `node
// bench/http-api.ts --write` runs it after the API's own rows and writes its section; `node
// bench/api-sse.ts` alone prints it. BENCH_SSE_CLIENTS, BENCH_SSE_EVENTS: sizes.
import crypto from 'node:crypto';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { eq, sql } from 'drizzle-orm';
import { createAccounts } from '../accounts/index.ts';
import { BillingService } from '../billing/index.ts';
import postgres from 'postgres';
import { bots, openDatabase, runMigrations, users } from '../db/index.ts';
import { demoSignIns, seedDemoCompany } from '../demo/index.ts';
import { percentile } from '../eval/stats.ts';
import { OUTBOX_QUEUED_CHANNEL } from '../notifications/index.ts';
import { createLogger, createMetrics } from '../observability/index.ts';
import { createSecretBox } from '../secrets/index.ts';
import { createApp } from '../server/index.ts';
import { startHttpServer } from '../server/http.ts';
import { LiveEvents } from '../server/api/live-events.ts';
import { notifyBotEvent } from '../trading/index.ts';

const CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 1_000);
const EVENTS = Number(process.env.BENCH_SSE_EVENTS ?? 30);
const GAP_MS = 300;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowMs = () => performance.timeOrigin + performance.now();

interface Run {
  readonly label: string;
  readonly perClient: number[];
  readonly allReached: number[];
  readonly missing: number;
  /** From the producer's call to the hub publishing the event (the database part), one per event. */
  readonly published: number[];
}

/**
 * `producer: 'here'`: the event is queued by this process, which wakes its reader; `'poll'`:
 * queued without waking it (another process on the embedded database: the poll finds it);
 * `'listen'`: on a PostgreSQL server (a fresh database on BENCH_DATABASE_URL's server), queued
 * through a connection pool of its own, as a worker process does, and announced by NOTIFY.
 */
async function measure(label: string, producer: 'here' | 'poll' | 'listen'): Promise<Run> {
  const server = producer === 'listen' ? await scratchPostgres(process.env.BENCH_DATABASE_URL!) : undefined;
  const handle = await openDatabase(server ? { url: server.url, dataDir: '' } : { dataDir: '', inMemory: true });
  await runMigrations(handle);
  const db = handle.db;
  const producerHandle = server ? await openDatabase({ url: server.url, dataDir: '' }) : handle;
  await seedDemoCompany(db, { secretBox: createSecretBox(crypto.randomBytes(32)), asOf: new Date('2026-11-01T00:00:00Z'), traders: 4 });
  const logger = createLogger(
    { log: { level: 'silent', format: 'json' } },
    { destination: new Writable({ write: (_c, _e, done) => done() }) },
  );
  const accounts = createAccounts({ db, secret: crypto.randomBytes(32).toString('hex'), baseURL: 'http://127.0.0.1:3000' });
  const hub = new LiveEvents({
    db,
    wakeOnQueue: producer === 'here',
    ...(producer === 'listen' ? { listen: (onQueued: () => void) => handle.listen!(OUTBOX_QUEUED_CHANNEL, onQueued) } : {}),
  });
  const app = createApp({
    database: handle,
    metrics: createMetrics({ defaultMetrics: false }),
    logger,
    version: 'bench',
    startedAt: new Date(),
    api: {
      accounts,
      billing: new BillingService(db, undefined),
      liveEvents: hub,
      // One person's 1,000 tabs from one address: the limits stay in the path, above this load.
      limits: { perCredentialPerMinute: 100_000, perAddressPerMinute: 100_000 },
    },
  });
  const http = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
  const trader = (await demoSignIns(db)).find((person) => person.who === 'trader')!;
  const signIn = await app.request('http://127.0.0.1:3000/api/v1/auth/sign-in/email', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: trader.email, password: trader.password }),
  });
  const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
  const [person] = await db.select({ tenantId: users.tenantId }).from(users).where(sql`lower(${users.email}) = lower(${trader.email})`);
  const [bot] = await db.select({ id: bots.id }).from(bots).where(eq(bots.tenantId, person!.tenantId)).limit(1);

  const worker = new Worker(new URL('./api-sse-clients.ts', import.meta.url), { workerData: { url: http.url, cookie, count: CLIENTS } });
  const connectStarted = nowMs();
  await once(worker, 'message');
  const connectMs = nowMs() - connectStarted;
  if (hub.subscriberCount !== CLIENTS) throw new Error(`${hub.subscriberCount} subscribers, expected ${CLIENTS}`);

  // A probe on the hub itself (no HTTP): when each event is published, to split the latency.
  const publishedAt = new Map<string, number>();
  const probe = await hub.subscribe({
    userId: (await db.select({ id: users.id }).from(users).where(sql`lower(${users.email}) = lower(${trader.email})`))[0]!.id,
    staff: false,
    department: null,
    approverOf: [],
    watches: [],
    send: (event) => {
      if (event.type === 'trade') publishedAt.set(String(event.data.amountBase), nowMs());
    },
    comment: () => {},
    close: () => {},
  });
  const sentAt = new Map<string, number>();
  for (let i = 1; i <= EVENTS; i++) {
    const marker = String(i);
    sentAt.set(marker, nowMs());
    await notifyBotEvent(producerHandle.db, {
      type: 'trade_opened',
      botId: bot!.id,
      tenantId: person!.tenantId,
      symbol: 'DOGE/USDT',
      amountBase: i,
      priceQuote: 0.25,
    });
    // Unevenly spaced, so the events do not fall in step with the reader's poll.
    await sleep(GAP_MS + ((i * 137) % 211));
  }
  await sleep(1_000);
  worker.postMessage({ kind: 'report' });
  const [{ arrivals }] = (await once(worker, 'message')) as [{ arrivals: Record<string, number[]> }];
  probe.unsubscribe();
  worker.postMessage({ kind: 'close' });
  await once(worker, 'message');
  await worker.terminate();
  hub.stop();
  await http.close(1_000);
  if (producerHandle !== handle) await producerHandle.close();
  await handle.close();
  await server?.drop();

  const perClient: number[] = [];
  const allReached: number[] = [];
  let missing = 0;
  const published: number[] = [];
  for (const [marker, at] of sentAt) {
    const publishedMs = publishedAt.get(marker);
    if (publishedMs !== undefined) published.push(publishedMs - at);
    const times = arrivals[marker] ?? [];
    missing += CLIENTS - times.length;
    for (const t of times) perClient.push(t - at);
    if (times.length === CLIENTS) allReached.push(Math.max(...times) - at);
  }
  process.stderr.write(`${label}: ${CLIENTS} clients connected in ${Math.round(connectMs)} ms\n`);
  return { label, perClient, allReached, missing, published };
}

/** A new empty database on the server of `serverUrl`, dropped by `drop`. */
export async function scratchPostgres(
  serverUrl: string,
  prefix = 'bcf_bench_sse',
): Promise<{ url: string; serverVersion(): Promise<string | undefined>; drop(): Promise<void> }> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  const name = `${prefix}_${process.pid}`;
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    /** The server's version line, e.g. "PostgreSQL 15.20". */
    async serverVersion() {
      const [row] = await admin.unsafe<{ server_version: string }[]>('show server_version');
      return row ? `PostgreSQL ${row.server_version.split(' ')[0]}` : undefined;
    },
    async drop() {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 1 });
    },
  };
}

export async function apiSse(out: (line?: string) => void): Promise<void> {
  out(`## Live events: SSE fan-out (target: a trade event reaches ${CLIENTS.toLocaleString('en')} clients within 100 ms p95)`);
  out();
  out(
    `GET /api/v1/events on a loopback server (demo company; the embedded database, or a fresh database on a PostgreSQL server on this machine for the PostgreSQL row), ${CLIENTS.toLocaleString('en')} connections of one trader held by a worker thread; ${EVENTS} trade events queued ${GAP_MS}–${GAP_MS + 210} ms apart by the runner's producer (notifyBotEvent). Latency from just before the producer queues the event to its arrival at a client; "all reached": until the last of the ${CLIENTS.toLocaleString('en')} has it (one sample per event).`,
  );
  out();
  out(
    '| producer | samples | p50 ms | p95 ms | max ms | all reached p50 ms | all reached p95 ms | not delivered | published p50 / p95 ms |',
  );
  out('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const producers: [string, 'here' | 'poll' | 'listen'][] = [
    ['in the API process (wakes the reader)', 'here'],
    ['another process, embedded database (found by the 50 ms poll)', 'poll'],
  ];
  if (process.env.BENCH_DATABASE_URL) producers.push(['another process, PostgreSQL (LISTEN/NOTIFY wakes the reader)', 'listen']);
  for (const [label, producer] of producers) {
    const run = await measure(label, producer);
    const sorted = [...run.perClient].sort((a, b) => a - b);
    const all = [...run.allReached].sort((a, b) => a - b);
    const published = [...run.published].sort((a, b) => a - b);
    const f = (n: number) => n.toFixed(1);
    out(
      `| ${label} | ${sorted.length.toLocaleString('en')} | ${f(percentile(sorted, 50))} | ${f(percentile(sorted, 95))} | ${f(sorted.at(-1) ?? 0)} | ${f(percentile(all, 50))} (${all.length}) | ${f(percentile(all, 95))} | ${run.missing} | ${f(percentile(published, 50))} / ${f(percentile(published, 95))} |`,
    );
  }
  out();
}

if (import.meta.url === `file://${process.argv[1]}`) await apiSse((line = '') => console.log(line));
