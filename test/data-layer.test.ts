import crypto from 'node:crypto';
import { eq, getTableName, is, sql } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditChain } from '../audit/index.ts';
import { PLANS } from '../billing/index.ts';
import * as db from '../db/index.ts';
import {
  auditLog,
  getScoped,
  insertScoped,
  isTenantOwned,
  migrationStatus,
  queryRows,
  runMigrations,
  selectScoped,
  tenantData,
  tenantScope,
  TenantScopeError,
  type TenantScope,
} from '../db/index.ts';
import { generateDemoCompany, seedDemoCompany } from '../demo/index.ts';
import { createSecretBox } from '../secrets/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from './support/databases.ts';

const AS_OF = new Date('2026-11-01T00:00:00Z');
const secretBox = createSecretBox(crypto.randomBytes(32));

/** Every table with a NOT NULL tenant_id column: the rows a trader owns. */
const tenantOwnedTables: db.TenantOwnedTable[] = (Object.values(db) as unknown[])
  .filter((value): value is PgTable => is(value, PgTable))
  .filter(isTenantOwned);

describe.each(testDrivers)('data layer on %s', (driver) => {
  let test: TestDatabase;
  let traders: { tenantId: string }[];

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    await seedDemoCompany(test.handle.db, { secretBox, seed: 7, asOf: AS_OF, traders: 40 });
    traders = await test.handle.db.select({ tenantId: db.tenants.id }).from(db.tenants).where(eq(db.tenants.kind, 'trader'));
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('has applied every shipped migration, and re-running is a no-op', async () => {
    const status = await migrationStatus(test.handle);
    expect(status.pending).toBe(0);
    expect(status.applied).toBe(status.expected);
    expect(status.expected).toBeGreaterThanOrEqual(2);
    expect(await runMigrations(test.handle)).toEqual(status);
  });

  it('covers the whole company in its schema', async () => {
    const rows = await queryRows<{ table_name: string }>(
      test.handle.db,
      sql`select table_name from information_schema.tables where table_schema = 'public'`,
    );
    const tables = new Set(rows.map((row) => row.table_name));
    for (const name of [
      'tenants',
      'users',
      'staff',
      'telegram_links',
      'exchange_accounts',
      'strategies',
      'bots',
      'orders',
      'trades',
      'positions',
      'candles',
      'backtests',
      'backtest_results',
      'plans',
      'customers',
      'subscriptions',
      'invoices',
      'payments',
      'webhook_events',
      'support_tickets',
      'ticket_messages',
      'leads',
      'campaigns',
      'documents',
      'document_versions',
      'config_entries',
      'config_entry_versions',
      'security_events',
      'approvals',
      'audit_log',
    ]) {
      expect(tables, name).toContain(name);
    }
  });

  it('finds at least a dozen tenant-owned tables to check', () => {
    expect(tenantOwnedTables.map((table) => getTableName(table))).toEqual(
      expect.arrayContaining([
        'bots',
        'orders',
        'trades',
        'positions',
        'exchange_accounts',
        'subscriptions',
        'invoices',
        'payments',
        'support_tickets',
      ]),
    );
  });

  it("never returns another trader's rows, from any tenant-owned table", async () => {
    let checkedNonEmpty = 0;
    for (const trader of traders) {
      const scope = tenantScope(trader.tenantId);
      for (const table of tenantOwnedTables) {
        const rows = await selectScoped(test.handle.db, scope, table);
        for (const row of rows) expect((row as { tenantId: string }).tenantId).toBe(trader.tenantId);
        if (rows.length > 0) checkedNonEmpty++;
      }
    }
    expect(checkedNonEmpty).toBeGreaterThan(traders.length); // the check saw real data
  });

  it("cannot fetch another trader's bot by id, nor list its trades", async () => {
    const [owner, other] = await pickTwoTradersWithBots();
    const [bot] = await tenantData(test.handle.db, owner).bots();
    expect(bot).toBeDefined();
    expect(await getScoped(test.handle.db, owner, db.bots, bot!.id)).toMatchObject({ id: bot!.id });
    expect(await getScoped(test.handle.db, other, db.bots, bot!.id)).toBeUndefined();
    expect(await tenantData(test.handle.db, other).trades({ botId: bot!.id })).toEqual([]);
    expect((await tenantData(test.handle.db, owner).trades({ botId: bot!.id })).length).toBeGreaterThan(0);
  });

  it('refuses a forged scope at run time', async () => {
    const forged = { tenantId: traders[0]!.tenantId } as unknown as TenantScope;
    await expect(selectScoped(test.handle.db, forged, db.bots)).rejects.toThrow(TenantScopeError);
    expect(() => tenantScope('not-a-uuid')).toThrow(/UUID/);
  });

  it('stamps inserted rows with the scope tenant', async () => {
    const [owner] = await pickTwoTradersWithBots();
    const [row] = await insertScoped(test.handle.db, owner, db.securityEvents, {
      type: 'login_failed',
      severity: 'low',
      occurredAt: new Date(),
      // A caller trying to write into another tenant is overruled by the scope.
      ...({ tenantId: traders[0]!.tenantId } as object),
    });
    expect(row!.tenantId).toBe(owner.tenantId);
  });

  it('hides exchange ciphertexts from tenant reads, and they open with the master key', async () => {
    const [account] = await test.handle.db.select().from(db.exchangeAccounts).limit(1);
    expect(account).toBeDefined();
    const key = secretBox.open(account!.apiKeyEncrypted, `exchange_accounts:${account!.tenantId}:api_key`);
    expect(key.slice(-4)).toBe(account!.apiKeyLast4);
    const [visible] = await tenantData(test.handle.db, tenantScope(account!.tenantId)).exchangeAccounts();
    expect(visible).toBeDefined();
    expect(JSON.stringify(visible)).not.toContain(account!.apiKeyEncrypted);
    expect(visible).not.toHaveProperty('apiSecretEncrypted');
  });

  it('keeps a client order id unique per bot, and a candle unique per symbol, timeframe and time', async () => {
    const [order] = await test.handle.db.select().from(db.orders).limit(1);
    const { id: _id, ...copy } = order!;
    await expect(test.handle.db.insert(db.orders).values(copy)).rejects.toThrow();
    const candle = {
      exchange: 'binance',
      symbol: 'BTC/USDT',
      timeframe: '1h',
      openTime: new Date('2024-01-01T00:00:00Z'),
      open: '42000.1',
      high: '42100',
      low: '41900',
      close: '42050.12345678',
      volumeBase: '12.5',
    };
    await test.handle.db.insert(db.candles).values(candle);
    await expect(test.handle.db.insert(db.candles).values(candle)).rejects.toThrow();
    const [stored] = await test.handle.db.select().from(db.candles).where(eq(db.candles.symbol, 'BTC/USDT'));
    expect(stored!.close).toBe('42050.12345678'); // exact decimal, no float rounding
  });

  it('stores each webhook event id once', async () => {
    const event = {
      id: 'evt_test_1',
      type: 'invoice.paid',
      providerCreatedAt: new Date(),
      payload: { id: 'evt_test_1' },
      status: 'processed' as const,
    };
    await test.handle.db.insert(db.webhookEvents).values(event);
    await expect(test.handle.db.insert(db.webhookEvents).values(event)).rejects.toThrow();
  });

  async function pickTwoTradersWithBots(): Promise<[TenantScope, TenantScope]> {
    const rows = await test.handle.db.selectDistinct({ tenantId: db.bots.tenantId }).from(db.bots).limit(2);
    return [tenantScope(rows[0]!.tenantId), tenantScope(rows[1]!.tenantId)];
  }
});

describe.each(testDrivers)('audit log on %s', (driver) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(driver, { poolMax: 50 });
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('verifies an empty chain and a chain of appended entries', async () => {
    expect(await verifyAuditChain(test.handle.db)).toMatchObject({ ok: true, rowsChecked: 0 });
    await appendAudit(test.handle.db, {
      actorKind: 'staff',
      actorId: 'u-1',
      agent: 'finance',
      action: 'tool.call',
      tool: 'revenue_summary',
      args: { month: '2026-10', nested: { b: 2, a: [1, 'x', null] }, when: new Date('2026-10-01T00:00:00Z'), big: 12345678901234567890n },
      outcome: 'ok',
      result: { mrrCents: 123_456 },
      durationMs: 12,
    });
    const result = await verifyAuditChain(test.handle.db);
    expect(result).toMatchObject({ ok: true, rowsChecked: 1 });
  });

  it('chains rows whose text is not ASCII, and rows appended inside a transaction, rolled back or not', async () => {
    // The hash is computed by the database on append and by JavaScript on verify: the two
    // must agree on every character, quotes, newlines and 4-byte UTF-8 included.
    await appendAudit(test.handle.db, {
      actorKind: 'staff',
      actorId: 'u-2',
      action: 'tool.call',
      tool: 'search_documents',
      outcome: 'ok',
      args: { query: 'ação "política"\nde reembolso 📈 — ½ R$ 1.234,56' },
      details: { note: 'naïve café ✓' },
    });
    await test.handle.db.transaction(async (tx) => {
      await appendAudit(tx, { actorKind: 'system', actorId: 'system:test', action: 'committed', outcome: 'ok' });
    });
    await expect(
      test.handle.db.transaction(async (tx) => {
        await appendAudit(tx, { actorKind: 'system', actorId: 'system:test', action: 'rolled.back', outcome: 'ok' });
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    await appendAudit(test.handle.db, { actorKind: 'system', actorId: 'system:test', action: 'after.rollback', outcome: 'ok' });
    const result = await verifyAuditChain(test.handle.db);
    expect(result).toMatchObject({ ok: true, rowsChecked: 4 });
    const actions = await queryRows<{ action: string }>(test.handle.db, sql`select action from audit_log order by id`);
    expect(actions.map((row) => row.action)).toEqual(['tool.call', 'tool.call', 'committed', 'after.rollback']);
  });

  it('keeps the chain valid with 50 concurrent writers', async () => {
    const before = await verifyAuditChain(test.handle.db);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        appendAudit(test.handle.db, { actorKind: 'agent', agent: 'ceo', action: 'tool.call', tool: `t${i}`, outcome: 'ok', args: { i } }),
      ),
    );
    const after = await verifyAuditChain(test.handle.db, { batchSize: 7 });
    expect(after.ok).toBe(true);
    expect(after.rowsChecked).toBe(before.rowsChecked + 50);
    const forks = await queryRows<{ n: number }>(
      test.handle.db,
      sql`select count(*)::int as n from (select prev_hash from audit_log group by prev_hash having count(*) > 1) f`,
    );
    expect(forks[0]!.n).toBe(0);
  });

  it('refuses UPDATE, DELETE and TRUNCATE', async () => {
    await expect(test.handle.db.update(auditLog).set({ outcome: 'denied' }).where(eq(auditLog.id, 1))).rejects.toThrow();
    await expect(test.handle.db.delete(auditLog).where(eq(auditLog.id, 1))).rejects.toThrow();
    await expect(test.handle.db.execute(sql`truncate audit_log`)).rejects.toThrow();
    expect((await verifyAuditChain(test.handle.db)).ok).toBe(true);
  });

  it('names the first altered row when someone bypasses the trigger', async () => {
    await test.handle.db.execute(sql`alter table audit_log disable trigger audit_log_no_update_delete`);
    try {
      await test.handle.db.execute(sql`update audit_log set args = '{"month":"2026-09"}' where id = 1`);
      const result = await verifyAuditChain(test.handle.db);
      expect(result).toMatchObject({ ok: false, badRowId: 1, problem: 'altered' });
      // Rewriting the hash too does not help: the next row no longer follows it.
      const rows = await queryRows<{ id: number; hash: string }>(
        test.handle.db,
        sql`select id::int as id, hash from audit_log order by id limit 3`,
      );
      await test.handle.db.execute(sql`update audit_log set hash = ${'f'.repeat(64)} where id = ${rows[0]!.id}`);
      const second = await verifyAuditChain(test.handle.db);
      expect(second.ok).toBe(false);
      // Deleting a row in the middle is found at the row after it.
      await test.handle.db.execute(sql`delete from audit_log where id = ${rows[0]!.id}`);
      await test.handle.db.execute(sql`delete from audit_log where id = ${rows[2]!.id}`);
      const third = await verifyAuditChain(test.handle.db);
      expect(third).toMatchObject({ ok: false, badRowId: rows[1]!.id, problem: 'chain-start-missing' });
    } finally {
      await test.handle.db.execute(sql`alter table audit_log enable trigger audit_log_no_update_delete`);
    }
  });

  it('rejects malformed entries before writing anything', async () => {
    const count = async () => (await queryRows<{ n: number }>(test.handle.db, sql`select count(*)::int as n from audit_log`))[0]!.n;
    const before = await count();
    await expect(appendAudit(test.handle.db, { actorKind: 'robot' as 'system', action: '', outcome: 'ok' })).rejects.toThrow();
    expect(await count()).toBe(before);
  });
});

describe.each(testDrivers)('database maintenance on %s', (driver) => {
  it('gives the planner statistics after a bulk load; vacuums the embedded database, leaves a server to autovacuum', async () => {
    const test = await createTestDatabase(driver);
    try {
      const reltuples = async () =>
        (await queryRows<{ n: number }>(test.handle.db, sql`select reltuples::float8 as n from pg_class where oid = 'leads'::regclass`))[0]!
          .n;
      await test.handle.db.execute(
        sql`insert into leads (name, email, source) select 'Lead ' || i, 'lead' || i || '@example.com', 'organic' from generate_series(1, 500) i`,
      );
      expect(await reltuples()).toBeLessThan(500); // never analyzed: -1 (or a stale 0)
      await db.analyzeDatabase(test.handle.db);
      expect(await reltuples()).toBe(500);
      await test.handle.db.execute(sql`delete from leads where email like 'lead%@example.com'`);
      const ms = await db.maintainEmbeddedDatabase(test.handle);
      if (driver === 'pglite') {
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(await reltuples()).toBe(0);
      } else {
        expect(ms).toBeUndefined();
      }
    } finally {
      await test.dispose();
    }
  });
});

describe.each(testDrivers)('demo company on %s', (driver) => {
  it('is seeded whole or not at all', async () => {
    const test = await createTestDatabase(driver);
    try {
      const counts = await seedDemoCompany(test.handle.db, { secretBox, seed: 11, asOf: AS_OF, traders: 20 });
      expect(counts.customers).toBe(20);
      const tenantsBefore = await test.handle.db.$count(db.tenants);
      await expect(seedDemoCompany(test.handle.db, { secretBox, seed: 12, asOf: AS_OF, traders: 20 })).rejects.toThrow(
        /already has a company/,
      );
      expect(await test.handle.db.$count(db.tenants)).toBe(tenantsBefore);
      expect(await verifyAuditChain(test.handle.db)).toMatchObject({ ok: true, rowsChecked: 1 });
    } finally {
      await test.dispose();
    }
  });
});

describe('demo company generator', () => {
  const company = generateDemoCompany({ seed: 42, asOf: AS_OF, traders: 320, secretBox });

  it('is deterministic for the same seed and date', () => {
    const again = generateDemoCompany({ seed: 42, asOf: AS_OF, traders: 320, secretBox });
    const withoutCiphertexts = (c: typeof company) => ({
      ...c,
      exchangeAccounts: c.exchangeAccounts.map(({ apiKeyEncrypted: _a, apiSecretEncrypted: _b, ...rest }) => rest),
    });
    expect(withoutCiphertexts(again)).toEqual(withoutCiphertexts(company));
    expect(generateDemoCompany({ seed: 43, asOf: AS_OF, traders: 320, secretBox }).users[0]).not.toEqual(company.users[0]);
  });

  it('has a CEO and at least two staff in every department', () => {
    const byDepartment = new Map<string, number>();
    for (const member of company.staff) byDepartment.set(member.department!, (byDepartment.get(member.department!) ?? 0) + 1);
    expect(company.staff.filter((member) => member.role === 'ceo')).toHaveLength(1);
    for (const department of db.departments) {
      if (department !== 'ceo') expect(byDepartment.get(department), department).toBeGreaterThanOrEqual(2);
    }
  });

  it('has 300+ traders with 12 months of billing, failures, upgrades and cancellations', () => {
    expect(company.tenants.filter((tenant) => tenant.kind === 'trader').length).toBeGreaterThanOrEqual(300);
    expect(company.plans.map((plan) => plan.id)).toEqual(['free', 'pro', 'enterprise']);
    const months = new Set(company.invoices.map((invoice) => invoice.periodStart.toISOString().slice(0, 7)));
    expect(months.size).toBeGreaterThanOrEqual(12);
    expect(company.payments.some((payment) => payment.status === 'failed')).toBe(true);
    expect(company.subscriptionChanges.some((change) => change.kind === 'upgraded')).toBe(true);
    expect(company.subscriptionChanges.some((change) => change.kind === 'downgraded')).toBe(true);
    expect(company.subscriptions.some((subscription) => subscription.status === 'canceled')).toBe(true);
    expect(company.subscriptions.filter((s) => s.status === 'active' && s.planId !== 'free').length).toBeGreaterThan(50);
  });

  it('has bots with trades, and the rest of a living company', () => {
    expect(company.bots.length).toBeGreaterThan(100);
    expect(company.trades.filter((trade) => trade.status === 'closed').length).toBeGreaterThan(1000);
    expect(company.bots.every((bot) => bot.mode === 'paper' || bot.exchangeAccountId)).toBe(true);
    for (const key of [
      'supportTickets',
      'leads',
      'campaigns',
      'documents',
      'documentVersions',
      'configEntries',
      'securityEvents',
      'approvals',
    ] as const) {
      expect(company[key].length, key).toBeGreaterThan(0);
    }
    expect(company.documentVersions.length).toBeGreaterThan(company.documents.length);
    expect(company.configEntryVersions.length).toBeGreaterThan(company.configEntries.length);
  });

  it('keeps every bot within its plan limits at the demo date', () => {
    const planOf = new Map(company.subscriptions.filter((s) => s.status !== 'canceled').map((s) => [s.tenantId, s.planId]));
    const traderIds = company.tenants.filter((tenant) => tenant.kind === 'trader').map((tenant) => tenant.id!);
    expect(traderIds.every((id) => planOf.has(id))).toBe(true); // everyone holds a current plan
    const botsPerTenant = new Map<string, number>();
    for (const bot of company.bots) {
      botsPerTenant.set(bot.tenantId, (botsPerTenant.get(bot.tenantId) ?? 0) + 1);
      expect(bot.symbols.length).toBeLessThanOrEqual(PLANS[planOf.get(bot.tenantId)!].limits.symbolsPerBot);
      if (bot.mode === 'live') expect(['pro', 'enterprise']).toContain(planOf.get(bot.tenantId));
    }
    for (const [tenantId, count] of botsPerTenant) expect(count).toBeLessThanOrEqual(PLANS[planOf.get(tenantId)!].limits.botsAllowed);
  });
});
