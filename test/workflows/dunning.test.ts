import crypto from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeClient, formatBrlCents, receiveStripeWebhook } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { queryRows } from '../../db/index.ts';
import { DUNNING, dunningCheck, recoverInterruptedRuns } from '../../workflows/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { NOW, recordSnapshots, rewindBefore, seedDemo, silentLogger, workflowRuntime } from '../support/workflow-fixture.ts';

// Dunning end to end on the demo company: real Stripe webhook deliveries (signed, through
// billing's handler) move the invoice; the workflow follows them over simulated days.

const SECRET = 'whsec_dunning';
const stripe = await createStripeClient({ secretKey: undefined });
const DAY = 86_400;
const T0 = Math.floor(NOW.getTime() / 1000);

describe('dunning workflow', () => {
  let test: TestDatabase;
  const clock = { now: NOW };
  const deps = () => ({ db: test.handle.db, now: () => clock.now, logger: silentLogger });
  let seq = 0;

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    await seedDemo(test.handle.db);
  }, 120_000);
  afterAll(async () => {
    await test?.dispose();
  });

  /** A new trader on Pro, linked to Stripe customer `cus`, whose first invoice just failed. */
  async function traderWithFailedInvoice(name: string) {
    const tenantId = crypto.randomUUID();
    const cus = `cus_${name}`;
    const x = test.handle.db;
    await x.insert(db.tenants).values({ id: tenantId, kind: 'trader', name });
    const [user] = await x
      .insert(db.users)
      .values({ tenantId, email: `${name}@example.com`, name })
      .returning();
    await x.insert(db.customers).values({ tenantId, email: `${name}@example.com`, name, stripeCustomerId: cus });
    const invoice = (overrides: Record<string, unknown> = {}) => ({
      id: `in_${name}`,
      object: 'invoice',
      customer: cus,
      number: `BCF-${name}`,
      status: 'open',
      currency: 'brl',
      amount_due: 9_990,
      amount_paid: 0,
      attempt_count: 1,
      next_payment_attempt: T0 + 3 * DAY,
      period_start: T0,
      period_end: T0 + 30 * DAY,
      created: T0,
      payment_intent: `pi_${name}`,
      status_transitions: { paid_at: null },
      parent: { subscription_details: { subscription: `sub_${name}` } },
      lines: { data: [{ price: { id: 'price_pro_m', lookup_key: 'botcriptofy_pro_month' } }] },
      ...overrides,
    });
    const deliver = async (type: string, object: Record<string, unknown>, created = T0) => {
      const body = JSON.stringify({
        id: `evt_${name}_${++seq}`,
        object: 'event',
        type,
        created,
        data: { object },
        livemode: false,
        api_version: '2026-10-28.endive',
      });
      const result = await receiveStripeWebhook(x, stripe, {
        rawBody: body,
        signature: stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }),
        secret: SECRET,
      });
      expect(result.status, JSON.stringify(result.body)).toBe(200);
    };
    await deliver(
      'customer.subscription.created',
      {
        id: `sub_${name}`,
        object: 'subscription',
        customer: cus,
        status: 'active',
        cancel_at_period_end: false,
        canceled_at: null,
        ended_at: null,
        trial_end: null,
        start_date: T0 - 30 * DAY,
        metadata: {},
        items: {
          data: [
            {
              price: {
                id: 'price_pro_m',
                lookup_key: 'botcriptofy_pro_month',
                unit_amount: 9_990,
                currency: 'brl',
                recurring: { interval: 'month' },
              },
              quantity: 1,
              current_period_start: T0,
              current_period_end: T0 + 30 * DAY,
            },
          ],
        },
      },
      T0 - 30 * DAY,
    );
    await deliver('invoice.payment_failed', invoice());
    const [row] = await x
      .select()
      .from(db.invoices)
      .where(eq(db.invoices.stripeInvoiceId, `in_${name}`));
    return { tenantId, userId: user!.id, invoiceId: row!.id, invoice, deliver };
  }

  const notes = (tenantId: string) =>
    test.handle.db.select().from(db.notifications).where(eq(db.notifications.tenantId, tenantId)).orderBy(db.notifications.createdAt);
  const financeMessages = (ref: string) =>
    queryRows<{ payload: { text: string } }>(
      test.handle.db,
      sql`select payload from notifications where dedupe_key = ${`dunning:${ref}:outcome:finance`}`,
    );
  const plans = async (tenantId: string) =>
    (
      await test.handle.db
        .select()
        .from(db.subscriptions)
        .where(eq(db.subscriptions.tenantId, tenantId))
        .orderBy(db.subscriptions.startedAt)
    ).map((s) => [s.planId, s.status]);
  const runStatus = async (invoiceId: string) =>
    (
      (
        await test.handle.db
          .select()
          .from(db.mastraWorkflowSnapshots)
          .where(eq(db.mastraWorkflowSnapshots.runId, `dunning:${invoiceId}`))
      )[0]?.snapshot as { status: string } | undefined
    )?.status;

  it("follows Stripe's retries over days and ends on Free after the last failure, each notice once", async () => {
    const { mastra } = workflowRuntime(test.handle.db, { now: () => clock.now });
    const ana = await traderWithFailedInvoice('ana');
    clock.now = NOW;
    // The check finds the failed invoice, starts its run; the run waits for the next retry.
    const first = await dunningCheck(mastra, deps());
    const mine = first.started.find((o) => o.runId === `dunning:${ana.invoiceId}`)!;
    expect(mine).toMatchObject({
      status: 'suspended',
      waiting: [{ step: 'follow-retries', wake: { at: new Date((T0 + 3 * DAY) * 1000 + 3_600_000).toISOString() } }],
    });
    // The webhook already told the trader and Finance about attempt 1: nothing twice.
    expect((await notes(ana.tenantId)).map((n) => n.dedupeKey)).toEqual([
      'payment_failed:in_ana:1:trader',
      'payment_failed:in_ana:1:finance',
    ]);
    expect(await dunningCheck(mastra, deps())).toMatchObject({ started: [], resumed: [] });

    // Day 3: Stripe's second attempt fails; the webhook records it and the next date.
    await ana.deliver('invoice.payment_failed', ana.invoice({ attempt_count: 2, next_payment_attempt: T0 + 8 * DAY }), T0 + 3 * DAY);
    clock.now = new Date((T0 + 3 * DAY) * 1000 + 2 * 3_600_000);
    const second = await dunningCheck(mastra, deps());
    expect(second.resumed).toMatchObject([
      {
        runId: `dunning:${ana.invoiceId}`,
        status: 'suspended',
        waiting: [{ wake: { at: new Date((T0 + 8 * DAY) * 1000 + 3_600_000).toISOString() } }],
      },
    ]);
    expect(await plans(ana.tenantId)).toEqual([['pro', 'active']]);

    // Day 8: the last attempt fails (no next date): the webhook moves the trader to Free at once.
    await ana.deliver('invoice.payment_failed', ana.invoice({ attempt_count: 3, next_payment_attempt: null }), T0 + 8 * DAY);
    clock.now = new Date((T0 + 8 * DAY) * 1000 + 2 * 3_600_000);
    const last = await dunningCheck(mastra, deps());
    expect(last.resumed).toMatchObject([{ status: 'success', result: { outcome: 'final', downgraded: false, invoice: { attempt: 3 } } }]);
    expect(await plans(ana.tenantId)).toEqual([
      ['pro', 'canceled'],
      ['free', 'active'],
    ]);
    const keys = (await notes(ana.tenantId)).map((n) => n.dedupeKey);
    expect(keys.filter((k) => k?.startsWith('payment_failed:'))).toHaveLength(6);
    expect(new Set(keys).size).toBe(keys.length);
    expect((await financeMessages('in_ana'))[0]!.payload.text).toContain('ana@example.com já estava no plano Free');
    const audit = await queryRows<{ action: string; actor_id: string }>(
      test.handle.db,
      sql`select action, actor_id from audit_log where tenant_id = ${ana.tenantId} and action in ('billing.downgraded_to_free', 'workflow.dunning_closed') order by id`,
    );
    expect(audit).toEqual([
      { action: 'billing.downgraded_to_free', actor_id: 'stripe' },
      { action: 'workflow.dunning_closed', actor_id: 'workflow:dunning' },
    ]);
    expect(await runStatus(ana.invoiceId)).toBe('success');
  });

  it('a payment on a retry ends it as recovered: the trader is thanked, the plan stays', async () => {
    const { mastra } = workflowRuntime(test.handle.db, { now: () => clock.now });
    clock.now = NOW;
    const bia = await traderWithFailedInvoice('bia');
    await dunningCheck(mastra, deps());
    await bia.deliver(
      'invoice.paid',
      bia.invoice({
        status: 'paid',
        amount_paid: 9_990,
        attempt_count: 2,
        next_payment_attempt: null,
        status_transitions: { paid_at: T0 + 3 * DAY },
        charge: 'ch_bia',
      }),
      T0 + 3 * DAY,
    );
    clock.now = new Date((T0 + 3 * DAY) * 1000 + 2 * 3_600_000);
    const { resumed } = await dunningCheck(mastra, deps());
    expect(resumed).toMatchObject([
      { runId: `dunning:${bia.invoiceId}`, status: 'success', result: { outcome: 'recovered', downgraded: false } },
    ]);
    expect(await plans(bia.tenantId)).toEqual([['pro', 'active']]);
    const thanks = (await notes(bia.tenantId)).find((n) => n.dedupeKey === 'dunning:in_bia:outcome:trader');
    expect((thanks!.payload as { text: string }).text).toContain(`Pagamento da fatura BCF-bia (${formatBrlCents(9_990)}) confirmado`);
    expect((await financeMessages('in_bia'))[0]!.payload.text).toContain('Cobrança recuperada');
  });

  it('without the final webhook the workflow downgrades itself; killed after that, it resumes without doing it twice', async () => {
    const { mastra } = workflowRuntime(test.handle.db, { now: () => clock.now });
    const recorded = await recordSnapshots(mastra);
    clock.now = NOW;
    const caio = await traderWithFailedInvoice('caio');
    await dunningCheck(mastra, deps());
    // The last attempt's outcome is mirrored without the webhook's downgrade (e.g. a sync from Stripe).
    await test.handle.db.update(db.invoices).set({ attemptCount: 4, nextPaymentAttemptAt: null }).where(eq(db.invoices.id, caio.invoiceId));
    clock.now = new Date((T0 + 4 * DAY) * 1000);
    const { resumed } = await dunningCheck(mastra, deps());
    expect(resumed).toMatchObject([{ status: 'success', result: { outcome: 'final', downgraded: true } }]);
    expect(await plans(caio.tenantId)).toEqual([
      ['pro', 'canceled'],
      ['free', 'active'],
    ]);

    // The process dies right after the last step's side effects, before its snapshot is written.
    await rewindBefore(test.handle.db, recorded, DUNNING, `dunning:${caio.invoiceId}`, 'close');
    const recovered = await recoverInterruptedRuns(workflowRuntime(test.handle.db, { now: () => clock.now }).mastra, [DUNNING], {
      staleAfterMs: 0,
    });
    expect(recovered).toMatchObject([
      { runId: `dunning:${caio.invoiceId}`, status: 'success', result: { outcome: 'final', downgraded: true } },
    ]);
    expect(await financeMessages('in_caio')).toHaveLength(1);
    const downgrades = await queryRows<{ actor_id: string }>(
      test.handle.db,
      sql`select actor_id from audit_log where tenant_id = ${caio.tenantId} and action = 'billing.downgraded_to_free'`,
    );
    expect(downgrades).toEqual([{ actor_id: 'workflow:dunning' }]);
    expect(
      await test.handle.db.$count(
        db.auditLog,
        and(eq(db.auditLog.tenantId, caio.tenantId), eq(db.auditLog.action, 'workflow.dunning_closed')),
      ),
    ).toBe(1);
    // Again, one step earlier: killed right after the downgrade. Still one Free subscription, one audit.
    await rewindBefore(test.handle.db, recorded, DUNNING, `dunning:${caio.invoiceId}`, 'downgrade');
    const again = await recoverInterruptedRuns(workflowRuntime(test.handle.db, { now: () => clock.now }).mastra, [DUNNING], {
      staleAfterMs: 0,
    });
    expect(again).toMatchObject([{ status: 'success', result: { outcome: 'final', downgraded: false } }]);
    expect(await plans(caio.tenantId)).toEqual([
      ['pro', 'canceled'],
      ['free', 'active'],
    ]);
    expect(
      await test.handle.db.$count(
        db.auditLog,
        and(eq(db.auditLog.tenantId, caio.tenantId), eq(db.auditLog.action, 'billing.downgraded_to_free')),
      ),
    ).toBe(1);
    expect(await financeMessages('in_caio')).toHaveLength(1);
  });

  it('a process that died right after claiming a resume leaves the run waiting again, not lost', async () => {
    const { mastra } = workflowRuntime(test.handle.db, { now: () => clock.now });
    clock.now = NOW;
    const edu = await traderWithFailedInvoice('edu');
    await dunningCheck(mastra, deps());
    // What the claim (suspended → running) leaves when the process dies before the step ends.
    await test.handle.db.execute(
      sql`update mastra_workflow_snapshots set snapshot = jsonb_set(snapshot, '{status}', '"running"'), updated_at = now() - interval '1 hour' where run_id = ${`dunning:${edu.invoiceId}`}`,
    );
    const recovered = await recoverInterruptedRuns(workflowRuntime(test.handle.db, { now: () => clock.now }).mastra, [DUNNING], {
      staleAfterMs: 0,
    });
    expect(recovered).toMatchObject([{ runId: `dunning:${edu.invoiceId}`, status: 'suspended', waiting: [{ step: 'follow-retries' }] }]);
    await edu.deliver(
      'invoice.paid',
      edu.invoice({
        status: 'paid',
        amount_paid: 9_990,
        attempt_count: 2,
        next_payment_attempt: null,
        status_transitions: { paid_at: T0 + 3 * DAY },
        charge: 'ch_edu',
      }),
      T0 + 3 * DAY,
    );
    clock.now = new Date((T0 + 3 * DAY) * 1000 + 2 * 3_600_000);
    expect((await dunningCheck(mastra, deps())).resumed).toMatchObject([
      { runId: `dunning:${edu.invoiceId}`, status: 'success', result: { outcome: 'recovered' } },
    ]);
  });

  it('tells Finance once when a retry date is long past and nothing came from Stripe', async () => {
    const { mastra } = workflowRuntime(test.handle.db, { now: () => clock.now });
    clock.now = NOW;
    const duda = await traderWithFailedInvoice('duda');
    await dunningCheck(mastra, deps());
    clock.now = new Date((T0 + 7 * DAY) * 1000);
    const { resumed } = await dunningCheck(mastra, deps());
    expect(resumed).toMatchObject([{ status: 'suspended', waiting: [{ wake: { at: new Date((T0 + 8 * DAY) * 1000).toISOString() } }] }]);
    clock.now = new Date((T0 + 8 * DAY) * 1000 + 1);
    await dunningCheck(mastra, deps());
    const stalled = await queryRows<{ payload: { text: string } }>(
      test.handle.db,
      sql`select payload from notifications where dedupe_key like ${'dunning:in_duda:stalled:%'}`,
    );
    expect(stalled).toHaveLength(1);
    expect(stalled[0]!.payload.text).toContain('Cobrança parada');
    expect(await runStatus(duda.invoiceId)).toBe('suspended');
  });
});
