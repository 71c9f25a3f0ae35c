import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { ManualClock } from '../../clock/index.ts';
import { formatMoneyCents } from '../../i18n/index.ts';
import * as db from '../../db/index.ts';
import { openDatabase, queryRows, type Database, type DatabaseHandle, type Department } from '../../db/index.ts';
import {
  enqueueNotification,
  getNotificationPreferences,
  InvalidNotificationError,
  OutboxSender,
  RateLimiter,
  RedisSharedLimits,
  renderNotification,
  setNotificationPreference,
  TelegramSender,
  type OutboxSenderOptions,
} from '../../telegram/outbox/index.ts';
import { notifyBotEvent } from '../../trading/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';
import { answers, observedRates, startTelegramEmulator, type TelegramEmulator } from '../support/telegram-emulator.ts';
import { REDIS_URL, redisAvailable } from '../support/redis.ts';

// Time here is a ManualClock the tests move: leases, backoffs, retry_after and the rate
// limits are checked to the millisecond without waiting for them, and Telegram's arrival
// times are the instants the limiter granted (the clock stands still while a request is out).

/** Resolves with `promise`, moving `clock` (to its next timer each time) until it settles. */
async function driven<T>(clock: ManualClock, promise: Promise<T>, idle?: () => boolean): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await clock.runUntil(() => settled, { what: 'promise', ...(idle ? { idle } : {}) });
  return promise;
}

async function statusCounts(x: Database): Promise<Record<string, number>> {
  const rows = await queryRows<{ status: string; n: string | number }>(
    x,
    sql`select status::text as status, count(*) as n from notifications group by 1`,
  );
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}

describe('notification texts', () => {
  it('payment_failed in pt-BR and English, money from integer cents', () => {
    const payload = {
      invoiceId: 'in_1',
      number: 'BCF-0001',
      amountDueCents: 9_990,
      currency: 'brl',
      attempt: 1,
      nextPaymentAttemptAt: '2026-10-04T12:00:00.000Z',
      final: false,
    };
    const ptText = renderNotification('payment_failed', payload).text;
    expect(ptText).toContain('R$\u00a099,90');
    expect(ptText).toContain('BCF-0001');
    expect(ptText).toContain('04/10/2026');
    const enText = renderNotification('payment_failed', { ...payload, final: true }, 'en').text;
    expect(enText).toContain('R$99.90');
    expect(enText).toContain('Free plan');
  });

  it('formats large and negative cents exactly (no floating point)', () => {
    expect(formatMoneyCents(123_456_789_012_345, 'BRL', 'pt-BR')).toBe('R$\u00a01.234.567.890.123,45');
    expect(formatMoneyCents(-5, 'brl', 'en')).toBe('-R$0.05');
  });

  it('trades: exact decimals, quote currency, signed result', () => {
    const text = renderNotification('stop_loss_hit', {
      botId: crypto.randomUUID(),
      botName: 'rsi BTC/USDT',
      symbol: 'BTC/USDT',
      amountBase: '0.01450000',
      openPriceQuote: '65432.10',
      closePriceQuote: '63469.137',
      profitQuote: '-28.4628955',
      profitPct: '-3.0000',
    }).text;
    expect(text).toContain('Stop loss atingido');
    expect(text).toContain('0,0145 BTC');
    expect(text).toContain('65.432,10 USDT');
    expect(text).toContain('-28,46 USDT');
    expect(text).toContain('-3,00 %');
    const opened = renderNotification(
      'trade_opened',
      { botId: 'b', symbol: 'POL/USDT', amountBase: '1500', priceQuote: '0.41237' },
      'en',
    ).text;
    expect(opened).toContain('1,500 POL at 0.41237 USDT');
  });

  it('escapes HTML from payloads, and refuses unknown types and bad payloads', () => {
    expect(renderNotification('security_alert', { severity: 'high', title: '<script>x</script> & co' }).text).toContain(
      '&lt;script&gt;x&lt;/script&gt; &amp; co',
    );
    expect(() => renderNotification('nope', {})).toThrow(InvalidNotificationError);
    expect(() => renderNotification('payment_failed', { amountDueCents: 99.9 })).toThrow(/invalid payment_failed payload/);
  });

  it('long reports are cut at a line to fit one Telegram message', () => {
    const body = Array.from({ length: 400 }, (_, i) => `Linha ${i}: receita R$ 1.000,00`).join('\n');
    const text = renderNotification('executive_report', { period: 'daily', body }).text;
    expect(text.length).toBeLessThan(4_096);
    expect(text).toContain('(cortado: longo demais para uma mensagem)');
    expect(text).toMatch(/R\$ 1\.000,00\n… \(cortado/);
  });

  it('approval requests carry Approve/Reject buttons', () => {
    const message = renderNotification('approval_requested', {
      approvalId: 'ap1',
      tool: 'refund_payment',
      summary: 'Reembolso de R$ 99,90',
    });
    expect(message.replyMarkup?.inline_keyboard[0]?.map((b) => b.callback_data)).toEqual(['approval:ap1:approve', 'approval:ap1:reject']);
  });
});

describe('RateLimiter', () => {
  it('spaces grants: at most ratePerS overall and chatRatePerS per chat in any second', async () => {
    const times: { chat: string; at: number }[] = [];
    const clock = new ManualClock();
    const limiter = new RateLimiter({ ratePerS: 50, chatRatePerS: 5, clock, onGrant: (chat, at) => times.push({ chat, at }) });
    await driven(clock, Promise.all(Array.from({ length: 60 }, (_, i) => limiter.acquire(`c${i % 6}`))));
    expect(times).toHaveLength(60);
    for (let i = 1; i < times.length; i++) expect(times[i]!.at - times[i - 1]!.at).toBeGreaterThanOrEqual(20 - 1e-6);
    for (let c = 0; c < 6; c++) {
      const mine = times.filter((t) => t.chat === `c${c}`);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.at - mine[i - 1]!.at).toBeGreaterThanOrEqual(200 - 1e-6);
    }
    // 60 grants to 6 chats at 5/s each: ~1.8 s (the per-chat limit binds, not the global one).
    expect(times.at(-1)!.at - times[0]!.at).toBeGreaterThanOrEqual(1_800 - 1e-6);
  });

  it('leaves room for network jitter: at most N grants in any second plus jitterMs', async () => {
    const times: number[] = [];
    const clock = new ManualClock();
    const limiter = new RateLimiter({ ratePerS: 20, chatRatePerS: 20, jitterMs: 40, clock, onGrant: (_chat, at) => times.push(at) });
    await driven(clock, Promise.all(Array.from({ length: 45 }, (_, i) => limiter.acquire(`c${i}`))));
    for (let i = 20; i < times.length; i++) expect(times[i]! - times[i - 20]!).toBeGreaterThanOrEqual(1_040 - 1e-6);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(50 - 1e-6);
  });

  it('a busy chat does not hold up the others; pauses and deadlines are honoured', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ ratePerS: 100, chatRatePerS: 1, clock });
    await limiter.acquire('a');
    const started = limiter.now();
    const order: string[] = [];
    const a = limiter.acquire('a').then(() => order.push('a'));
    const b = limiter.acquire('b').then(() => order.push('b'));
    await driven(clock, Promise.all([a, b]));
    expect(order).toEqual(['b', 'a']);
    expect(limiter.now() - started).toBe(1_250); // one per second per chat, plus the 250 ms allowance for a late arrival
    limiter.pauseChat('c', limiter.now() + 300);
    await expect(limiter.acquire('c', { deadline: limiter.now() + 100 })).rejects.toThrow(/deadline/);
    const before = limiter.now();
    await driven(clock, limiter.acquire('c'));
    expect(limiter.now() - before).toBe(300);
    const controller = new AbortController();
    limiter.pauseAll(limiter.now() + 5_000);
    const waiting = limiter.acquire('d', { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toThrow(/stopped/);
  });
});

describe.each(testDrivers)('telegram outbox on %s', (driver) => {
  let test: TestDatabase;
  let x: Database;
  let emulator: TelegramEmulator;
  let clock: ManualClock;
  const senders: OutboxSender[] = [];
  const sharedLimits: RedisSharedLimits[] = [];
  /** Time moves only while every sender waits for it (nothing being claimed, drawn, sent or recorded). */
  const idle = () => senders.every((sender) => sender.working === 0);
  const waitFor = (check: () => Promise<boolean> | boolean, maxClockMs = 60_000, what = 'condition') =>
    clock.runUntil(check, { what, maxMs: maxClockMs, stepMs: 50, idle });
  const drive = <T>(promise: Promise<T>) => driven(clock, promise, idle);
  const extraHandles: DatabaseHandle[] = [];
  const companyId = crypto.randomUUID();
  let chatSeq = 0;

  beforeEach(async () => {
    test = await createTestDatabase(driver);
    x = test.handle.db;
    await x.insert(db.tenants).values({ id: companyId, kind: 'company', name: 'BotCriptoFy' });
    clock = new ManualClock(Date.now());
    emulator = await startTelegramEmulator({ clock });
  });
  afterEach(async () => {
    await Promise.all(senders.splice(0).map((sender) => sender.stop({ timeoutMs: 5_000 })));
    await Promise.all(sharedLimits.splice(0).map((limits) => limits.close()));
    await emulator.close();
    await Promise.all(extraHandles.splice(0).map((handle) => handle.close()));
    await test.dispose();
  });

  async function person(
    options: { linked?: boolean; department?: Department; locale?: 'pt-BR' | 'en'; tenantId?: string } = {},
  ): Promise<{ userId: string; chatId: string }> {
    const tenantId = options.tenantId ?? companyId;
    const [user] = await x
      .insert(db.users)
      .values({ tenantId, email: `${crypto.randomUUID()}@example.com`, name: 'Pessoa', locale: options.locale ?? 'pt-BR' })
      .returning();
    if (options.department) await x.insert(db.staff).values({ userId: user!.id, tenantId, department: options.department });
    const chatId = String(700_000 + ++chatSeq);
    if (options.linked ?? true)
      await x.insert(db.telegramLinks).values({ userId: user!.id, telegramUserId: BigInt(chatId), chatId: BigInt(chatId) });
    return { userId: user!.id, chatId };
  }

  function outbox(
    options: Partial<OutboxSenderOptions> & {
      ratePerS?: number;
      chatRatePerS?: number;
      database?: Database;
      requestTimeoutMs?: number;
      sharedPrefix?: string;
    } = {},
  ): OutboxSender {
    const rates = { ratePerS: options.ratePerS ?? 200, chatRatePerS: options.chatRatePerS ?? 50, clock };
    let shared: RedisSharedLimits | undefined;
    if (options.sharedPrefix) {
      const shapes = new RateLimiter(rates).shapes;
      shared = new RedisSharedLimits({ url: REDIS_URL, botKey: 'test', prefix: options.sharedPrefix, ...shapes });
      sharedLimits.push(shared);
    }
    const limiter = new RateLimiter({ ...rates, ...(shared ? { shared } : {}) });
    const sender = new TelegramSender({
      botToken: emulator.token,
      apiRoot: emulator.apiRoot,
      limiter,
      requestTimeoutMs: options.requestTimeoutMs ?? 2_000,
    });
    const created = new OutboxSender({
      db: options.database ?? x,
      sender,
      clock,
      leaseMs: 8_000,
      leaseSafetyMs: 500,
      pollIntervalMs: 40,
      backoff: { baseMs: 100, maxMs: 800 },
      outagePause: { baseMs: 100, maxMs: 400 },
      // These tests follow single messages; the digest has its own tests.
      digest: false,
      ...options,
    });
    senders.push(created);
    return created;
  }

  const note = (userId: string, text: string, extra: { dedupeKey?: string } = {}) =>
    enqueueNotification(x, { tenantId: companyId, to: { userId }, type: 'message', payload: { text }, ...extra });

  it('delivers a payment_failed in the reader’s language and records the message id', async () => {
    const ana = await person();
    const john = await person({ locale: 'en' });
    const payload = {
      invoiceId: 'in_1',
      number: 'BCF-0001',
      amountDueCents: 9_990,
      currency: 'brl',
      attempt: 2,
      nextPaymentAttemptAt: null,
      final: false,
    };
    await enqueueNotification(x, {
      tenantId: companyId,
      to: { userId: ana.userId },
      type: 'payment_failed',
      payload,
      dedupeKey: 'evt_1:trader',
    });
    await enqueueNotification(x, {
      tenantId: companyId,
      to: { userId: john.userId },
      type: 'payment_failed',
      payload,
      dedupeKey: 'evt_1:john',
    });
    expect(
      (
        await enqueueNotification(x, {
          tenantId: companyId,
          to: { userId: ana.userId },
          type: 'payment_failed',
          payload,
          dedupeKey: 'evt_1:trader',
        })
      ).created,
    ).toBe(false);
    const sender = outbox();
    const report = await drive(sender.runOnce());
    expect(report).toMatchObject({ claimed: 2, sent: 2 });
    const delivered = emulator.delivered();
    expect(delivered.find((m) => m.chatId === ana.chatId)?.text).toContain('Pagamento não aprovado');
    expect(delivered.find((m) => m.chatId === ana.chatId)?.text).toContain('R$\u00a099,90 (tentativa 2)');
    expect(delivered.find((m) => m.chatId === john.chatId)?.text).toContain('Payment declined');
    const rows = await x.select().from(db.notifications);
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'sent', attempts: 1, claimedUntil: null, lastError: null });
      expect(row.channelMessageId).toBeGreaterThan(0);
      expect(row.sentAt).toBeInstanceOf(Date);
    }
  });

  it('nothing is lost while Telegram is down: rows stay pending with backoff, then go out once', async () => {
    const people = await Promise.all(Array.from({ length: 5 }, () => person()));
    for (let i = 0; i < 30; i++) await note(people[i % 5]!.userId, `down-${i}`);
    const downUntil = clock.now() + 1_500;
    emulator.behaviour = ({ index }) => (clock.now() < downUntil ? (index % 2 ? answers.badGateway : 'reset') : undefined);
    const sender = outbox();
    sender.start();
    await waitFor(() => clock.now() > downUntil - 200, 5_000);
    const during = await statusCounts(x);
    expect(during.sent ?? 0).toBe(0);
    expect(during.pending).toBe(30);
    const [failing] = await queryRows<{ attempts: number; last_error: string | null; next_attempt_at: string | null }>(
      x,
      sql`select attempts, last_error, next_attempt_at::text from notifications where attempts > 0 limit 1`,
    );
    expect(failing?.last_error).toMatch(/502|ECONNRESET|socket|reset/i);
    expect(failing?.next_attempt_at).not.toBeNull();
    await waitFor(async () => (await statusCounts(x)).sent === 30, 20_000, 'all 30 sent');
    const texts = emulator.delivered().map((m) => m.text);
    expect(texts).toHaveLength(30);
    expect(new Set(texts).size).toBe(30);
    const [retried] = await queryRows<{ n: string | number }>(x, sql`select count(*) as n from notifications where attempts > 1`);
    expect(Number(retried?.n)).toBeGreaterThan(0);
  });

  it('two senders at once never send the same row', async () => {
    const people = await Promise.all(Array.from({ length: 20 }, () => person()));
    for (let i = 0; i < 200; i++) await note(people[i % 20]!.userId, `dup-${i}`);
    let second = x;
    if (test.url) {
      const handle = await openDatabase({ url: test.url, dataDir: '', poolMax: 4 });
      extraHandles.push(handle);
      second = handle.db;
    }
    const a = outbox({ batchSize: 30, perRecipient: 3 });
    const b = outbox({ batchSize: 30, perRecipient: 3, database: second });
    a.start();
    b.start();
    await waitFor(async () => (await statusCounts(x)).sent === 200, 30_000, 'all 200 sent');
    await Promise.all([a.stop(), b.stop()]);
    const texts = emulator.delivered().map((m) => m.text);
    // Two senders never send the same row. The one way a message goes out twice is a send
    // that failed after Telegram may have accepted it (a timeout on a loaded machine), and
    // each of those is counted.
    const maybeDelivered = a.totals.maybeDelivered + b.totals.maybeDelivered;
    expect(texts.length - 200).toBeGreaterThanOrEqual(0);
    expect(texts.length - 200).toBeLessThanOrEqual(maybeDelivered);
    expect(new Set(texts).size).toBe(200);
    expect(a.totals.sent + b.totals.sent).toBe(200);
    expect(a.totals.leaseLost + b.totals.leaseLost).toBe(0);
    expect(a.totals.sent).toBeGreaterThan(0);
    expect(b.totals.sent).toBeGreaterThan(0);
  });

  it('a message Telegram accepted but answered too late for is sent again, and counted: the one way to send twice', async () => {
    const p = await person();
    await note(p.userId, 'late-0');
    await note(p.userId, 'on-time');
    let late = 0;
    // Telegram stores the first message, but its answer comes after the request timed out. The
    // timeout leaves room for an on-time answer on a loaded machine (150 ms did not: the on-time
    // message timed out too and was sent twice, failing CI); the late one comes well after it.
    emulator.behaviour = ({ method, body }) =>
      method === 'sendMessage' && body?.text === 'late-0' && late++ === 0 ? { lateMs: 3_000 } : undefined;
    const registry = new Registry();
    const sender = outbox({ requestTimeoutMs: 1_500, metricsRegistry: registry });
    sender.start();
    await waitFor(async () => (await statusCounts(x)).sent === 2, 60_000, 'both sent');
    const texts = emulator
      .delivered()
      .map((m) => m.text)
      .sort();
    expect(texts).toEqual(['late-0', 'late-0', 'on-time']);
    expect(sender.totals).toMatchObject({ sent: 2, maybeDelivered: 1, retry: 1, leaseLost: 0 });
    expect(await registry.getSingleMetricAsString('telegram_outbox_maybe_delivered_total')).toContain(
      'telegram_outbox_maybe_delivered_total{type="message"} 1',
    );
    const rows = await x.select().from(db.notifications);
    expect(rows.map((row) => [row.status, row.attempts, row.lastError]).sort()).toEqual([
      ['sent', 1, null],
      ['sent', 2, null],
    ]);
  });

  it('rows of a sender that died are taken over when its lease ends, not before', async () => {
    const p = await person();
    for (let i = 0; i < 3; i++) await note(p.userId, `orphan-${i}`);
    const dead = outbox({ leaseMs: 3_000, leaseSafetyMs: 200, perRecipient: 5 });
    const claimed = await dead.claim(10); // claims, then "crashes" before sending
    expect(claimed).toHaveLength(3);
    const claimedAt = clock.now();
    const survivor = outbox();
    survivor.start();
    await waitFor(() => clock.now() >= claimedAt + 2_950, 5_000);
    expect(emulator.delivered()).toHaveLength(0);
    await waitFor(async () => (await statusCounts(x)).sent === 3, 10_000, 'orphans sent');
    expect(emulator.requests[0]!.at - claimedAt).toBeGreaterThanOrEqual(3_000);
    expect(
      emulator
        .delivered()
        .map((m) => m.text)
        .sort(),
    ).toEqual(['orphan-0', 'orphan-1', 'orphan-2']);
  });

  it('429: nothing more to that chat before retry_after, other chats carry on', async () => {
    const slow = await person();
    const other = await person();
    let refused = 0;
    emulator.behaviour = ({ chatId, method }) =>
      method === 'sendMessage' && chatId === slow.chatId && refused++ < 1 ? answers.tooMany(1) : undefined;
    for (let i = 0; i < 3; i++) await note(slow.userId, `slow-${i}`);
    for (let i = 0; i < 3; i++) await note(other.userId, `other-${i}`);
    const sender = outbox({ chatRatePerS: 10 });
    sender.start();
    await waitFor(async () => (await statusCounts(x)).sent === 6, 15_000, 'all 6 sent');
    const toSlow = emulator.requests.filter((r) => r.chatId === slow.chatId);
    const limited = toSlow.find((r) => r.status === 429)!;
    expect(limited).toBeDefined();
    for (const r of toSlow.filter((r) => r.at > limited.at)) expect(r.at - limited.at).toBeGreaterThanOrEqual(995);
    const toOther = emulator.requests.filter((r) => r.chatId === other.chatId && r.status === 200);
    expect(toOther.some((r) => r.at > limited.at && r.at < limited.at + 900)).toBe(true);
    expect(new Set(emulator.delivered().map((m) => m.text)).size).toBe(6);
    expect(emulator.delivered()).toHaveLength(6);
    expect(sender.totals.rateLimited).toBe(1);
  });

  it('429 on two chats at once: the whole bot waits retry_after', async () => {
    const people = await Promise.all(Array.from({ length: 4 }, () => person()));
    let refused = 0;
    emulator.behaviour = ({ method }) => (method === 'sendMessage' && refused++ < 2 ? answers.tooMany(1) : undefined);
    for (const p of people) for (let i = 0; i < 2; i++) await note(p.userId, `g-${p.chatId}-${i}`);
    // One request at a time (200 ms apart), so none is already on its way when the 429 arrives.
    const sender = outbox({ ratePerS: 5, chatRatePerS: 10 });
    sender.start();
    await waitFor(async () => (await statusCounts(x)).sent === 8, 15_000, 'all 8 sent');
    const second429 = emulator.requests.filter((r) => r.status === 429)[1]!;
    const afterIt = emulator.requests.filter((r) => r.at > second429.at);
    expect(afterIt.length).toBeGreaterThan(0);
    for (const r of afterIt) expect(r.at - second429.at).toBeGreaterThanOrEqual(995);
    expect(emulator.delivered()).toHaveLength(8);
  });

  it('steady state within the limits gets no 429 from a Telegram that enforces them', async () => {
    // Telegram's own counting isn't millisecond-exact either; 50 ms of slack keeps a CI
    // machine's scheduling jitter (other test files running) from reading as a burst.
    emulator.limits = { ratePerS: 25, chatRatePerS: 3, retryAfterS: 1, toleranceMs: 50 };
    const people = await Promise.all(Array.from({ length: 10 }, () => person()));
    for (let i = 0; i < 100; i++) await note(people[i % 10]!.userId, `steady-${i}`);
    const sender = outbox({ ratePerS: 25, chatRatePerS: 3 });
    const started = clock.now();
    sender.start();
    await waitFor(async () => (await statusCounts(x)).sent === 100, 20_000, 'all 100 sent');
    const seconds = (clock.now() - started) / 1000;
    expect(emulator.requests.filter((r) => r.status === 429)).toHaveLength(0);
    const rates = observedRates(emulator.requests);
    expect(rates.maxPerSecond).toBeLessThanOrEqual(26);
    expect(rates.maxPerChatPerSecond).toBeLessThanOrEqual(3);
    expect(seconds).toBeGreaterThan(3.5); // 100 messages at 25/s cannot take less than ~4 s
    expect(seconds).toBeLessThan(20);
  });

  it.skipIf(!redisAvailable)(
    'three senders (three worker processes) share one limit through Redis: no 429 from a Telegram that enforces it',
    async () => {
      emulator.limits = { ratePerS: 25, chatRatePerS: 3, retryAfterS: 1, toleranceMs: 50 };
      const people = await Promise.all(Array.from({ length: 4 }, () => person()));
      for (let i = 0; i < 120; i++) await note(people[i % 4]!.userId, `shared-${i}`);
      const sharedPrefix = `limits-${crypto.randomUUID()}`;
      // Each alone would send 25/s and 3/s per chat: three of them, 75/s and 9/s without the shared limit.
      const trio = [0, 1, 2].map(() => outbox({ ratePerS: 25, chatRatePerS: 3, sharedPrefix, perRecipient: 3 }));
      const started = clock.now();
      for (const sender of trio) sender.start();
      await waitFor(async () => (await statusCounts(x)).sent === 120, 120_000, 'all 120 sent');
      // The emulator's own counting (Telegram's limits with 50 ms of slack) is the judge: between a
      // grant and its arrival a sender waits on Redis, so arrivals are stamped up to a clock step
      // (50 ms) after their grants, and a strict one-second window can see one more than the rate.
      expect(emulator.requests.filter((r) => r.status === 429)).toHaveLength(0);
      expect(observedRates(emulator.requests).maxPerSecond).toBeLessThanOrEqual(26);
      // Four chats at 3/s each: 120 messages need about 10 s whoever sends them.
      expect((clock.now() - started) / 1000).toBeGreaterThan(9);
      expect(trio.filter((sender) => sender.totals.sent > 0).length).toBeGreaterThan(1);
      expect(new Set(emulator.delivered().map((m) => m.text)).size).toBe(120);
    },
  );

  it('a backlog for one chat goes out as digests (Finance gets one or two messages for 30 failed payments, not 30), each row recorded with its message id; the backlog is a metric', async () => {
    const finance = await person({ locale: 'en' });
    for (let i = 0; i < 30; i++) {
      const payload = {
        invoiceId: `in_${i}`,
        number: `BCF-${String(i).padStart(4, '0')}`,
        amountDueCents: 9_990 + i,
        currency: 'brl',
        attempt: 1,
        nextPaymentAttemptAt: null,
        final: false,
      };
      await enqueueNotification(x, {
        tenantId: companyId,
        to: { userId: finance.userId },
        type: 'payment_failed',
        payload,
        dedupeKey: `digest-${i}`,
      });
    }
    const registry = new Registry();
    const sender = outbox({ digest: {}, metricsRegistry: registry, chatRatePerS: 1 });
    expect(await sender.backlog()).toMatchObject({ pending: 30, largestReader: 30 });
    expect(await registry.getSingleMetricAsString('telegram_outbox_backlog')).toContain('telegram_outbox_backlog{measure="pending"} 30');
    sender.start();
    await waitFor(async () => (await statusCounts(x)).sent === 30, 30_000, 'all 30 sent');
    const messages = emulator.delivered();
    expect(messages.length).toBeLessThanOrEqual(3);
    expect(messages.every((m) => m.text.length <= 4_096)).toBe(true);
    expect(messages[0]!.text).toMatch(/^📬 <b>\d+ notifications<\/b>/);
    const all = messages.map((m) => m.text).join('\n');
    for (let i = 0; i < 30; i++) expect(all).toContain(`BCF-${String(i).padStart(4, '0')}`);
    const rows = await x.select().from(db.notifications);
    expect(new Set(rows.map((row) => row.channelMessageId)).size).toBe(messages.length);
    expect(rows.every((row) => row.status === 'sent' && row.attempts === 1)).toBe(true);
    expect(sender.totals.digested).toBe(30);
    expect(await registry.getSingleMetricAsString('telegram_outbox_backlog')).toContain('telegram_outbox_backlog{measure="pending"} 0');
    expect(await registry.getSingleMetricAsString('telegram_digests_total')).toContain(`telegram_digests_total ${messages.length}`);
  });

  it('approvals, charts and reports never go into a digest, and two rows still go one by one', async () => {
    const ana = await person();
    const bob = await person();
    for (let i = 0; i < 3; i++) await note(ana.userId, `ana-${i}`);
    await enqueueNotification(x, {
      tenantId: companyId,
      to: { userId: ana.userId },
      type: 'approval_requested',
      payload: { approvalId: crypto.randomUUID(), tool: 'refund_payment', summary: 'Estorno de R$ 10,00', requestedBy: 'finance' },
    });
    for (let i = 0; i < 2; i++) await note(bob.userId, `bob-${i}`);
    const sender = outbox({ digest: {} });
    sender.start();
    await waitFor(async () => (await statusCounts(x)).sent === 6, 30_000, 'all 6 sent');
    const toAna = emulator.delivered().filter((m) => m.chatId === ana.chatId);
    expect(toAna).toHaveLength(2);
    expect(toAna.find((m) => m.text.startsWith('📬 <b>3 avisos</b>'))?.text).toContain('ana-2');
    expect(toAna.find((m) => m.replyMarkup)).toBeDefined();
    expect(
      emulator
        .delivered()
        .filter((m) => m.chatId === bob.chatId)
        .map((m) => m.text)
        .sort(),
    ).toEqual(['bob-0', 'bob-1']);
  });

  it('preferences: off is skipped, silent has no sound, * applies to types without their own setting', async () => {
    const ana = await person();
    await setNotificationPreference(x, ana.userId, 'trade_opened', 'off');
    await setNotificationPreference(x, ana.userId, 'risk_refusal', 'silent');
    await setNotificationPreference(x, ana.userId, '*', 'off');
    await setNotificationPreference(x, ana.userId, 'message', 'on');
    const levels = await getNotificationPreferences(x, ana.userId);
    expect(levels).toMatchObject({ trade_opened: 'off', risk_refusal: 'silent', message: 'on', payment_failed: 'off' });
    await enqueueNotification(x, {
      tenantId: companyId,
      to: { userId: ana.userId },
      type: 'trade_opened',
      payload: { botId: 'b1', symbol: 'BTC/USDT', amountBase: '0.01', priceQuote: '65000' },
    });
    await enqueueNotification(x, {
      tenantId: companyId,
      to: { userId: ana.userId },
      type: 'risk_refusal',
      payload: { botId: 'b1', symbol: 'BTC/USDT', rule: 'max_daily_loss', reason: 'perda diária de 5 %' },
    });
    await enqueueNotification(x, {
      tenantId: companyId,
      to: { userId: ana.userId },
      type: 'security_alert',
      payload: { severity: 'low', title: 'login' },
    });
    await note(ana.userId, 'loud');
    const report = await drive(outbox({ perRecipient: 10 }).runOnce());
    expect(report).toMatchObject({ sent: 2, skipped: 2 });
    const delivered = emulator.delivered();
    expect(delivered.find((m) => m.text.includes('risco'))?.disableNotification).toBe(true);
    expect(delivered.find((m) => m.text === 'loud')?.disableNotification).toBe(false);
    const skipped = await x.select().from(db.notifications).where(eq(db.notifications.status, 'skipped'));
    expect(skipped.map((row) => row.type).sort()).toEqual(['security_alert', 'trade_opened']);
    expect(skipped[0]!.lastError).toMatch(/off/);
  });

  it('a department notification reaches each linked staff member of it once', async () => {
    const head = await person({ department: 'finance' });
    const member = await person({ department: 'finance', locale: 'en' });
    await person({ department: 'finance', linked: false });
    const support = await person({ department: 'support' });
    const payload = { invoiceId: 'in_9', amountDueCents: 49_990, currency: 'brl', attempt: 1, final: false };
    await enqueueNotification(x, {
      tenantId: companyId,
      to: { department: 'finance' },
      type: 'payment_failed',
      payload,
      dedupeKey: 'evt_9:finance',
    });
    const sender = outbox();
    sender.start();
    await waitFor(async () => (await statusCounts(x)).sent === 3, 10_000, 'fan-out sent');
    await clock.advance(300);
    const delivered = emulator.delivered();
    expect(delivered.map((m) => m.chatId).sort()).toEqual([head.chatId, member.chatId].sort());
    expect(delivered.find((m) => m.chatId === member.chatId)?.text).toContain('R$499.90');
    expect(delivered.some((m) => m.chatId === support.chatId)).toBe(false);
    const rows = await x.select().from(db.notifications);
    const parent = rows.find((row) => row.recipientDepartment === 'finance')!;
    expect(parent).toMatchObject({ status: 'sent', channelMessageId: null });
    expect(
      rows
        .filter((row) => row.recipientUserId)
        .map((row) => row.dedupeKey)
        .sort(),
    ).toEqual([`evt_9:finance:user:${head.userId}`, `evt_9:finance:user:${member.userId}`].sort());
    // A department where nobody linked Telegram: skipped, with the reason.
    await enqueueNotification(x, {
      tenantId: companyId,
      to: { department: 'audit' },
      type: 'security_alert',
      payload: { severity: 'medium', title: 'x' },
    });
    await waitFor(async () => (await statusCounts(x)).skipped === 1, 5_000, 'audit skipped');
  });

  it('permanent refusals (403 blocked, 400 chat not found) fail at once, without retries', async () => {
    const blocked = await person();
    const gone = await person();
    const fine = await person();
    const unlinked = await person({ linked: false });
    emulator.behaviour = ({ chatId }) =>
      chatId === blocked.chatId ? answers.blocked : chatId === gone.chatId ? answers.chatNotFound : undefined;
    await note(blocked.userId, 'to blocked');
    await note(gone.userId, 'to gone');
    await note(fine.userId, 'to fine');
    await note(unlinked.userId, 'to nobody');
    const sender = outbox();
    sender.start();
    await waitFor(
      async () => {
        const counts = await statusCounts(x);
        return counts.failed === 2 && counts.sent === 1 && counts.skipped === 1;
      },
      10_000,
      'outcomes',
    );
    await clock.advance(500);
    expect(emulator.requests.filter((r) => r.chatId === blocked.chatId)).toHaveLength(1);
    expect(emulator.requests.filter((r) => r.chatId === gone.chatId)).toHaveLength(1);
    const failed = await x.select().from(db.notifications).where(eq(db.notifications.status, 'failed'));
    expect(failed.map((row) => row.lastError).sort()).toEqual([
      '400 Bad Request: chat not found',
      '403 Forbidden: bot was blocked by the user',
    ]);
    expect(failed.every((row) => row.attempts === 1 && row.nextAttemptAt === null)).toBe(true);
    const [skipped] = await x.select().from(db.notifications).where(eq(db.notifications.status, 'skipped'));
    expect(skipped?.lastError).toMatch(/no linked Telegram chat/);
  });

  it('a graceful stop records what is in flight and releases what waits for a slot', async () => {
    const p = await person();
    for (let i = 0; i < 5; i++) await note(p.userId, `drain-${i}`);
    const sender = outbox({ chatRatePerS: 1, perRecipient: 5 });
    sender.start();
    await waitFor(() => emulator.delivered().length === 1, 5_000, 'first message');
    await sender.stop();
    const rows = await x.select().from(db.notifications);
    expect(rows.filter((row) => row.status === 'sent')).toHaveLength(1);
    const pending = rows.filter((row) => row.status === 'pending');
    expect(pending).toHaveLength(4);
    expect(pending.every((row) => row.claimedUntil === null)).toBe(true);
    // Another sender picks them up straight away.
    const next = outbox({ chatRatePerS: 20 });
    next.start();
    await waitFor(async () => (await statusCounts(x)).sent === 5, 10_000, 'rest sent');
    expect(new Set(emulator.delivered().map((m) => m.text)).size).toBe(5);
  });

  it('trading events become the trader’s notifications with exact figures, once', async () => {
    const traderId = crypto.randomUUID();
    await x.insert(db.tenants).values({ id: traderId, kind: 'trader', name: 'Ana' });
    const ana = await person({ tenantId: traderId });
    const [bot] = await x
      .insert(db.bots)
      .values({ tenantId: traderId, name: 'RSI BTC', strategyName: 'rsi', symbols: ['BTC/USDT'], stakeQuote: '1000' })
      .returning();
    await x.insert(db.trades).values({
      tenantId: traderId,
      botId: bot!.id,
      symbol: 'BTC/USDT',
      status: 'closed',
      amountBase: '0.0145',
      openPriceQuote: '65432.1',
      closePriceQuote: '63469.137',
      feeQuote: '1.8',
      profitQuote: '-30.262895',
      profitPct: '-3.19',
      exitReason: 'stop_loss',
      openedAt: new Date(Date.now() - 3_600_000),
      closedAt: new Date(),
    });
    const event = {
      type: 'trade_closed',
      botId: bot!.id,
      tenantId: traderId,
      symbol: 'BTC/USDT',
      amountBase: 0.0145,
      priceQuote: 63469.137,
      profitQuote: -30.262895,
      reason: 'stop_loss',
    } as const;
    expect((await notifyBotEvent(x, event))[0]?.created).toBe(true);
    expect((await notifyBotEvent(x, event))[0]?.created).toBe(false);
    await drive(outbox().runOnce());
    const [message] = emulator.delivered();
    expect(message?.chatId).toBe(ana.chatId);
    expect(message?.text).toContain('Stop loss atingido');
    expect(message?.text).toContain('RSI BTC');
    expect(message?.text).toContain('-30,26 USDT');
    expect(message?.text).toContain('(-3,19 %)');
  });

  it('a chart notification is drawn at send time and goes out as a photo; another tenant’s bot is refused', async () => {
    const ceo = await person();
    await enqueueNotification(x, {
      tenantId: companyId,
      to: { userId: ceo.userId },
      type: 'chart',
      payload: { kind: 'revenue_mrr', months: 6 },
    });
    const traderId = crypto.randomUUID();
    await x.insert(db.tenants).values({ id: traderId, kind: 'trader', name: 'Bia' });
    const [bot] = await x
      .insert(db.bots)
      .values({ tenantId: traderId, name: 'Bia bot', strategyName: 'rsi', symbols: ['ETH/USDT'], stakeQuote: '500' })
      .returning();
    // Queued under the company's tenant, so the trader's bot is not found there.
    await enqueueNotification(x, {
      tenantId: companyId,
      to: { userId: ceo.userId },
      type: 'chart',
      payload: { kind: 'bot_equity', botId: bot!.id },
    });
    const report = await drive(outbox({ perRecipient: 5 }).runOnce());
    expect(report).toMatchObject({ sent: 1, failed: 1 });
    expect(emulator.photos).toHaveLength(1);
    expect(emulator.photos[0]!.png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(emulator.photos[0]!.caption).toMatch(/^Receita e MRR/);
    const rows = await x.select().from(db.notifications);
    expect(rows.find((row) => row.status === 'sent')?.channelMessageId).toBeGreaterThan(0);
    expect(rows.find((row) => row.status === 'failed')?.lastError).toMatch(/not found/);
  });

  it('refuses bad notifications at the producer', async () => {
    const p = await person();
    await expect(
      enqueueNotification(x, {
        tenantId: companyId,
        to: { userId: p.userId },
        type: 'payment_failed',
        payload: { amountDueCents: '99,90' },
      }),
    ).rejects.toThrow(/invalid payment_failed payload/);
    await expect(
      enqueueNotification(x, { tenantId: companyId, to: { userId: 'not-a-uuid' }, type: 'message', payload: { text: 'x' } }),
    ).rejects.toThrow();
    await expect(setNotificationPreference(x, p.userId, 'bogus' as never, 'off')).rejects.toThrow();
  });
});
