import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import type { Database, Department } from '../../db/index.ts';
import {
  enqueueNotification,
  NotificationOutbox,
  registerChannel,
  registeredChannels,
  setDeliveryChannels,
  setNotificationPreference,
  type DeliveryFailure,
  type NotificationChannel,
  type OutgoingNotification,
  type SendContext,
} from '../../notifications/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

// The outbox knows no channel: here it delivers through a channel made up for the test (what
// the web events stream or e-mail will be), with its own addresses, answers and metric names.

class FailedSend extends Error {
  readonly failure: DeliveryFailure;
  constructor(failure: DeliveryFailure) {
    super('failed');
    this.failure = failure;
  }
}

class MemoryChannel implements NotificationChannel<string> {
  readonly name = 'memo';
  readonly label = 'Memo';
  readonly ratePerS = 100;
  readonly perReaderRatePerS = 10;
  readonly maxCallMs = 1_000;
  readonly waiting = 0;
  pausedUntil = 0;
  readonly unreachable = { person: 'no memo address', department: (department: string) => `nobody in ${department} has a memo address` };
  readonly inbox = new Map<string, string>();
  readonly sent: { address: string; outgoing: OutgoingNotification; silent: boolean }[] = [];
  /** The next sends fail like this. */
  failures: DeliveryFailure[] = [];

  now(): number {
    return Date.now();
  }
  pauseAll(untilMs: number): void {
    this.pausedUntil = untilMs;
  }
  async addresses(_db: Database, userIds: readonly string[]): Promise<Map<string, string>> {
    return new Map(userIds.filter((id) => this.inbox.has(id)).map((id) => [id, this.inbox.get(id)!]));
  }
  async send(address: string, outgoing: OutgoingNotification, context: SendContext): Promise<{ messageId: number }> {
    const failure = this.failures.shift();
    if (failure) throw new FailedSend(failure);
    this.sent.push({ address, outgoing, silent: context.silent });
    return { messageId: 1_000 + this.sent.length };
  }
  classify(error: unknown): DeliveryFailure | undefined {
    return error instanceof FailedSend ? error.failure : undefined;
  }
}

describe('the outbox through a channel of its own', () => {
  let test: TestDatabase;
  let x: Database;
  let channel: MemoryChannel;
  let restoreChannels: () => void;
  const companyId = crypto.randomUUID();

  beforeEach(async () => {
    test = await createTestDatabase('pglite');
    x = test.handle.db;
    await x.insert(db.tenants).values({ id: companyId, kind: 'company', name: 'BotCriptoFy' });
    channel = new MemoryChannel();
    // Queued for both channels: each outbox claims only its own channel's rows.
    restoreChannels = setDeliveryChannels(['memo', 'telegram']);
  });
  afterEach(async () => {
    restoreChannels();
    await test.dispose();
  });

  async function person(options: { address?: string; department?: Department; locale?: 'pt-BR' | 'en' } = {}): Promise<string> {
    const [user] = await x
      .insert(db.users)
      .values({ tenantId: companyId, email: `${crypto.randomUUID()}@example.com`, name: 'Pessoa', locale: options.locale ?? 'pt-BR' })
      .returning();
    if (options.department) await x.insert(db.staff).values({ userId: user!.id, tenantId: companyId, department: options.department });
    if (options.address) channel.inbox.set(user!.id, options.address);
    return user!.id;
  }

  const statusOf = async (id: string | null) => (await x.select().from(db.notifications).where(eq(db.notifications.id, id!)))[0]!;

  it('delivers in the reader’s language, records the channel’s message id, honours preferences and names its metrics after the channel', async () => {
    const ana = await person({ address: 'ana@memo', locale: 'en' });
    const registry = new Registry();
    const outbox = new NotificationOutbox({ db: x, channel, metricsRegistry: registry, digest: false });
    const alert = await enqueueNotification(x, {
      tenantId: companyId,
      to: { userId: ana },
      type: 'security_alert',
      payload: { severity: 'high', title: 'Login from a new country' },
    });
    await setNotificationPreference(x, ana, 'message', 'silent');
    const note = await enqueueNotification(x, { tenantId: companyId, to: { userId: ana }, type: 'message', payload: { text: 'hello' } });
    const report = await outbox.runOnce();
    expect(report.sent).toBe(2);
    expect(channel.sent.map((s) => [s.address, s.outgoing.kind, s.silent])).toEqual([
      ['ana@memo', 'text', false],
      ['ana@memo', 'text', true],
    ]);
    const first = channel.sent[0]!.outgoing;
    expect(first.kind === 'text' && first.message.text).toContain('Security alert (high)');
    expect((await statusOf(alert.id)).status).toBe('sent');
    expect((await statusOf(alert.id)).channelMessageId).toBe(1_001);
    expect((await statusOf(note.id)).status).toBe('sent');
    // The same two notifications wait for Telegram's outbox: one channel's sends never mark another's rows.
    const telegramRows = await x.select().from(db.notifications).where(eq(db.notifications.channel, 'telegram'));
    expect(telegramRows.map((row) => [row.type, row.status, row.channelMessageId])).toEqual([
      ['security_alert', 'pending', null],
      ['message', 'pending', null],
    ]);
    expect(await registry.getSingleMetricAsString('memo_notifications_total')).toContain(
      'memo_notifications_total{type="security_alert",outcome="sent"} 1',
    );
  });

  it('skips a person the channel cannot reach, and fans a department out to the members it reaches', async () => {
    const nobody = await person();
    await person({ department: 'finance' });
    const reached = await person({ department: 'finance', address: 'fin@memo' });
    const outbox = new NotificationOutbox({ db: x, channel, digest: false });
    const lost = await enqueueNotification(x, { tenantId: companyId, to: { userId: nobody }, type: 'message', payload: { text: 'x' } });
    const team = await enqueueNotification(x, {
      tenantId: companyId,
      to: { department: 'finance' },
      type: 'message',
      payload: { text: 'para o time' },
      dedupeKey: 'team-1',
    });
    await outbox.runOnce();
    expect(await statusOf(lost.id)).toMatchObject({ status: 'skipped', lastError: 'no memo address' });
    expect((await statusOf(team.id)).status).toBe('sent');
    await outbox.runOnce();
    expect(channel.sent.map((s) => s.address)).toEqual(['fin@memo']);
    const rows = await x
      .select()
      .from(db.notifications)
      .where(eq(db.notifications.dedupeKey, `team-1:user:${reached}`));
    expect(rows.map((row) => row.status)).toEqual(['sent']);
    const empty = await enqueueNotification(x, {
      tenantId: companyId,
      to: { department: 'sales' },
      type: 'message',
      payload: { text: 'x' },
    });
    await outbox.runOnce();
    expect(await statusOf(empty.id)).toMatchObject({ status: 'skipped', lastError: 'nobody in sales has a memo address' });
  });

  it('reads the channel’s failures: permanent fails the row, transient keeps it pending for a retry, an outage pauses the channel', async () => {
    const ana = await person({ address: 'ana@memo' });
    const outbox = new NotificationOutbox({ db: x, channel, digest: false });
    channel.failures = [
      { kind: 'permanent', code: 403, description: 'blocked' },
      { kind: 'transient', outage: true, maybeDelivered: false, description: 'memo is down' },
    ];
    const refused = await enqueueNotification(x, { tenantId: companyId, to: { userId: ana }, type: 'message', payload: { text: 'one' } });
    await outbox.runOnce();
    expect(await statusOf(refused.id)).toMatchObject({ status: 'failed', lastError: 'blocked', attempts: 1 });
    const later = await enqueueNotification(x, { tenantId: companyId, to: { userId: ana }, type: 'message', payload: { text: 'two' } });
    const report = await outbox.runOnce();
    expect(report.retry).toBe(1);
    const row = await statusOf(later.id);
    expect(row).toMatchObject({ status: 'pending', lastError: 'memo is down', attempts: 1, claimedUntil: null });
    expect(row.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now());
    expect(channel.pausedUntil).toBeGreaterThan(Date.now());
    expect(channel.sent).toEqual([]);
  });

  it('channels register by name', () => {
    const undo = registerChannel(channel);
    expect(registeredChannels().get('memo')).toBe(channel);
    undo();
    expect(registeredChannels().has('memo')).toBe(false);
  });
});
