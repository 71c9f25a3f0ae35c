import type Stripe from 'stripe';
import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { listStaff, queryRows } from '../../db/index.ts';
import { seedDemoCompany } from '../../demo/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import {
  FOUR_EYES_SETTING,
  TOOLS,
  decideApproval,
  fourEyesApplies,
  invokeTool,
  retryApproval,
  staffActor,
  type Actor,
  type ToolContext,
} from '../../tools/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

// Four-eyes on approvals (issue 21): the person who asked, or on whose behalf an agent asked,
// cannot approve it; a second eligible person must. On by default for money and live trading,
// set per action by the company setting approvals.four_eyes; every refusal audited.

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`four-eyes on approvals (${driver})`, () => {
    let test: TestDatabase;
    const staff: Record<string, Extract<Actor, { kind: 'staff' }>> = {};
    const now = new Date('2026-11-01T12:00:00Z');
    let ctxFor: (actor: Actor) => ToolContext;
    let base: Omit<ToolContext, 'actor'>;

    beforeAll(async () => {
      test = await createTestDatabase(driver);
      await seedDemoCompany(test.handle.db, {
        secretBox: createSecretBox(crypto.randomBytes(32)),
        asOf: new Date('2026-11-01T00:00:00Z'),
        traders: 4,
      });
      for (const member of await listStaff(test.handle.db)) staff[`${member.department}:${member.role}`] ??= staffActor(member);
      base = { db: test.handle.db, billing: new BillingService(test.handle.db, undefined), now: () => now };
      ctxFor = (actor) => ({ ...base, actor, agent: 'settings' });
    }, 180_000);
    afterAll(async () => {
      await test?.dispose();
    });

    const setFourEyes = async (value: Record<string, boolean> | undefined) => {
      await test.handle.db.delete(db.configEntries).where(eq(db.configEntries.key, FOUR_EYES_SETTING));
      if (value)
        await test.handle.db.insert(db.configEntries).values({ key: FOUR_EYES_SETTING, value, description: 'four-eyes per action' });
    };
    const denials = async (approvalId: string) =>
      (
        await queryRows<{ n: number }>(
          test.handle.db,
          sql`select count(*)::int as n from audit_log where action in ('approval.decide', 'approval.retry') and outcome = 'denied'
              and details->>'reason' = 'four_eyes' and args->>'approvalId' = ${approvalId}`,
        )
      )[0]!.n;

    it('is on by default for money and live trading, off for the rest, and set per action', async () => {
      await setFourEyes(undefined);
      expect(await fourEyesApplies(test.handle.db, TOOLS, 'refund_payment')).toBe(true);
      expect(await fourEyesApplies(test.handle.db, TOOLS, 'start_bot')).toBe(true);
      expect(await fourEyesApplies(test.handle.db, TOOLS, 'set_config')).toBe(false);
      await setFourEyes({ set_config: true, refund_payment: false });
      expect(await fourEyesApplies(test.handle.db, TOOLS, 'set_config')).toBe(true);
      expect(await fourEyesApplies(test.handle.db, TOOLS, 'refund_payment')).toBe(false);
      await setFourEyes(undefined);
    });

    it("refuses the finance head's approval of her own refund (audited); the CEO's decides it once", async () => {
      const [payment] = await test.handle.db.select().from(db.payments).where(eq(db.payments.status, 'succeeded')).limit(1);
      const head = staff['finance:head']!;
      // Asked through her agent, with a Stripe key configured (the client is not called until it runs).
      const requested = await invokeTool(
        TOOLS,
        { ...ctxFor(head), agent: 'finance', billing: new BillingService(test.handle.db, {} as Stripe) },
        'refund_payment',
        { paymentId: payment!.id, reason: 'cobrança duplicada' },
      );
      const approvalId = (requested as { pendingApproval: { id: string } }).pendingApproval.id;
      const own = await decideApproval(TOOLS, base, head, approvalId, 'approve');
      expect(own).toMatchObject({ decided: false, fourEyes: true, status: 'pending' });
      expect(await denials(approvalId)).toBe(1);
      const [still] = await test.handle.db.select().from(db.approvals).where(eq(db.approvals.id, approvalId));
      expect(still!.status).toBe('pending');
      const [first, second] = await Promise.all([
        decideApproval(TOOLS, base, staff['ceo:ceo']!, approvalId, 'approve'),
        decideApproval(TOOLS, base, staff['ceo:ceo']!, approvalId, 'approve'),
      ]);
      expect([first, second].filter((d) => d.decided)).toHaveLength(1);
      const [after] = await test.handle.db.select().from(db.approvals).where(eq(db.approvals.id, approvalId));
      expect(after!.decidedByUserId).toBe(staff['ceo:ceo']!.userId);
      // It failed (no Stripe key now); she may not retry it herself either.
      expect(after!.status).toBe('failed');
      expect(await retryApproval(TOOLS, base, head, approvalId)).toMatchObject({ decided: false, fourEyes: true });
      expect(await denials(approvalId)).toBe(2);
    });

    it('lets a requester decide their own request where the action is set off, and refuses it once set on', async () => {
      const head = staff['settings:head']!;
      let value = 6;
      const ask = async () => {
        value += 0.5;
        const outcome = await invokeTool(TOOLS, ctxFor(head), 'set_config', {
          key: 'risk.stop_loss_pct',
          value,
          reason: 'teste quatro olhos',
        });
        expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true, pendingApproval: {} });
        return (outcome as { pendingApproval: { id: string } }).pendingApproval.id;
      };
      await setFourEyes(undefined);
      const free = await ask();
      expect(await decideApproval(TOOLS, base, head, free, 'approve')).toMatchObject({ decided: true, status: 'executed' });
      await setFourEyes({ set_config: true });
      const guarded = await ask();
      expect(await decideApproval(TOOLS, base, head, guarded, 'approve')).toMatchObject({ decided: false, fourEyes: true });
      // Withdrawing one's own request stays possible.
      expect(await decideApproval(TOOLS, base, head, guarded, 'reject')).toMatchObject({ decided: true, status: 'rejected' });
      const third = await ask();
      expect(await decideApproval(TOOLS, base, staff['ceo:ceo']!, third, 'approve')).toMatchObject({ decided: true, status: 'executed' });
      const executions = await queryRows<{ n: number }>(
        test.handle.db,
        sql`select count(*)::int as n from audit_log where tool = 'set_config' and actor_id = ${`system:approval:${third}`}`,
      );
      expect(executions[0]!.n).toBe(1);
      await setFourEyes(undefined);
    });
  });
}
