import fs from 'node:fs';
import { PGlite, parse, protocol } from '@electric-sql/pglite';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../audit/index.ts';
import * as db from '../../db/index.ts';
import { openDatabase, queryRows, runMigrations, type DatabaseHandle } from '../../db/index.ts';
import { PGLITE_VERSION } from '../../db/pglite-prepared.ts';

// db/pglite-prepared.ts relies on PGlite's private APIs (`_runExclusiveTransaction`,
// `execProtocol`) as they are in one version: another version must be read against it first.
describe('the PGlite the prepared-statement layer was written for', () => {
  const installed = (
    JSON.parse(fs.readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;

  it(`is @electric-sql/pglite ${PGLITE_VERSION}`, () => {
    expect(
      installed,
      `@electric-sql/pglite is ${installed}, but db/pglite-prepared.ts was written against ${PGLITE_VERSION}: check its use of _runExclusiveTransaction, execProtocol, parse and protocol against the new version, then update PGLITE_VERSION`,
    ).toBe(PGLITE_VERSION);
  });

  it('still has the private APIs and helpers the layer calls', () => {
    const prototype = PGlite.prototype as unknown as Record<string, unknown>;
    for (const method of ['_runExclusiveTransaction', 'execProtocol', 'runExclusive', 'syncToFs', 'transaction', 'query']) {
      expect(typeof prototype[method], `PGlite ${installed}: PGlite.prototype.${method}`).toBe('function');
    }
    expect(typeof parse.parseResults, `PGlite ${installed}: parse.parseResults`).toBe('function');
    expect(typeof parse.parseDescribeStatementResults, `PGlite ${installed}: parse.parseDescribeStatementResults`).toBe('function');
    for (const message of ['parse', 'describe', 'bind', 'execute', 'sync', 'close'] as const) {
      expect(typeof protocol.serialize[message], `PGlite ${installed}: protocol.serialize.${message}`).toBe('function');
    }
  });
});

// The embedded database runs drizzle's queries as named prepared statements (db/pglite-prepared.ts):
// results, errors and transactions must be exactly what PGlite gives without them.
describe('embedded database queries through prepared statements', () => {
  let handle: DatabaseHandle;
  const tenantId = crypto.randomUUID();

  beforeAll(async () => {
    handle = await openDatabase({ dataDir: '', inMemory: true });
    await runMigrations(handle);
    await handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'Ana' });
  });
  afterAll(() => handle.close());

  it('returns the same values on the first run and on later ones', async () => {
    const read = () => handle.db.select().from(db.tenants).where(eq(db.tenants.id, tenantId));
    const first = await read();
    const again = await read();
    expect(again).toEqual(first);
    expect(first[0]!.createdAt).toBeInstanceOf(Date);
    const [row] = await queryRows<{ at: string; n: number; j: { a: number[] }; t: string[]; nothing: null }>(
      handle.db,
      sql`select ${'2026-11-01T00:00:00Z'}::timestamptz as at, ${41}::int + 1 as n, ${JSON.stringify({ a: [1, 2] })}::jsonb as j, ${'{x,y}'}::text[] as t, ${null}::text as nothing`,
    );
    expect(row).toEqual({ at: '2026-11-01 00:00:00+00', n: 42, j: { a: [1, 2] }, t: ['x', 'y'], nothing: null });
  });

  it('keeps working past the number of statements it keeps prepared', async () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 300; i++) {
        const [row] = await queryRows<{ n: number }>(handle.db, sql`select ${sql.raw(String(i))} + ${round}::int as n`);
        expect(row!.n).toBe(i + round);
      }
    }
  });

  it('reports errors as before, and a failed transaction leaves nothing behind', async () => {
    const insert = () => handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'again' });
    await expect(insert()).rejects.toMatchObject({ cause: expect.objectContaining({ code: '23505' }) });
    await expect(insert()).rejects.toMatchObject({ cause: expect.objectContaining({ code: '23505' }) });
    const other = crypto.randomUUID();
    await expect(
      handle.db.transaction(async (tx) => {
        await tx.insert(db.tenants).values({ id: other, kind: 'trader', name: 'Bia' });
        await tx.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'duplicate' });
      }),
    ).rejects.toThrow();
    expect(await handle.db.select().from(db.tenants).where(eq(db.tenants.id, other))).toEqual([]);
    await handle.db.transaction(async (tx) => {
      await tx.insert(db.tenants).values({ id: other, kind: 'trader', name: 'Bia' });
    });
    expect(await handle.db.$count(db.tenants)).toBe(2);
  });

  it('prepares a statement again when its table changes shape', async () => {
    await handle.db.execute(sql`create table prepared_probe (a int)`);
    await handle.db.execute(sql`insert into prepared_probe values (1)`);
    const read = () => queryRows<Record<string, number>>(handle.db, sql`select * from prepared_probe`);
    expect(await read()).toEqual([{ a: 1 }]);
    await handle.db.execute(sql`alter table prepared_probe add column b int default 2`);
    expect(await read()).toEqual([{ a: 1, b: 2 }]);
    // Inside a transaction the refusal aborts it (as on a real server); the next one works.
    await handle.db.execute(sql`alter table prepared_probe add column c int default 3`);
    const inTransaction = () => handle.db.transaction((tx) => queryRows<Record<string, number>>(tx, sql`select * from prepared_probe`));
    await expect(inTransaction()).rejects.toMatchObject({ cause: expect.objectContaining({ code: '0A000' }) });
    expect(await inTransaction()).toEqual([{ a: 1, b: 2, c: 3 }]);
  });
  it('prepares a statement afresh every few hundred runs, so its plan follows the table as it grows', async () => {
    // A table analyzed while tiny, then grown: a generic plan kept since then would still scan it whole.
    await handle.db.execute(sql`analyze audit_log`);
    for (let i = 0; i < 600; i++)
      await appendAudit(handle.db, { actorKind: 'system', actorId: 'system:test', action: 'grow', outcome: 'ok' });
    const prepared = await queryRows<{ runs: number }>(
      handle.db,
      sql`select (generic_plans + custom_plans)::int as runs from pg_prepared_statements where statement like 'insert into "audit_log"%'`,
    );
    // One statement left (the replaced ones were closed), prepared after the table had grown.
    expect(prepared).toHaveLength(1);
    expect(prepared[0]!.runs).toBeGreaterThan(0);
    expect(prepared[0]!.runs).toBeLessThanOrEqual(250);
  });
});
