import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock/index.ts';
import * as db from '../../db/index.ts';
import { openDatabase, queryRows, runMigrations, type DatabaseHandle } from '../../db/index.ts';
import {
  enqueueNotification,
  FileDeliveryJournal,
  OutboxSender,
  RateLimiter,
  RedisDeliveryJournal,
  TelegramSender,
  type DeliveryJournal,
} from '../../telegram/index.ts';
import { privatePostgresAvailable, startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.ts';
import { REDIS_URL, redisAvailable } from '../support/redis.ts';
import { startTelegramEmulator, type TelegramEmulator } from '../support/telegram-emulator.ts';

/**
 * Telegram accepts messages while the database has just crashed (`pg_ctl stop -m immediate`
 * on a private server): the deliveries cannot be recorded, and nothing may go out twice.
 */
describe.skipIf(!privatePostgresAvailable)('telegram outbox when the database crashes as Telegram answers', () => {
  let pg: PrivatePostgres;
  let emulator: TelegramEmulator;
  let clock: ManualClock;
  const handles: DatabaseHandle[] = [];
  const journals: DeliveryJournal[] = [];
  const senders: OutboxSender[] = [];
  const tenantId = crypto.randomUUID();

  beforeAll(async () => {
    pg = await startPrivatePostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.dispose();
  });
  beforeEach(async () => {
    const setup = await openDatabase({ url: pg.url, dataDir: '', poolMax: 2 });
    await setup.db.execute(sql`drop schema if exists public cascade; drop schema if exists drizzle cascade; create schema public`);
    await runMigrations(setup);
    await setup.close();
    clock = new ManualClock(Date.now());
    emulator = await startTelegramEmulator({ clock });
  }, 60_000);
  afterEach(async () => {
    await Promise.all(senders.splice(0).map((sender) => sender.stop({ timeoutMs: 2_000 })));
    await Promise.all(journals.splice(0).map((journal) => journal.close()));
    await emulator.close();
    await Promise.all(handles.splice(0).map((handle) => handle.close().catch(() => {})));
  });

  async function connect(): Promise<DatabaseHandle> {
    const handle = await openDatabase({ url: pg.url, dataDir: '', poolMax: 2 });
    handles.push(handle);
    return handle;
  }

  /** Three people, one message each. */
  async function company(): Promise<void> {
    const { db: x } = await connect();
    await x.insert(db.tenants).values({ id: tenantId, kind: 'company', name: 'BotCriptoFy' });
    for (let i = 0; i < 3; i++) {
      const [user] = await x
        .insert(db.users)
        .values({ tenantId, email: `p${i}@example.com`, name: `Pessoa ${i}` })
        .returning();
      await x.insert(db.telegramLinks).values({ userId: user!.id, telegramUserId: BigInt(900_000 + i), chatId: BigInt(900_000 + i) });
      await enqueueNotification(x, { tenantId, to: { userId: user!.id }, type: 'message', payload: { text: `aviso ${i}` } });
    }
  }

  function sender(handle: DatabaseHandle, journal: DeliveryJournal | undefined): OutboxSender {
    const limiter = new RateLimiter({ ratePerS: 200, chatRatePerS: 50, clock });
    const telegram = new TelegramSender({ botToken: emulator.token, apiRoot: emulator.apiRoot, limiter, requestTimeoutMs: 2_000 });
    const created = new OutboxSender({
      db: handle.db,
      sender: telegram,
      clock,
      leaseMs: 8_000,
      leaseSafetyMs: 500,
      pollIntervalMs: 40,
      ...(journal ? { journal } : {}),
    });
    senders.push(created);
    return created;
  }

  /** Runs a sender's round with the manual clock moving only while it waits for time. */
  async function round(outbox: OutboxSender) {
    let settled = false;
    const running = outbox.runOnce();
    running.then(
      () => (settled = true),
      () => (settled = true),
    );
    await clock.runUntil(() => settled, { what: 'round', idle: () => outbox.working === 0, maxMs: 30_000 });
    return running;
  }

  /** The database crashes the moment Telegram receives the first message (before it answers). */
  function crashOnFirstMessage(): void {
    let crashed = false;
    emulator.behaviour = ({ method }) => {
      if (method === 'sendMessage' && !crashed) {
        crashed = true;
        pg.crashSync();
      }
      return undefined;
    };
  }

  async function statuses(): Promise<Record<string, number>> {
    const { db: x } = await connect();
    const rows = await queryRows<{ status: string; n: string }>(
      x,
      sql`select status::text as status, count(*)::text as n from notifications group by 1`,
    );
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
  }

  it('without a journal, each message accepted during the crash goes out again after its lease (the failure this guards against)', async () => {
    await company();
    crashOnFirstMessage();
    const a = sender(await connect(), undefined);
    await round(a).catch(() => undefined);
    await pg.start();
    clock.advance(9_000); // past the lease
    const b = sender(await connect(), undefined);
    await round(b);
    expect(emulator.delivered().length).toBeGreaterThan(3);
    expect(await statuses()).toEqual({ sent: 3 });
  }, 60_000);

  it.skipIf(!redisAvailable)(
    'with the Redis journal, another sender that claims the lapsed rows records them instead of sending: each message once',
    async () => {
      await company();
      crashOnFirstMessage();
      const prefix = `outage-${crypto.randomUUID()}`;
      const journalA = new RedisDeliveryJournal({ url: REDIS_URL, prefix });
      const journalB = new RedisDeliveryJournal({ url: REDIS_URL, prefix });
      journals.push(journalA, journalB);
      const a = sender(await connect(), journalA);
      const first = await round(a);
      expect(first).toMatchObject({ claimed: 3, journaled: 3, sent: 0 });
      await pg.start();
      clock.advance(9_000); // A's lease has run out: the rows are anyone's
      const b = sender(await connect(), journalB);
      const second = await round(b);
      expect(second).toMatchObject({ claimed: 3, reconciled: 3, sent: 0 });
      const texts = emulator
        .delivered()
        .map((m) => m.text)
        .sort();
      expect(texts).toEqual(['aviso 0', 'aviso 1', 'aviso 2']);
      expect(await statuses()).toEqual({ sent: 3 });
      // A, back in business, finds its deliveries recorded by B and changes nothing.
      const third = await round(a);
      expect(third.reconciled).toBe(0);
      expect(emulator.delivered()).toHaveLength(3);
      expect(await journalB.lookup([])).toEqual(new Map());
    },
    60_000,
  );

  it('the sender itself records what it journaled as soon as the database answers again, before its lease ends', async () => {
    await company();
    crashOnFirstMessage();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-journal-')), 'telegram-deliveries.ndjson');
    const journal = new FileDeliveryJournal(file);
    journals.push(journal);
    const a = sender(await connect(), journal);
    expect(await round(a)).toMatchObject({ claimed: 3, journaled: 3 });
    // Still down: the next round fails and keeps everything.
    await expect(round(a)).rejects.toThrow();
    await pg.start();
    expect(await round(a)).toMatchObject({ reconciled: 3, claimed: 0, sent: 0 });
    expect(emulator.delivered()).toHaveLength(3);
    expect(await statuses()).toEqual({ sent: 3 });
    expect(fs.readFileSync(file, 'utf8')).toBe('');
  }, 60_000);

  it('with the file journal, a process restarted after the outage records what the last one left instead of sending it', async () => {
    await company();
    crashOnFirstMessage();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-journal-')), 'telegram-deliveries.ndjson');
    const journalA = new FileDeliveryJournal(file);
    journals.push(journalA);
    const a = sender(await connect(), journalA);
    expect(await round(a)).toMatchObject({ claimed: 3, journaled: 3 });
    // The process stops during the outage (its journal closed, not reconciled)...
    await a.stop();
    await journalA.close();
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(3);
    await pg.start();
    clock.advance(9_000);
    // ...and the next one, on the same data folder, records them before claiming anything.
    const journalB = new FileDeliveryJournal(file);
    journals.push(journalB);
    const b = sender(await connect(), journalB);
    const report = await round(b);
    expect(report).toMatchObject({ reconciled: 3, claimed: 0, sent: 0 });
    expect(
      emulator
        .delivered()
        .map((m) => m.text)
        .sort(),
    ).toEqual(['aviso 0', 'aviso 1', 'aviso 2']);
    const rows = await (await connect()).db.select().from(db.notifications);
    const ids = new Set(rows.map((row) => row.channelMessageId));
    expect(ids.size).toBe(3);
    expect(ids.has(null)).toBe(false);
    expect(rows.every((row) => row.status === 'sent' && row.attempts === 1 && row.claimedUntil === null)).toBe(true);
    await journalB.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('');
  }, 60_000);
});
