import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditChain, type AuditEntry } from '../../audit/index.ts';
import { openDatabase, queryRows, type DatabaseHandle } from '../../db/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

// Entries appended while a write is under way are written together by one statement (audit/log.ts):
// each caller still gets its own row, in the order it asked, the chain stays whole, and a bad
// entry in a group fails only its own caller.
describe.each(testDrivers)('audit group commit (%s)', (driver) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(driver);
  });
  afterAll(async () => {
    await test?.dispose();
  });

  const entry = (i: number): AuditEntry => ({
    occurredAt: new Date(Date.UTC(2026, 11, 2, 12, 0, 0, i)),
    actorKind: 'trader',
    actorId: `trader-${i}`,
    action: `read ${i}`,
    tool: 'list_bots',
    args: { i, note: i % 7 === 0 ? 'nul\u0000 and 📈' : 'plain', when: new Date(Date.UTC(2026, 0, 1)) },
    outcome: 'ok',
    result: { bots: [{ id: i, name: `bot ${i}` }], big: 12345678901234567890n },
    durationMs: i,
    details: i % 5 === 0 ? { why: 'because' } : undefined,
  });

  it('gives 200 concurrent callers their own rows, in call order, chained as if appended one by one', async () => {
    const db = test.handle.db;
    const before = await appendAudit(db, entry(0));
    const rows = await Promise.all(Array.from({ length: 200 }, (_, i) => appendAudit(db, entry(i + 1))));
    expect(new Set(rows.map((r) => r.id)).size).toBe(200);
    for (const [i, row] of rows.entries()) expect(row.id).toBeGreaterThan(i === 0 ? before.id : rows[i - 1]!.id);
    // Rows went in groups (one transaction id per statement), else this test shows nothing.
    const [grouped] = await queryRows<{ statements: number }>(
      db,
      sql`select count(distinct xmin::text)::int as statements from audit_log where id > ${before.id}`,
    );
    expect(grouped!.statements).toBeLessThan(20);
    const stored = await queryRows<{ id: number; prev_hash: string; hash: string; action: string }>(
      db,
      sql`select id::int as id, prev_hash, hash, action from audit_log where id >= ${before.id} order by id`,
    );
    expect(stored.map((r) => r.action)).toEqual(Array.from({ length: 201 }, (_, i) => `read ${i}`));
    expect(stored.map((r) => r.hash)).toEqual([before.hash, ...rows.map((r) => r.hash)]);
    for (let i = 1; i < stored.length; i++) expect(stored[i]!.prev_hash).toBe(stored[i - 1]!.hash);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });

  it('fails only the bad entry of a group; the others are written and the chain verifies', async () => {
    const db = test.handle.db;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => appendAudit(db, { ...entry(1_000 + i), durationMs: i === 7 ? 2 ** 40 : i })),
    );
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1);
    expect(outcomes[7]!.status).toBe('rejected');
    const [written] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from audit_log where action like 'read 10__'`);
    expect(written!.n).toBe(19);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });

  it.runIf(driver === 'postgres')('keeps one chain when two connection pools append at once (two processes)', async () => {
    const other: DatabaseHandle = await openDatabase({ url: test.url!, dataDir: '', poolMax: 4 });
    try {
      await Promise.all([
        ...Array.from({ length: 60 }, (_, i) => appendAudit(test.handle.db, entry(2_000 + i))),
        ...Array.from({ length: 60 }, (_, i) => appendAudit(other.db, entry(3_000 + i))),
      ]);
      expect(await verifyAuditChain(test.handle.db)).toMatchObject({ ok: true });
    } finally {
      await other.close();
    }
  });
});
