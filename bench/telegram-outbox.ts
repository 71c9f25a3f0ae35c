import crypto from 'node:crypto';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { sql } from 'drizzle-orm';
import { notifications, openDatabase, queryRows, runMigrations, telegramLinks, tenants, users, type Database } from '../db/index.ts';
import { OutboxSender, RateLimiter, TelegramSender } from '../telegram/outbox/index.ts';
import { observedRates, type LimitsEnforced, type ProxiedRequest } from '../test/support/telegram-emulator.ts';

const MESSAGES = Number(process.env.BENCH_TELEGRAM_MESSAGES ?? 1_000);
const CHATS = 50;

interface BurstResult {
  readonly label: string;
  readonly ratePerS: number;
  readonly chatRatePerS: number;
  readonly sent: number;
  readonly seconds: number;
  readonly achieved: number;
  readonly tooMany: number;
  readonly maxPerSecond: number;
  readonly maxPerChatPerSecond: number;
  readonly minChatGapMs: number;
  readonly claims: number;
}

async function burst(label: string, ratePerS: number, chatRatePerS: number): Promise<BurstResult> {
  const handle = await openDatabase({ dataDir: '', inMemory: true });
  await runMigrations(handle);
  const db: Database = handle.db;
  const tenantId = crypto.randomUUID();
  await db.insert(tenants).values({ id: tenantId, kind: 'company', name: 'bench' });
  const people = await db
    .insert(users)
    .values(Array.from({ length: CHATS }, (_, i) => ({ tenantId, email: `bench-${i}@example.com`, name: `Bench ${i}` })))
    .returning({ id: users.id });
  await db
    .insert(telegramLinks)
    .values(people.map((p, i) => ({ userId: p.id, telegramUserId: BigInt(900_000 + i), chatId: BigInt(900_000 + i) })));
  // Telegram (the emulator, on its own thread) enforcing the same limits: anything over them gets a 429.
  const limits: LimitsEnforced = { ratePerS, chatRatePerS, retryAfterS: 1, toleranceMs: 0 };
  const worker = new Worker(new URL('./telegram-emulator-worker.ts', import.meta.url), { workerData: { limits } });
  const [ready] = (await once(worker, 'message')) as [{ apiRoot: string; token: string }];
  const emulator = {
    ...ready,
    async stats(): Promise<{ requests: ProxiedRequest[]; delivered: number }> {
      worker.postMessage({ kind: 'stats' });
      return ((await once(worker, 'message')) as [{ requests: ProxiedRequest[]; delivered: number }])[0];
    },
  };
  try {
    const limiter = new RateLimiter({ ratePerS, chatRatePerS });
    const sender = new TelegramSender({ botToken: emulator.token, apiRoot: emulator.apiRoot, limiter });
    const outbox = new OutboxSender({ db, sender, pollIntervalMs: 50 });
    // The burst: every row queued at once (one statement), 20 per chat.
    await db.insert(notifications).values(
      Array.from({ length: MESSAGES }, (_, i) => ({
        tenantId,
        recipientUserId: people[i % CHATS]!.id,
        type: 'message',
        payload: { text: `Burst ${i}: alerta de teste` },
      })),
    );
    const started = performance.now();
    outbox.start();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const [row] = await queryRows<{ n: string | number }>(db, sql`select count(*) as n from notifications where status = 'sent'`);
      if (Number(row?.n) >= MESSAGES) break;
      if (performance.now() - started > 10 * 60_000) break;
    }
    const seconds = (performance.now() - started) / 1000;
    await outbox.stop();
    const { requests, delivered } = await emulator.stats();
    const accepted = requests.filter((r) => r.method === 'sendMessage' && r.status === 200);
    const span = accepted.length > 1 ? (accepted.at(-1)!.at - accepted[0]!.at) / 1000 : seconds;
    const rates = observedRates(requests);
    return {
      label,
      ratePerS,
      chatRatePerS,
      sent: delivered,
      seconds,
      achieved: (accepted.length - 1) / span,
      tooMany: requests.filter((r) => r.status === 429).length,
      maxPerSecond: rates.maxPerSecond,
      maxPerChatPerSecond: rates.maxPerChatPerSecond,
      minChatGapMs: rates.minChatGapMs,
      claims: outbox.totals.claimed,
    };
  } finally {
    worker.postMessage({ kind: 'close' });
    await once(worker, 'message');
    await worker.terminate();
    await handle.close();
  }
}

/**
 * A burst of 1,000 notifications to 50 chats (20 each) through the outbox, against the Bot
 * API emulator behind a proxy that answers 429 to anything over the configured limits:
 * first 10× Telegram's limits (quick), then Telegram's real ones (30/s, 1/s per chat: ~33 s;
 * BENCH_TELEGRAM_REAL=0 skips it).
 */
export async function outboxBurst(out: (line?: string) => void): Promise<void> {
  out(
    `## Telegram outbox burst (target: Telegram's limits exactly, no 429 in a ${MESSAGES.toLocaleString('en-US')}-message burst to ${CHATS} chats)`,
  );
  out();
  out(
    `${MESSAGES.toLocaleString('en-US')} rows queued at once (20 per chat) on the embedded database, delivered by one outbox sender to the Bot API emulator (telegram-test-api, on a worker thread of its own) behind a proxy that enforces the same limits (429 with retry_after for any request over them, counted at arrival in sliding 1-second windows, no tolerance; the sender keeps its default 25 ms jitter allowance). "Achieved" is accepted messages per second between the first and the last; "max in 1 s" is the most arrivals seen in any 1-second window.`,
  );
  out();
  out(
    '| run | limit overall / per chat | sent | seconds | achieved msg/s | 429s | max in 1 s | max per chat in 1 s | min gap per chat ms |',
  );
  out('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const runs: [string, number, number][] = process.env.BENCH_TELEGRAM_REAL === 'only' ? [] : [['scaled ×10', 300, 10]];
  if (process.env.BENCH_TELEGRAM_REAL !== '0') runs.push(["Telegram's limits", 30, 1]);
  for (const [label, rate, chatRate] of runs) {
    const r = await burst(label, rate, chatRate);
    out(
      `| ${r.label} | ${r.ratePerS} / ${r.chatRatePerS} | ${r.sent} | ${r.seconds.toFixed(2)} | ${r.achieved.toFixed(1)} (${((r.achieved / r.ratePerS) * 100).toFixed(1)} % of the limit) | ${r.tooMany} | ${r.maxPerSecond} | ${r.maxPerChatPerSecond} | ${r.minChatGapMs.toFixed(1)} |`,
    );
  }
  out();
}

// `node bench/telegram-outbox.ts` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  await outboxBurst((line = '') => console.log(line));
}
