import crypto from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import { listStaff, queryRows } from '../../db/index.ts';
import { decideApproval, TOOLS, type Actor } from '../../tools/index.ts';
import { INCIDENT_RESPONSE, recoverInterruptedRuns, scanForIncidents, type WorkflowDeps } from '../../workflows/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { NOW, recordSnapshots, rewindBefore, seedDemo, silentLogger, workflowRuntime } from '../support/workflow-fixture.ts';

// Incident response end to end on the demo company: the anomaly scan (detect_anomalies as the
// system) starts one run per finding; containment, alerts, the approval, the audit.

const HOUR = 3_600_000;

describe('incident-response workflow', () => {
  let test: TestDatabase;
  let securityHead: Actor;
  const clock = { now: NOW };
  let deps: WorkflowDeps;

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    await seedDemo(test.handle.db);
    const head = (await listStaff(test.handle.db)).find((s) => s.department === 'security' && s.role === 'head')!;
    const [row] = await test.handle.db.select().from(db.staff).where(eq(db.staff.id, head.staffId));
    securityHead = {
      kind: 'staff',
      userId: head.userId,
      staffId: head.staffId,
      tenantId: row!.tenantId,
      department: 'security',
      role: 'head',
      name: head.name,
    };
    const runtime = workflowRuntime(test.handle.db, { now: () => clock.now });
    deps = { db: test.handle.db, billing: runtime.billing, gateway: runtime.gateway, logger: silentLogger, now: () => clock.now };
  }, 120_000);
  afterAll(async () => {
    await test?.dispose();
  });

  const notes = (like: string) =>
    queryRows<{ type: string; recipient_department: string | null; recipient_user_id: string | null; payload: Record<string, unknown> }>(
      test.handle.db,
      sql`select type, recipient_department, recipient_user_id, payload from notifications where dedupe_key like ${like} order by created_at`,
    );
  const incidents = (email: string) =>
    queryRows<{ args: Record<string, unknown> }>(
      test.handle.db,
      sql`select args from audit_log where action = 'security.incident' and args ->> 'email' = ${email}`,
    );

  /** A trader with one active exchange key (and a live bot), and a security event against them. */
  async function traderUnderAttack(name: string, events: { type: string; country: string; ip: string; at: Date }[]) {
    const x = test.handle.db;
    const tenantId = crypto.randomUUID();
    await x.insert(db.tenants).values({ id: tenantId, kind: 'trader', name });
    const [user] = await x
      .insert(db.users)
      .values({ tenantId, email: `${name}@example.com`, name })
      .returning();
    const [account] = await x
      .insert(db.exchangeAccounts)
      .values({ tenantId, label: 'main', apiKeyEncrypted: 'x', apiSecretEncrypted: 'y', apiKeyLast4: 'abcd', sandbox: false })
      .returning();
    const [bot] = await x
      .insert(db.bots)
      .values({
        tenantId,
        name: `${name} live`,
        strategyName: 'rsi',
        symbols: ['BTC/USDT'],
        timeframe: '1h',
        mode: 'live',
        status: 'running',
        stakeQuote: '100',
        exchangeAccountId: account!.id,
      })
      .returning();
    if (events.length > 0)
      await x.insert(db.securityEvents).values(
        events.map((e) => ({
          tenantId,
          userId: user!.id,
          type: e.type,
          severity: 'high' as const,
          ip: e.ip,
          country: e.country,
          occurredAt: e.at,
        })),
      );
    return { tenantId, email: `${name}@example.com`, accountId: account!.id, botId: bot!.id };
  }
  const accountStatus = async (id: string) =>
    (await test.handle.db.select().from(db.exchangeAccounts).where(eq(db.exchangeAccounts.id, id)))[0]!.status;

  it("alerts Security and the CEO about the demo's brute-force burst, without touching the account; once however often it is scanned", async () => {
    const { mastra } = workflowRuntime(test.handle.db, { now: () => clock.now });
    clock.now = NOW;
    const scan = await scanForIncidents(mastra, deps, { hours: 96 });
    expect(scan.findings).toBe(1);
    expect(scan.runs).toMatchObject([
      {
        status: 'success',
        result: {
          finding: { kind: 'brute_force', ip: '45.155.205.17', count: 14 },
          action: 'none',
          decision: 'not_needed',
          severity: 'high',
        },
      },
    ]);
    const key = (scan.runs[0]!.result as { key: string }).key;
    const alerts = await notes(`incident:${key}:%`);
    expect(alerts.map((a) => [a.type, a.recipient_department ?? 'ceo-user'])).toEqual([
      ['security_alert', 'security'],
      ['security_alert', 'ceo-user'],
    ]);
    expect(alerts[0]!.payload).toMatchObject({
      severity: 'high',
      title: 'Tentativas de login em massa (força bruta)',
      detail: expect.stringContaining('IP 45.155.205.17: 14 ocorrências'),
    });
    // The demo's own pending freeze (an agent asked) is untouched; no new request.
    expect(await test.handle.db.$count(db.approvals, eq(db.approvals.tool, 'freeze_api_key'))).toBe(1);
    const again = await scanForIncidents(mastra, deps, { hours: 96 });
    expect(again.runs).toMatchObject([{ runId: scan.runs[0]!.runId, status: 'success' }]);
    expect(await notes(`incident:${key}:%`)).toHaveLength(2);
    expect(
      await test.handle.db.$count(
        db.auditLog,
        and(eq(db.auditLog.action, 'security.incident'), sql`${db.auditLog.args} ->> 'incident' = ${key}`),
      ),
    ).toBe(1);
  });

  it('a withdrawal attempt: the freeze waits for the Security head, who approves; keys frozen, the run closes; nothing asked twice', async () => {
    const runtime = workflowRuntime(test.handle.db, { now: () => clock.now });
    const recorded = await recordSnapshots(runtime.mastra);
    clock.now = NOW;
    const eva = await traderUnderAttack('eva', [
      { type: 'withdrawal_attempt', country: 'NG', ip: '102.89.1.1', at: new Date(NOW.getTime() - HOUR) },
    ]);
    const scan = await scanForIncidents(runtime.mastra, deps, { hours: 24 });
    const run = scan.runs.find(
      (r) => (r.result as { email?: string } | undefined)?.email === eva.email || r.runId.includes('withdrawal_attempt'),
    )!;
    expect(run).toMatchObject({ status: 'suspended', waiting: [{ step: 'await-decision', wake: { approvalId: expect.any(String) } }] });
    const approvalId = run.waiting![0]!.wake.approvalId!;
    const [approval] = await test.handle.db.select().from(db.approvals).where(eq(db.approvals.id, approvalId));
    expect(approval).toMatchObject({
      tool: 'freeze_api_key',
      status: 'pending',
      approverDepartment: 'security',
      tenantId: eva.tenantId,
      args: { email: eva.email, reason: expect.stringMatching(/^Tentativa de saque de 102\.89\.1\.1 \(1×\) \[incident:[0-9a-f]{16}\]$/) },
    });
    expect(await accountStatus(eva.accountId)).toBe('active');
    const key = /\[incident:([0-9a-f]+)\]/.exec(String(approval!.args['reason']))![1]!;
    expect((await notes(`incident:${key}:%`)).map((n) => n.payload['severity'])).toEqual(['critical', 'critical']);
    expect((await notes(`incident:${key}:security`))[0]!.payload['detail']).toContain(
      `aguardando aprovação do chefe de Segurança ou do CEO (aprovação ${approvalId})`,
    );

    // Killed right after requesting the freeze, before that was written: resumed, it finds its request.
    await rewindBefore(test.handle.db, recorded, INCIDENT_RESPONSE, run.runId, 'contain');
    expect(
      await recoverInterruptedRuns(workflowRuntime(test.handle.db, { now: () => clock.now }).mastra, [INCIDENT_RESPONSE], {
        staleAfterMs: 0,
      }),
    ).toMatchObject([{ runId: run.runId, status: 'suspended' }]);
    expect(await test.handle.db.$count(db.approvals, sql`${db.approvals.args} ->> 'email' = ${eva.email}`)).toBe(1);
    expect(await notes(`incident:${key}:%`)).toHaveLength(2);

    // Nobody decided yet: the scan leaves it waiting.
    expect((await scanForIncidents(runtime.mastra, deps, { hours: 24 })).resumed).toEqual([]);
    const decided = await decideApproval(
      TOOLS,
      { db: test.handle.db, billing: runtime.billing, now: () => clock.now },
      securityHead,
      approvalId,
      'approve',
    );
    expect(decided).toMatchObject({ decided: true, status: 'executed' });
    expect(await accountStatus(eva.accountId)).toBe('frozen');
    clock.now = new Date(NOW.getTime() + 10 * 60_000);
    const after = await scanForIncidents(runtime.mastra, deps, { hours: 24 });
    expect(after.resumed).toMatchObject([
      { runId: run.runId, status: 'success', result: { decision: 'approved', action: 'freeze_api_key', automatic: false } },
    ]);
    expect(await incidents(eva.email)).toMatchObject([
      { args: { kind: 'withdrawal_attempt', severity: 'critical', decision: 'approved', approvalId } },
    ]);
    expect((await notes(`incident:${key}:outcome`))[0]!.payload['text']).toContain(`chaves de ${eva.email} congeladas após aprovação`);
  });

  it('an API key used from a new country: the Security head rejects the freeze; nothing is frozen and it says so', async () => {
    const { mastra, billing } = workflowRuntime(test.handle.db, { now: () => clock.now });
    clock.now = NOW;
    const fabio = await traderUnderAttack('fabio', [
      { type: 'api_key_used', country: 'BR', ip: '177.1.1.1', at: new Date(NOW.getTime() - 40 * 24 * HOUR) },
      { type: 'api_key_used', country: 'RU', ip: '45.1.1.1', at: new Date(NOW.getTime() - 2 * HOUR) },
    ]);
    const scan = await scanForIncidents(mastra, deps, { hours: 24 });
    const run = scan.runs.find((r) => r.runId.includes('api_key_new_country'))!;
    expect(run.status).toBe('suspended');
    await decideApproval(
      TOOLS,
      { db: test.handle.db, billing, now: () => clock.now },
      securityHead,
      run.waiting![0]!.wake.approvalId!,
      'reject',
      'viagem conhecida',
    );
    const after = await scanForIncidents(mastra, deps, { hours: 24 });
    expect(after.resumed).toMatchObject([{ runId: run.runId, status: 'success', result: { decision: 'rejected' } }]);
    expect(await accountStatus(fabio.accountId)).toBe('active');
    expect(await incidents(fabio.email)).toMatchObject([{ args: { kind: 'api_key_new_country', decision: 'rejected' } }]);
  });

  it('with security.auto_freeze on, a withdrawal attempt is frozen at once by the workflow (audited as its approved call)', async () => {
    const { mastra } = workflowRuntime(test.handle.db, { now: () => clock.now });
    clock.now = NOW;
    await test.handle.db
      .insert(db.configEntries)
      .values({ key: 'security.auto_freeze', value: true, description: 'freeze keys at once on critical incidents' });
    try {
      const gil = await traderUnderAttack('gil', [
        { type: 'withdrawal_attempt', country: 'NG', ip: '102.89.2.2', at: new Date(NOW.getTime() - HOUR) },
      ]);
      const scan = await scanForIncidents(mastra, deps, { hours: 24 });
      const run = scan.runs.find((r) => (r.result as { email?: string } | undefined)?.email === gil.email)!;
      expect(run).toMatchObject({
        status: 'success',
        result: { action: 'freeze_api_key', automatic: true, status: 'done', decision: 'done', approvalId: null },
      });
      expect(await accountStatus(gil.accountId)).toBe('frozen');
      expect((await test.handle.db.select().from(db.bots).where(eq(db.bots.id, gil.botId)))[0]!.status).toBe('frozen');
      expect(await test.handle.db.$count(db.approvals, sql`${db.approvals.args} ->> 'email' = ${gil.email}`)).toBe(0);
      const calls = await queryRows<{ outcome: string }>(
        test.handle.db,
        sql`select outcome from audit_log where tool = 'freeze_api_key' and actor_id = 'system:workflow:incident-response' and args ->> 'email' = ${gil.email}`,
      );
      expect(calls).toEqual([{ outcome: 'ok' }]);
    } finally {
      await test.handle.db.delete(db.configEntries).where(eq(db.configEntries.key, 'security.auto_freeze'));
    }
  });

  it('an order burst stops the bot at once', async () => {
    const { mastra } = workflowRuntime(test.handle.db, { now: () => clock.now });
    clock.now = NOW;
    const hugo = await traderUnderAttack('hugo', []);
    await test.handle.db.insert(db.orders).values(
      Array.from({ length: 25 }, (_, i) => ({
        tenantId: hugo.tenantId,
        botId: hugo.botId,
        clientOrderId: `burst-${i}`,
        symbol: 'BTC/USDT',
        side: i % 2 ? ('sell' as const) : ('buy' as const),
        type: 'market' as const,
        amountBase: '0.001',
        reason: 'entry',
        status: 'filled' as const,
        createdAt: new Date(NOW.getTime() - 30 * 60_000 + i * 5_000),
      })),
    );
    const scan = await scanForIncidents(mastra, deps, { hours: 24 });
    const run = scan.runs.find((r) => r.runId.includes('order_burst'))!;
    expect(run).toMatchObject({
      status: 'success',
      result: { action: 'stop_bot', status: 'done', decision: 'done', email: hugo.email, finding: { botId: hugo.botId, count: 25 } },
    });
    expect((await test.handle.db.select().from(db.bots).where(eq(db.bots.id, hugo.botId)))[0]!.status).toBe('stopped');
    expect(await incidents(hugo.email)).toHaveLength(1);
  });
});
