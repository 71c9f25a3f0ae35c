import crypto from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { listStaff, queryRows } from '../../db/index.ts';
import { seedDemoCompany } from '../../demo/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import {
  TOOLS,
  decideApproval,
  failureReason,
  invokeTool,
  listFailedApprovals,
  listPendingApprovals,
  retryApproval,
  staffActor,
  type Actor,
  type ToolContext,
} from '../../tools/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

// Approvals that can be completed: the demo's own can be carried out as they stand, local mode
// proposes nothing that could only fail, and a failed one is retried once its cause is fixed.

describe('approvals that can be completed', () => {
  let test: TestDatabase;
  let base: Omit<ToolContext, 'actor'>;
  const staff: Record<string, Actor & { kind: 'staff' }> = {};
  const now = new Date('2026-11-01T12:00:00Z');

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    await seedDemoCompany(test.handle.db, {
      secretBox: createSecretBox(crypto.randomBytes(32)),
      asOf: new Date('2026-11-01T00:00:00Z'),
      traders: 40,
    });
    base = { db: test.handle.db, agent: 'test', billing: new BillingService(test.handle.db, undefined), now: () => now };
    for (const member of await listStaff(test.handle.db)) staff[`${member.department}:${member.role}`] ??= staffActor(member);
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('every approval the demo company starts with is carried out when approved (no Stripe key needed)', async () => {
    const pending = await listPendingApprovals(test.handle.db, now);
    expect(pending.map((a) => a.tool).sort()).toEqual(['freeze_api_key', 'rollback_config', 'set_config']);
    for (const approval of pending) {
      const decided = await decideApproval(TOOLS, base, staff['ceo:ceo']!, approval.id, 'approve');
      expect(decided, `${approval.tool}: ${JSON.stringify(decided)}`).toMatchObject({ decided: true, status: 'executed' });
    }
  });

  it('in local mode, refunds and plan changes are refused when asked for, with the reason; no approval is queued', async () => {
    const before = (await listPendingApprovals(test.handle.db, now)).length;
    const [payment] = await test.handle.db.select().from(db.payments).where(eq(db.payments.status, 'succeeded')).limit(1);
    const refund = await invokeTool(TOOLS, { ...base, actor: staff['finance:head']! }, 'refund_payment', {
      paymentId: payment!.id,
      reason: 'cobrança duplicada',
    });
    expect(refund).toMatchObject({
      ok: false,
      error: 'unavailable',
      message: expect.stringMatching(/^A refund needs Stripe: set STRIPE_SECRET_KEY/),
    });
    const [trader] = await queryRows<{ email: string }>(
      test.handle.db,
      sql`select u.email from users u join tenants t on t.id = u.tenant_id where t.kind = 'trader' limit 1`,
    );
    const change = await invokeTool(TOOLS, { ...base, actor: staff['subscriptions:head']! }, 'change_plan', {
      email: trader!.email,
      planId: 'pro',
    });
    expect(change).toMatchObject({ ok: false, error: 'unavailable', message: expect.stringMatching(/^Changing plans needs Stripe/) });
    expect((await listPendingApprovals(test.handle.db, now)).length).toBe(before);
  });

  it('a failed approval says why, and runs again when retried after its cause is fixed — once, by someone who may decide it', async () => {
    const key = 'agents.max_steps';
    const requested = await invokeTool(TOOLS, { ...base, actor: staff['settings:member']! }, 'set_config', {
      key,
      value: 7,
      reason: 'respostas cortadas',
    });
    const approvalId = (requested as { pendingApproval: { id: string } }).pendingApproval.id;
    // Meanwhile someone sets the same value by hand: the approved change has nothing to do.
    await test.handle.db.update(db.configEntries).set({ value: 7 }).where(eq(db.configEntries.key, key));
    const first = await decideApproval(TOOLS, base, staff['settings:head']!, approvalId, 'approve');
    expect(first).toMatchObject({ decided: true, status: 'failed' });
    const [failed] = await listFailedApprovals(test.handle.db, now);
    expect(failed!.id).toBe(approvalId);
    expect(failureReason(failed!)).toMatch(/agents\.max_steps is already 7; nothing to change/);

    expect(await retryApproval(TOOLS, base, staff['security:head']!, approvalId)).toMatchObject({
      decided: false,
      reason: expect.stringMatching(/Only the settings head or the CEO/),
    });
    expect(await retryApproval(TOOLS, base, staff['ceo:ceo']!, 'abc')).toMatchObject({
      decided: false,
      reason: expect.stringMatching(/^No approval abc \(an approval id is a UUID/),
    });
    expect(await retryApproval(TOOLS, base, staff['ceo:ceo']!, approvalId)).toMatchObject({ decided: true, status: 'failed' }); // not fixed yet

    await test.handle.db.update(db.configEntries).set({ value: 5 }).where(eq(db.configEntries.key, key)); // the cause, fixed
    const [a, b] = await Promise.all([
      retryApproval(TOOLS, base, staff['ceo:ceo']!, approvalId, 'valor corrigido'),
      retryApproval(TOOLS, base, staff['settings:head']!, approvalId),
    ]);
    expect([a, b].filter((r) => r.decided && r.status === 'executed')).toHaveLength(1);
    const [entry] = await test.handle.db.select().from(db.configEntries).where(eq(db.configEntries.key, key));
    expect(entry!.value).toBe(7);
    expect(await retryApproval(TOOLS, base, staff['ceo:ceo']!, approvalId)).toMatchObject({
      decided: false,
      reason: 'Only a failed approval can be retried; this one is executed.',
    });
    const retries = await test.handle.db
      .select()
      .from(db.auditLog)
      .where(and(eq(db.auditLog.action, 'approval.retry'), eq(db.auditLog.outcome, 'ok')));
    expect(retries.length).toBe(2);
    expect(retries[0]!.args).toMatchObject({ approvalId, previousError: expect.stringMatching(/already 7/) });
  });

  it('a failed approval past its expiry cannot be retried: a new one must be asked for', async () => {
    const requested = await invokeTool(TOOLS, { ...base, actor: staff['settings:member']! }, 'set_config', {
      key: 'reports.daily_time',
      value: '07:30',
      reason: 'CEO acorda cedo',
    });
    const approvalId = (requested as { pendingApproval: { id: string } }).pendingApproval.id;
    await test.handle.db.update(db.configEntries).set({ value: '07:30' }).where(eq(db.configEntries.key, 'reports.daily_time'));
    expect(await decideApproval(TOOLS, base, staff['ceo:ceo']!, approvalId, 'approve')).toMatchObject({ status: 'failed' });
    const later = { ...base, now: () => new Date(now.getTime() + 49 * 3_600_000) };
    expect(await retryApproval(TOOLS, later, staff['ceo:ceo']!, approvalId)).toMatchObject({
      decided: false,
      status: 'expired',
      reason: 'This approval has expired; ask for a new one.',
    });
  });

  it('a live bot starts only by a person: its owner confirming at a door, or an approval when anyone else (an agent) asks', async () => {
    const [bot] = await queryRows<{ id: string; tenant_id: string; user_id: string; name: string; email: string }>(
      test.handle.db,
      sql`select b.id, b.tenant_id, u.id as user_id, u.name, u.email from bots b join users u on u.tenant_id = b.tenant_id join exchange_accounts a on a.id = b.exchange_account_id
          where b.mode = 'live' and a.status = 'active' order by b.id limit 1`,
    );
    await test.handle.db.update(db.bots).set({ status: 'stopped' }).where(eq(db.bots.id, bot!.id));
    const owner: Actor = { kind: 'trader', userId: bot!.user_id, tenantId: bot!.tenant_id, name: bot!.name };
    const status = async () => (await test.handle.db.select().from(db.bots).where(eq(db.bots.id, bot!.id)))[0]!.status;

    // What an agent's call looks like (no confirmation can come from a model): an approval.
    const asked = await invokeTool(TOOLS, { ...base, actor: owner, agent: 'support' }, 'start_bot', { botId: bot!.id });
    expect(asked).toMatchObject({
      ok: true,
      pendingApproval: { approverDepartment: 'security', summary: `Start bot ${bot!.id} in LIVE mode (real money)` },
    });
    expect(await status()).toBe('stopped');
    const approvalId = (asked as { pendingApproval: { id: string } }).pendingApproval.id;
    expect(await decideApproval(TOOLS, base, staff['support:head']!, approvalId, 'approve')).toMatchObject({ decided: false });
    expect(await decideApproval(TOOLS, base, staff['security:head']!, approvalId, 'approve')).toMatchObject({
      decided: true,
      status: 'executed',
    });
    expect(await status()).toBe('running');

    // The owner's own confirmation at a door starts it at once, and the audit says so.
    await test.handle.db.update(db.bots).set({ status: 'stopped' }).where(eq(db.bots.id, bot!.id));
    expect(await invokeTool(TOOLS, { ...base, actor: owner, liveTradingConfirmed: true }, 'start_bot', { botId: bot!.id })).toMatchObject({
      ok: true,
      result: { status: 'running' },
    });
    const [audited] = await test.handle.db
      .select()
      .from(db.auditLog)
      .where(and(eq(db.auditLog.tool, 'start_bot'), eq(db.auditLog.outcome, 'ok')))
      .orderBy(sql`${db.auditLog.id} desc`)
      .limit(1);
    expect(audited!.details).toMatchObject({ liveTradingConfirmedBy: 'the person themselves' });

    // A paper bot needs nothing of the kind.
    const [paper] = await test.handle.db
      .select()
      .from(db.bots)
      .where(and(eq(db.bots.mode, 'paper'), eq(db.bots.status, 'stopped')))
      .limit(1);
    const paperOwner = await queryRows<{ id: string; name: string }>(
      test.handle.db,
      sql`select id, name from users where tenant_id = ${paper!.tenantId} limit 1`,
    );
    const started = await invokeTool(
      TOOLS,
      { ...base, actor: { kind: 'trader', userId: paperOwner[0]!.id, tenantId: paper!.tenantId, name: paperOwner[0]!.name } },
      'start_bot',
      { botId: paper!.id },
    );
    expect(started.ok && !('pendingApproval' in started)).toBe(true);
  });
});
