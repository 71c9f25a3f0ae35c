// The soak: the whole product as an operator runs it (one `start`, N `worker` processes, a
// private PostgreSQL and Redis, Telegram's Bot API emulated with its limits enforced) under a
// steady load of signed Stripe webhooks and notifications, while the infrastructure fails on
// a timeline. Every invariant is then read from the database, the emulator and the logs.
// `npm run soak` runs the long version and prints a table for BENCHMARKS.md; the test suite
// runs a 2-minute version (test/soak.test.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { eq, sql, type SQL } from 'drizzle-orm';
import { createStripeClient } from '../billing/index.ts';
import { customers, openDatabase, queryRows, staff, telegramLinks, tenants, type DatabaseHandle } from '../db/index.ts';
import { enqueueNotification } from '../notifications/index.ts';
import { BIN, cliEnv, runCli } from '../test/support/cli.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../test/support/private-postgres.ts';
import { freePort } from '../test/support/ports.ts';
import { startPrivateRedis, type PrivateRedis } from '../test/support/redis.ts';
import type { LimitsEnforced, ProxiedRequest } from '../test/support/telegram-emulator.ts';

/**
 * Telegram's Bot API (the emulator and its limit-enforcing proxy) on a thread of its own, so
 * that the instants it stamps arrivals with are not delayed by the soak's own load.
 */
async function startEmulatorThread(limits: LimitsEnforced) {
  const worker = new Worker(new URL('./telegram-emulator-worker.ts', import.meta.url), { workerData: { limits } });
  const [ready] = (await once(worker, 'message')) as [{ apiRoot: string; token: string }];
  return {
    ...ready,
    async stats(): Promise<{ requests: ProxiedRequest[]; delivered: number; deliveredHeads: string[] }> {
      worker.postMessage({ kind: 'stats' });
      return ((await once(worker, 'message')) as [{ requests: ProxiedRequest[]; delivered: number; deliveredHeads: string[] }])[0];
    },
    async close(): Promise<void> {
      worker.postMessage({ kind: 'close' });
      await once(worker, 'message');
      await worker.terminate();
    },
  };
}
type EmulatorThread = Awaited<ReturnType<typeof startEmulatorThread>>;

export interface SoakOptions {
  readonly durationS: number;
  readonly workers: number;
  readonly webhooksPerS: number;
  readonly notificationsPerS: number;
  /** Inject the faults (a worker killed, one frozen past its lock TTL, PostgreSQL crashed, Redis restarted empty). */
  readonly faults: boolean;
  readonly progress?: (line: string) => void;
}

export interface FaultRecord {
  readonly fault: string;
  readonly atS: number;
  /** From the end of the fault to the product working again (what is measured is named in `recovery`). */
  readonly recoveredS: number | null;
  readonly recovery: string;
}

export interface SoakResult {
  readonly options: Omit<SoakOptions, 'progress'>;
  readonly webhooks: {
    posts: number;
    distinctEvents: number;
    stored: number;
    processed: number;
    notAccepted: number;
    invoices: number;
    invoicesWithTwoPayments: number;
    unanswered: number;
  };
  readonly ticks: { total: number; bots: number };
  readonly orders: { total: number; duplicateClientOrderIds: number };
  readonly notifications: {
    queuedByLoad: number;
    rows: number;
    sent: number;
    pendingAtEnd: number;
    failed: number;
    telegramMessages: number;
    sentTwice: number;
    tooMany: number;
    tooManyAtS: number[];
    digests: number;
  };
  /** For each 429: the requests to its chat in the 2 s before it (seconds since the load began, status). */
  readonly tooManyContext: readonly string[];
  readonly schedules: { expected: number; presentAtEnd: number };
  readonly auditVerified: boolean;
  readonly logLines: number;
  readonly nonJsonLines: readonly string[];
  readonly exitCodes: Record<string, number | null>;
  /** The last lines of each process that did not exit 0 (why it did not). */
  readonly lastLines: Record<string, readonly string[]>;
  readonly faults: readonly FaultRecord[];
}

const MASTER_KEY = 'ab'.repeat(32);
const WEBHOOK_SECRET = 'whsec_soak';
const LOCK_TTL_MS = 5_000;
const SCHEDULE_CHECK_S = 5;

/** One product process, its output kept line by line. */
class ProductProcess {
  readonly lines: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #pending = { out: '', err: '' };

  readonly name: string;

  constructor(name: string, args: string[], env: Record<string, string>) {
    this.name = name;
    this.child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (stream: 'out' | 'err') => (chunk: Buffer) => {
      const text = this.#pending[stream] + chunk.toString();
      const lines = text.split('\n');
      this.#pending[stream] = lines.pop() ?? '';
      this.lines.push(...lines.filter((line) => line.length > 0));
    };
    this.child.stdout!.on('data', take('out'));
    this.child.stderr!.on('data', take('err'));
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        for (const rest of [this.#pending.out, this.#pending.err]) if (rest) this.lines.push(rest);
        resolve(code ?? (signal ? -1 : null));
      }),
    );
  }

  async waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.lines.some(match)) {
      if (this.child.exitCode !== null)
        throw new Error(`${this.name} exited (${this.child.exitCode}) before it was ready:\n${this.lines.slice(-20).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`${this.name} not ready in ${timeoutMs} ms:\n${this.lines.slice(-20).join('\n')}`);
      await sleep(100);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The company's schedules a worker declares (cli/company-worker.ts) on a real PostgreSQL with Telegram on. */
const SCHEDULES: readonly [queue: string, key: string][] = [
  ['reports', 'executive-report-daily'],
  ['reports', 'executive-report-weekly'],
  ['webhooks', 'dunning-check'],
  ['agent-tasks', 'anomaly-scan'],
  ['agent-tasks', 'workflow-recovery'],
  ['notifications', 'outbox-drain'],
];

/** How many of the company's schedules Redis holds (BullMQ keeps each as `<prefix>:<queue>:repeat:<key>`). */
async function schedulesPresent(redisUrl: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: 1_000, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let present = 0;
    for (const [queue, key] of SCHEDULES) if ((await redis.hexists(`botcriptofy:${queue}:repeat:${key}`, 'ic')) === 1) present++;
    return present;
  } catch {
    return 0; // Redis away: none can be seen
  } finally {
    redis.disconnect();
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.progress ?? (() => {});
  const resources: {
    pg?: PrivatePostgres;
    redis?: PrivateRedis;
    emulator?: EmulatorThread;
    db?: DatabaseHandle;
    processes: ProductProcess[];
  } = { processes: [] };
  try {
    log('starting a private PostgreSQL, Redis and the Telegram emulator');
    const [pg, redis, emulator] = await Promise.all([
      startPrivatePostgres(),
      startPrivateRedis(),
      // Telegram's own counting is not millisecond-exact; 100 ms of slack stands for the network
      // between several sending processes on a loaded 2-core machine.
      startEmulatorThread({ ratePerS: 30, chatRatePerS: 1, retryAfterS: 1, toleranceMs: 100 }),
    ]);
    Object.assign(resources, { pg, redis, emulator });
    const port = await freePort();
    const env: Record<string, string> = {
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      MASTER_KEY,
      PORT: String(port),
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      BOT_TICK_INTERVAL_S: '2',
      BOT_LOCK_TTL_MS: String(LOCK_TTL_MS),
      SCHEDULE_CHECK_S: String(SCHEDULE_CHECK_S),
      PAPER_MARKET: 'replay',
      OLLAMA_HOST: 'http://127.0.0.1:9',
      TELEGRAM_BOT_TOKEN: emulator.token,
      TELEGRAM_API_ROOT: emulator.apiRoot,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      SHUTDOWN_TIMEOUT_MS: '15000',
    };
    log('seeding the demo company');
    const seeded = await runCli(['seed', '--demo', '--traders', '20'], env, 180_000);
    if (seeded.code !== 0) throw new Error(`seed failed: ${seeded.stderr}`);

    const db = await openDatabase({ url: pg.url, dataDir: '', poolMax: 4 });
    resources.db = db;
    // Two finance staff on Telegram (the payment_failed notices fan out to them), and one
    // chat the load's own notices go to.
    const financeStaff = await db.db.select({ userId: staff.userId }).from(staff).where(eq(staff.department, 'finance')).limit(2);
    const [company] = await db.db.select({ id: tenants.id }).from(tenants).where(eq(tenants.kind, 'company')).limit(1);
    if (!company || financeStaff.length === 0) throw new Error('the demo company has no finance staff');
    for (const [i, member] of financeStaff.entries()) {
      await db.db
        .insert(telegramLinks)
        .values({ userId: member.userId, telegramUserId: BigInt(880_000 + i), chatId: BigInt(880_000 + i) })
        .onConflictDoNothing();
    }
    const linked = await db.db.select({ id: customers.id }).from(customers).limit(100);
    for (const [i, customer] of linked.entries())
      await db.db
        .update(customers)
        .set({ stripeCustomerId: `cus_soak_${i}` })
        .where(eq(customers.id, customer.id));

    log(`starting botcriptofy start and ${options.workers} workers`);
    const start = new ProductProcess('start', ['start'], env);
    const workers = Array.from({ length: options.workers }, (_, i) => new ProductProcess(`worker-${i + 1}`, ['worker'], env));
    resources.processes.push(start, ...workers);
    await Promise.all([
      start.waitForLine((line) => line.includes('BotCriptoFy is up'), 120_000),
      ...workers.map((worker) => worker.waitForLine((line) => line.includes('worker ready'), 120_000)),
    ]);
    const baseUrl = `http://127.0.0.1:${port}`;

    // --- the load
    const stripe = await createStripeClient({ secretKey: undefined });
    const t0 = Math.floor(Date.now() / 1000);
    const eventBody = (n: number) => {
      const failed = n % 5 === 4;
      const invoice = {
        id: `in_soak_${n}`,
        object: 'invoice',
        customer: `cus_soak_${n % linked.length}`,
        status: failed ? 'open' : 'paid',
        currency: 'brl',
        number: `SOAK-${n}`,
        amount_due: 9_990,
        amount_paid: failed ? 0 : 9_990,
        attempt_count: 1,
        period_start: t0,
        period_end: t0 + 2_592_000,
        created: t0 + n,
        next_payment_attempt: failed ? t0 + 86_400 : null,
        status_transitions: { paid_at: failed ? null : t0 + n },
        lines: { data: [] },
      };
      return JSON.stringify({
        id: `evt_soak_${n}`,
        object: 'event',
        type: failed ? 'invoice.payment_failed' : 'invoice.paid',
        created: t0 + n,
        data: { object: invoice },
      });
    };
    const webhooks = { posts: 0, notAccepted: 0, accepted: new Set<string>(), retries: [] as { n: number; at: number }[], inFlight: 0 };
    const post = async (n: number) => {
      const body = eventBody(n);
      webhooks.posts++;
      webhooks.inFlight++;
      try {
        const response = await fetch(`${baseUrl}/webhooks/stripe`, {
          method: 'POST',
          body,
          headers: { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET }) },
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
        if (response.status === 200) {
          webhooks.accepted.add(`evt_soak_${n}`);
          return;
        }
      } catch {
        // refused or cut: Stripe retries, so does the soak
      } finally {
        webhooks.inFlight--;
      }
      webhooks.notAccepted++;
      webhooks.retries.push({ n, at: Date.now() + 1_000 });
    };
    /** Posts again the deliveries whose retry is due (Stripe retries a refused one). */
    const retryDue = () => {
      const now = Date.now();
      const due = webhooks.retries.filter((retry) => retry.at <= now);
      webhooks.retries = webhooks.retries.filter((retry) => retry.at > now);
      for (const retry of due) void post(retry.n);
    };
    const notices = { queued: 0, next: 0 };
    /** Queues the load's notices up to number `upTo`, stopping at the first the database refuses. */
    const queueNotices = async (upTo: number) => {
      while (notices.next < upTo) {
        try {
          await enqueueNotification(db.db, {
            tenantId: company.id,
            to: { userId: noticeTo },
            type: 'message',
            payload: { text: `soak notice ${notices.next}` },
            dedupeKey: `soak-notice-${notices.next}`,
          });
          notices.queued++;
          notices.next++;
        } catch {
          return; // the database is away: the same notice (same dedupe key) is queued when it is back
        }
      }
    };
    const noticeTo = financeStaff[0]!.userId;
    let eventSeq = 0;
    const loadStarted = Date.now();
    const durationMs = options.durationS * 1000;
    let loadDone = false;
    const webhookLoop = (async () => {
      while (!loadDone) {
        const due = Math.floor(((Date.now() - loadStarted) / 1000) * options.webhooksPerS);
        while (eventSeq < due) {
          // One delivery in ten repeats an earlier event (Stripe delivers at least once).
          const n = eventSeq % 10 === 9 && eventSeq > 0 ? eventSeq - 1 : eventSeq;
          eventSeq++;
          void post(n);
        }
        retryDue();
        await sleep(50);
      }
    })();
    const noticeLoop = (async () => {
      while (!loadDone) {
        await queueNotices(Math.floor(((Date.now() - loadStarted) / 1000) * options.notificationsPerS));
        await sleep(100);
      }
    })();

    // --- the faults
    const faults: FaultRecord[] = [];
    const at = (fraction: number) => loadStarted + fraction * durationMs;
    const waitUntil = async (instant: number) => {
      while (Date.now() < instant) await sleep(Math.min(200, instant - Date.now()));
    };
    const sinceStart = () => Math.round((Date.now() - loadStarted) / 100) / 10;
    const firstAcceptedAfter = async (instant: number, limitMs: number) => {
      const before = webhooks.accepted.size;
      const deadline = Date.now() + limitMs;
      while (webhooks.accepted.size === before && Date.now() < deadline) await sleep(50);
      return webhooks.accepted.size > before ? Math.round((Date.now() - instant) / 100) / 10 : null;
    };
    /**
     * Seconds from `since` until every bot the worker (by its pid) ticked in the 10 s before was
     * ticked by another worker after `since`; null if not within `limitMs`.
     */
    const takenOverAfter = async (pid: number, since: number, limitMs: number) => {
      const sinceIso = new Date(since).toISOString();
      const recentIso = new Date(since - 10_000).toISOString();
      const deadline = Date.now() + limitMs;
      while (Date.now() < deadline) {
        const [left] = await queryRows<{ n: string }>(
          db.db,
          sql`select count(*)::text as n from (select distinct bot_id from bot_ticks where worker_id like ${`%:${pid}:%`} and processed_at >= ${recentIso}::timestamptz) mine
              where not exists (select 1 from bot_ticks t where t.bot_id = mine.bot_id and t.worker_id not like ${`%:${pid}:%`} and t.processed_at > ${sinceIso}::timestamptz)`,
        ).catch(() => [{ n: '1' }]);
        if (Number(left?.n) === 0) return Math.round((Date.now() - since) / 100) / 10;
        await sleep(250);
      }
      return null;
    };
    if (options.faults && workers.length >= 2) {
      await waitUntil(at(0.15));
      log(`t=${sinceStart()} s: SIGKILL ${workers[0]!.name}`);
      const killedAt = Date.now();
      const killedAtS = sinceStart();
      workers[0]!.child.kill('SIGKILL');
      faults.push({
        fault: `${workers[0]!.name} killed (SIGKILL)`,
        atS: killedAtS,
        recoveredS: await takenOverAfter(workers[0]!.child.pid!, killedAt, 30_000),
        recovery: `every bot it was ticking ticked by another worker (lock TTL ${LOCK_TTL_MS / 1000} s)`,
      });

      await waitUntil(at(0.3));
      log(`t=${sinceStart()} s: SIGSTOP ${workers[1]!.name} for ${LOCK_TTL_MS / 1000 + 3} s`);
      const stoppedAt = sinceStart();
      const frozenAt = Date.now();
      workers[1]!.child.kill('SIGSTOP');
      const frozenTakenOver = await takenOverAfter(workers[1]!.child.pid!, frozenAt, LOCK_TTL_MS + 3_000);
      await sleep(Math.max(0, frozenAt + LOCK_TTL_MS + 3_000 - Date.now()));
      workers[1]!.child.kill('SIGCONT');
      faults.push({
        fault: `${workers[1]!.name} frozen (SIGSTOP) ${LOCK_TTL_MS / 1000 + 3} s, past its lock TTL`,
        atS: stoppedAt,
        recoveredS: frozenTakenOver,
        recovery:
          'every bot it was ticking ticked by another worker while it slept; woken, its stale epoch is refused (no duplicate slot or order below)',
      });

      await waitUntil(at(0.5));
      log(`t=${sinceStart()} s: PostgreSQL crash (pg_ctl -m immediate), restarted after 3 s`);
      const crashedAt = sinceStart();
      await pg.crash();
      await sleep(3_000);
      await pg.start();
      const pgBack = Date.now();
      faults.push({
        fault: 'PostgreSQL crash-restart (down 3 s)',
        atS: crashedAt,
        recoveredS: await firstAcceptedAfter(pgBack, 30_000),
        recovery: 'first webhook accepted after the restart',
      });

      await waitUntil(at(0.7));
      log(`t=${sinceStart()} s: Redis killed and restarted empty after 3 s`);
      const redisAt = sinceStart();
      await redis.kill();
      await sleep(3_000);
      await redis.start();
      const redisBack = Date.now();
      let schedulesBackS: number | null = null;
      while (Date.now() - redisBack < (SCHEDULE_CHECK_S + 10) * 1000) {
        if ((await schedulesPresent(redis.url)) === SCHEDULES.length) {
          schedulesBackS = Math.round((Date.now() - redisBack) / 100) / 10;
          break;
        }
        await sleep(250);
      }
      faults.push({
        fault: 'Redis restarted empty (down 3 s)',
        atS: redisAt,
        recoveredS: schedulesBackS,
        recovery: `every schedule back in Redis (check interval ${SCHEDULE_CHECK_S} s)`,
      });
    }
    await waitUntil(loadStarted + durationMs);
    loadDone = true;
    await Promise.all([webhookLoop, noticeLoop]);

    // --- drain: every webhook accepted, every notice queued and delivered
    log(`load over (t=${sinceStart()} s): draining`);
    const drainDeadline = Date.now() + 120_000;
    for (;;) {
      retryDue();
      await queueNotices(Math.floor((durationMs / 1000) * options.notificationsPerS));
      const [pending] = await queryRows<{ n: string }>(
        db.db,
        sql`select count(*)::text as n from notifications where status = 'pending'`,
      ).catch(() => [{ n: '1' }]);
      if (webhooks.retries.length === 0 && webhooks.inFlight === 0 && Number(pending?.n) === 0) break;
      if (Date.now() > drainDeadline) break;
      await sleep(250);
    }

    // --- stop everything gracefully
    log('stopping the processes (SIGTERM)');
    const alive = resources.processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    for (const p of alive) p.child.kill('SIGTERM');
    const exitCodes: Record<string, number | null> = {};
    for (const p of resources.processes) exitCodes[p.name] = await Promise.race([p.exited, sleep(30_000).then(() => null)]);

    // --- the invariants, from the database, the emulator and the logs
    const one = async (query: SQL) => Number((await queryRows<{ n: string }>(db.db, query))[0]?.n ?? 0);
    const distinctPosted = new Set(Array.from({ length: eventSeq }, (_, i) => (i % 10 === 9 && i > 0 ? i - 1 : i))).size;
    const sentRows = await queryRows<{ id: string; channel_message_id: string | null; recipient_user_id: string | null }>(
      db.db,
      sql`select id, channel_message_id::text, recipient_user_id::text from notifications where status = 'sent' and recipient_user_id is not null`,
    );
    const messageIdsByChat = new Set(sentRows.map((row) => `${row.recipient_user_id}:${row.channel_message_id}`));
    const telegram = await emulator.stats();
    const telegramMessages = telegram.delivered;
    const tooMany = telegram.requests.filter((request) => request.status === 429);
    const verify = await runCli(['audit', 'verify'], env, 120_000);
    const allLines = resources.processes.flatMap((p) => p.lines.map((line) => ({ name: p.name, line })));
    const nonJson = allLines.filter(({ line }) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    const result: SoakResult = {
      options: {
        durationS: options.durationS,
        workers: options.workers,
        webhooksPerS: options.webhooksPerS,
        notificationsPerS: options.notificationsPerS,
        faults: options.faults,
      },
      webhooks: {
        posts: webhooks.posts,
        distinctEvents: distinctPosted,
        stored: await one(sql`select count(*)::text as n from webhook_events where id like 'evt_soak_%'`),
        processed: await one(sql`select count(*)::text as n from webhook_events where id like 'evt_soak_%' and status = 'processed'`),
        notAccepted: webhooks.notAccepted,
        invoices: await one(sql`select count(*)::text as n from invoices where stripe_invoice_id like 'in_soak_%'`),
        invoicesWithTwoPayments: await one(
          sql`select count(*)::text as n from (select invoice_id from payments p join invoices i on i.id = p.invoice_id where i.stripe_invoice_id like 'in_soak_%' group by invoice_id having count(*) > 1) twice`,
        ),
        unanswered: distinctPosted - webhooks.accepted.size,
      },
      ticks: {
        total: await one(
          sql`select count(*)::text as n from bot_ticks where processed_at >= ${new Date(loadStarted).toISOString()}::timestamptz`,
        ),
        bots: await one(
          sql`select count(distinct bot_id)::text as n from bot_ticks where processed_at >= ${new Date(loadStarted).toISOString()}::timestamptz`,
        ),
      },
      orders: {
        total: await one(sql`select ((select count(*) from orders) + (select count(*) from paper_orders))::text as n`),
        duplicateClientOrderIds: await one(
          sql`select count(*)::text as n from (select bot_id, client_order_id from paper_orders group by 1, 2 having count(*) > 1 union all select bot_id, client_order_id from orders group by 1, 2 having count(*) > 1) d`,
        ),
      },
      notifications: {
        queuedByLoad: notices.queued,
        rows: await one(
          sql`select count(*)::text as n from notifications where created_at >= ${new Date(loadStarted).toISOString()}::timestamptz and recipient_user_id is not null`,
        ),
        sent: sentRows.length,
        pendingAtEnd: await one(sql`select count(*)::text as n from notifications where status = 'pending'`),
        failed: await one(sql`select count(*)::text as n from notifications where status = 'failed'`),
        telegramMessages,
        // Each Telegram message is recorded on its rows (one, or a digest's); more messages
        // than distinct recorded ones means a row went out twice.
        sentTwice: telegramMessages - messageIdsByChat.size,
        tooMany: tooMany.length,
        tooManyAtS: tooMany.map((request) => Math.round((request.at - loadStarted) / 100) / 10),
        digests: telegram.deliveredHeads.filter((head) => head.startsWith('📬')).length,
      },
      tooManyContext: tooMany.map((hit) =>
        telegram.requests
          .filter((request) => request.chatId === hit.chatId && request.at <= hit.at && request.at > hit.at - 2_000)
          .map((request) => `${Math.round(request.at - loadStarted) / 1000}:${request.status}`)
          .join(' '),
      ),
      schedules: { expected: SCHEDULES.length, presentAtEnd: await schedulesPresent(redis.url) },
      auditVerified: verify.code === 0,
      logLines: allLines.length,
      nonJsonLines: nonJson.slice(0, 20).map(({ name, line }) => `${name}: ${line.slice(0, 300)}`),
      exitCodes,
      lastLines: Object.fromEntries(
        resources.processes
          .filter((p) => exitCodes[p.name] !== 0)
          .map((p) => [p.name, p.lines.slice(-8).map((line) => line.slice(0, 400))]),
      ),
      faults,
    };
    return result;
  } finally {
    for (const p of resources.processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await resources.db?.close().catch(() => {});
    await resources.emulator?.close().catch(() => {});
    await resources.redis?.stop().catch(() => {});
    await resources.pg?.dispose().catch(() => {});
  }
}

/** The problems a soak found, one line each (empty: every invariant held). */
export function soakViolations(result: SoakResult): string[] {
  const problems: string[] = [];
  const w = result.webhooks;
  if (w.stored !== w.distinctEvents) problems.push(`webhooks: ${w.distinctEvents} distinct events posted, ${w.stored} stored`);
  if (w.processed !== w.stored) problems.push(`webhooks: ${w.stored - w.processed} stored but not processed`);
  if (w.unanswered !== 0) problems.push(`webhooks: ${w.unanswered} events never accepted`);
  if (w.invoices !== w.distinctEvents) problems.push(`webhooks: ${w.distinctEvents} events mirrored into ${w.invoices} invoices`);
  if (w.invoicesWithTwoPayments !== 0)
    problems.push(`webhooks: ${w.invoicesWithTwoPayments} invoices with two payments (an event applied twice)`);
  if (result.orders.duplicateClientOrderIds !== 0)
    problems.push(`orders: ${result.orders.duplicateClientOrderIds} duplicate client order ids`);
  if (result.ticks.total === 0) problems.push('ticks: no bot was ticked');
  const n = result.notifications;
  if (n.sentTwice !== 0) problems.push(`notifications: ${n.sentTwice} sent twice`);
  if (n.pendingAtEnd !== 0) problems.push(`notifications: ${n.pendingAtEnd} still pending after the drain`);
  if (n.failed !== 0) problems.push(`notifications: ${n.failed} failed`);
  if (n.tooMany !== 0) problems.push(`telegram: ${n.tooMany} answers 429`);
  if (n.queuedByLoad !== Math.floor(result.options.durationS * result.options.notificationsPerS))
    problems.push(`notifications: ${n.queuedByLoad} of ${Math.floor(result.options.durationS * result.options.notificationsPerS)} queued`);
  if (result.schedules.presentAtEnd !== result.schedules.expected)
    problems.push(`schedules: ${result.schedules.presentAtEnd} of ${result.schedules.expected} in Redis at the end`);
  for (const fault of result.faults)
    if (fault.recoveredS === null && fault.recovery.startsWith('every schedule'))
      problems.push(`schedules: not back after "${fault.fault}"`);
  if (!result.auditVerified) problems.push('audit verify failed');
  if (result.nonJsonLines.length > 0)
    problems.push(`logs: ${result.nonJsonLines.length} lines are not JSON, e.g. ${result.nonJsonLines[0]}`);
  for (const [name, code] of Object.entries(result.exitCodes)) {
    if (name === 'worker-1' && result.options.faults) continue; // killed on purpose
    if (code !== 0) problems.push(`${name} exited with ${code}; its last lines:\n    ${(result.lastLines[name] ?? []).join('\n    ')}`);
  }
  return problems;
}
