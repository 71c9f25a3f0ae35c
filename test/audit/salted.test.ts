import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendAudit,
  auditRowsNaming,
  GENESIS_HASH,
  hashAuditRow,
  personalDigest,
  redactAuditRows,
  sha256Hex,
  verifyAuditChain,
  type AuditRowContent,
} from '../../audit/index.ts';
import { queryRows, type Database } from '../../db/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

// Salted audit rows (issue 18): a row's hash covers its personal fields (actor id, args,
// details) only through an HMAC under the row's own random salt, which an erasure destroys with
// the fields. Before the erasure the chain verifies and the salt confirms the fields; after it
// the chain still verifies, and nothing left in the database confirms a guessed email or name.
// Rows written before salting (both columns null) keep their old hash and verify as before.

const EMAIL = 'maria.souza@example.com';
const NAME = 'Maria Souza';
const AT = new Date('2026-12-02T12:00:00.000Z');

type StoredRow = {
  id: number;
  prev_hash: string;
  hash: string;
  actor_id: string | null;
  args: unknown;
  details: unknown;
  personal_salt: string | null;
  personal_digest: string | null;
  row_text: string;
};

const stored = async (db: Database, id: number) =>
  (
    await queryRows<StoredRow>(
      db,
      sql`select id::int as id, prev_hash, hash, actor_id, args, details, personal_salt, personal_digest, a::text as row_text
          from audit_log a where id = ${id}`,
    )
  )[0]!;

describe.each(testDrivers)('salted audit rows (%s)', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let legacyId: number;
  let saltedId: number;
  /** The salted row as written: what a dictionary attack would guess exactly. */
  let original: AuditRowContent;
  let saltBefore: string;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.handle.db;
    await appendAudit(db, { occurredAt: AT, actorKind: 'system', action: 'seed', outcome: 'ok' });
    // A row written before salting, as migration 0022 leaves it: no salt, no digest, its hash over the fields.
    const [head] = await queryRows<{ hash: string }>(db, sql`select hash from audit_log order by id desc limit 1`);
    const legacy: AuditRowContent = {
      occurredAt: new Date('2026-12-02T12:00:01.000Z'),
      tenantId: null,
      actorKind: 'staff',
      actorId: 'staff-7',
      agent: null,
      action: 'tool.call',
      tool: 'freeze_api_key',
      args: { email: EMAIL },
      outcome: 'ok',
      resultDigest: null,
      durationMs: 3,
      details: null,
    };
    const prev = head?.hash ?? GENESIS_HASH;
    const [written] = await queryRows<{ id: number }>(
      db,
      sql`insert into audit_log (occurred_at, actor_kind, actor_id, action, tool, args, outcome, duration_ms, prev_hash, hash)
          values (${legacy.occurredAt.toISOString()}::timestamptz, 'staff', 'staff-7', 'tool.call', 'freeze_api_key', ${JSON.stringify(legacy.args)}::jsonb, 'ok', 3,
                  ${prev}, ${hashAuditRow(prev, legacy)}) returning id::int as id`,
    );
    legacyId = written!.id;
    saltedId = (
      await appendAudit(db, {
        occurredAt: new Date('2026-12-02T12:00:02.000Z'),
        actorKind: 'trader',
        actorId: 'user-maria',
        action: 'tool.call',
        tool: 'answer_ticket',
        args: { message: `Aqui é ${NAME}, ${EMAIL}` },
        outcome: 'ok',
        details: { name: NAME },
      })
    ).id;
    await appendAudit(db, { occurredAt: new Date('2026-12-02T12:00:03.000Z'), actorKind: 'system', action: 'after', outcome: 'ok' });
    const row = await stored(db, saltedId);
    saltBefore = row.personal_salt!;
    original = {
      occurredAt: new Date('2026-12-02T12:00:02.000Z'),
      tenantId: null,
      actorKind: 'trader',
      actorId: 'user-maria',
      agent: null,
      action: 'tool.call',
      tool: 'answer_ticket',
      args: { message: `Aqui é ${NAME}, ${EMAIL}` },
      outcome: 'ok',
      resultDigest: null,
      durationMs: null,
      details: { name: NAME },
    };
  }, 120_000);
  afterAll(async () => {
    await test?.dispose();
  });

  it('before an erasure: the chain verifies, each new row has its own salt, and the salt confirms the fields', async () => {
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, rowsChecked: 4 });
    const row = await stored(db, saltedId);
    expect(row.personal_salt).toMatch(/^[0-9a-f]{64}$/);
    expect(personalDigest(row.personal_salt!, original)).toBe(row.personal_digest);
    // The hash covers the digest, not the fields: the fields alone do not give it.
    expect(hashAuditRow(row.prev_hash, original, row.personal_digest)).toBe(row.hash);
    expect(hashAuditRow(row.prev_hash, original)).not.toBe(row.hash);
    const salts = await queryRows<{ n: number }>(
      db,
      sql`select count(distinct personal_salt)::int as n from audit_log where personal_salt is not null`,
    );
    expect(salts[0]!.n).toBe(3);
    const legacy = await stored(db, legacyId);
    expect([legacy.personal_salt, legacy.personal_digest]).toEqual([null, null]);
  });

  it('after an erasure: the chain still verifies, the salt is gone, and a guessed email or name matches nothing left', async () => {
    const rows = await auditRowsNaming(db, { tenantIds: [], actorIds: ['user-maria'], texts: [EMAIL] });
    expect(rows.map((r) => r.id).sort()).toEqual([legacyId, saltedId].sort());
    const scrub = (value: unknown) =>
      value === null
        ? null
        : (JSON.parse(JSON.stringify(value).replaceAll(EMAIL, '[erased]').replaceAll(NAME, 'Erased person')) as unknown);
    const result = await db.transaction((tx) =>
      redactAuditRows(
        tx as unknown as Database,
        rows,
        (content) => ({
          actorId: content.actorId === 'user-maria' ? 'erased-person' : content.actorId,
          args: scrub(content.args),
          details: scrub(content.details),
        }),
        {
          occurredAt: new Date('2026-12-02T12:00:04.000Z'),
          actorKind: 'staff',
          actorId: 'security-head',
          action: 'privacy.erasure',
          outcome: 'ok',
        },
        new Date('2026-12-02T12:00:04.000Z'),
      ),
    );
    expect(result.redactedRows).toBe(2);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, rowsChecked: 5 });

    const row = await stored(db, saltedId);
    expect(row.personal_salt).toBeNull();
    expect(row.row_text).not.toContain(EMAIL);
    expect(row.row_text).not.toContain(NAME);
    // Nothing in the database holds the salt any more.
    const everywhere = await queryRows<{ n: number }>(
      db,
      sql`select (select count(*) from audit_log a where strpos(a::text, ${saltBefore}) > 0)
               + (select count(*) from audit_redactions r where strpos(r::text, ${saltBefore}) > 0) as n`,
    );
    expect(Number(everywhere[0]!.n)).toBe(0);
    // What is left: the hash and the digest. The exact original (the best guess there is) confirms
    // neither without the salt — not as the hash of the fields, not as their plain or unkeyed digest.
    const fields = JSON.stringify({ actorId: original.actorId, args: original.args, details: original.details });
    const guesses = [
      hashAuditRow(row.prev_hash, original),
      sha256Hex(fields),
      crypto.createHmac('sha256', Buffer.alloc(0)).update(fields).digest('hex'),
      personalDigest('', original),
      personalDigest(crypto.randomBytes(32).toString('hex'), original),
    ];
    for (const guess of guesses) {
      expect(guess).not.toBe(row.hash);
      expect(guess).not.toBe(row.personal_digest);
    }
    // With the salt (gone now) it would have: the test above shows nothing vacuous.
    expect(personalDigest(saltBefore, original)).toBe(row.personal_digest);
    // The hash checks out over the redacted row and the stored digest alone.
    const redacted = { ...original, actorId: row.actor_id, args: row.args, details: row.details } as AuditRowContent;
    expect(hashAuditRow(row.prev_hash, redacted, row.personal_digest)).toBe(row.hash);

    // A row written before salting keeps the old weakness (its hash still covers the original
    // fields, so the exact guess confirms it): the migration cannot re-hash rows of a chain.
    const legacy = await stored(db, legacyId);
    expect(legacy.row_text).not.toContain(EMAIL);
    expect(
      hashAuditRow(legacy.prev_hash, {
        occurredAt: new Date('2026-12-02T12:00:01.000Z'),
        tenantId: null,
        actorKind: 'staff',
        actorId: 'staff-7',
        agent: null,
        action: 'tool.call',
        tool: 'freeze_api_key',
        args: { email: EMAIL },
        outcome: 'ok',
        resultDigest: null,
        durationMs: 3,
        details: null,
      }),
    ).toBe(legacy.hash);
  });

  it('a salted row whose fields change, or whose salt is dropped without an erasure, breaks verification', async () => {
    const fresh = await appendAudit(db, {
      occurredAt: new Date('2026-12-02T12:00:05.000Z'),
      actorKind: 'trader',
      actorId: 'user-other',
      action: 'tool.call',
      args: { email: 'other@example.com' },
      outcome: 'ok',
    });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
    const tamper = async (statement: ReturnType<typeof sql>) => {
      await db.execute(sql`alter table audit_log disable trigger audit_log_no_update_delete`);
      try {
        await db.execute(statement);
      } finally {
        await db.execute(sql`alter table audit_log enable trigger audit_log_no_update_delete`);
      }
    };
    const before = await stored(db, fresh.id);
    await tamper(sql`update audit_log set args = '{"email":"someone@example.com"}'::jsonb where id = ${fresh.id}`);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, badRowId: fresh.id, problem: 'altered' });
    await tamper(sql`update audit_log set args = '{"email":"other@example.com"}'::jsonb, personal_salt = null where id = ${fresh.id}`);
    const dropped = await verifyAuditChain(db);
    expect(dropped).toMatchObject({ ok: false, badRowId: fresh.id, problem: 'altered' });
    expect(dropped.ok === false && dropped.message).toContain('without an erasure');
    await tamper(sql`update audit_log set personal_salt = ${before.personal_salt} where id = ${fresh.id}`);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });
  it('stores what a row lacks as NULL and its JSON as given, and the chain verifies over both kinds of row', async () => {
    const bare = await appendAudit(db, { actorKind: 'system', action: 'test.bare', outcome: 'ok', occurredAt: AT });
    const full = await appendAudit(db, {
      actorKind: 'trader',
      actorId: 'u-1',
      action: 'test.full',
      outcome: 'ok',
      args: { email: EMAIL, nested: { list: [1, 'two', null] } },
      details: null,
      result: { plan: 'free' },
      durationMs: 3,
      occurredAt: AT,
    });
    const [row] = await queryRows<{ nulls: boolean; args: unknown; details_null: boolean; tenant_null: boolean }>(
      db,
      sql`select (args is null and details is null and actor_id is null and tool is null and result_digest is null) as nulls,
            (select args from audit_log where id = ${full.id}) as args,
            (select details is null from audit_log where id = ${full.id}) as details_null,
            tenant_id is null as tenant_null
          from audit_log where id = ${bare.id}`,
    );
    expect(row).toMatchObject({ nulls: true, details_null: true, tenant_null: true });
    expect(typeof row!.args === 'string' ? JSON.parse(row!.args) : row!.args).toEqual({ email: EMAIL, nested: { list: [1, 'two', null] } });
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });
});
