import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStripeClient, webhookTestHooks } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { queryRows } from '../../db/index.ts';
import { createLogger, createMetrics } from '../../observability/index.ts';
import { createApp } from '../../server/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

const SECRET = 'whsec_test_botcriptofy';
const stripe = await createStripeClient({ secretKey: undefined });
const silent = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);
const T0 = Math.floor(Date.UTC(2026, 9, 1) / 1000);

function subscriptionObject(overrides: Record<string, unknown> = {}) {
  return {
    id: 'sub_1',
    object: 'subscription',
    customer: 'cus_1',
    status: 'active',
    cancel_at_period_end: false,
    canceled_at: null,
    ended_at: null,
    trial_end: null,
    start_date: T0,
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
          current_period_end: T0 + 30 * 86_400,
        },
      ],
    },
    ...overrides,
  };
}

function invoiceObject(overrides: Record<string, unknown> = {}) {
  return {
    id: 'in_1',
    object: 'invoice',
    customer: 'cus_1',
    number: 'BCF-0001',
    status: 'open',
    currency: 'brl',
    amount_due: 9_990,
    amount_paid: 0,
    attempt_count: 1,
    next_payment_attempt: T0 + 3 * 86_400,
    period_start: T0,
    period_end: T0 + 30 * 86_400,
    created: T0,
    payment_intent: 'pi_1',
    status_transitions: { paid_at: null },
    parent: { subscription_details: { subscription: 'sub_1' } },
    lines: { data: [{ pricing: { price_details: { price: 'price_pro_m' } } }] },
    ...overrides,
  };
}

describe.each(testDrivers)('POST /webhooks/stripe on %s', (driver) => {
  let test: TestDatabase;
  let app: ReturnType<typeof createApp>;
  const tenantId = crypto.randomUUID();

  beforeEach(async () => {
    test = await createTestDatabase(driver);
    const x = test.handle.db;
    await x.insert(db.plans).values(
      (['free', 'pro', 'enterprise'] as const).map((id) => ({
        id,
        name: id,
        monthlyPriceCents: 0,
        yearlyPriceCents: 0,
        stripeMonthlyPriceId: `price_${id}_m`,
        limits: { botsAllowed: 1, liveTradingAllowed: false, backtestsPerDay: 1, symbolsPerBot: 1, agentAccess: 'none' as const },
      })),
    );
    await x.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'Ana' });
    await x.insert(db.users).values({ tenantId, email: 'ana@example.com', name: 'Ana' });
    await x.insert(db.customers).values({ tenantId, email: 'ana@example.com', name: 'Ana' });
    app = createApp({
      database: test.handle,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: silent,
      version: 't',
      startedAt: new Date(),
      stripeWebhooks: { stripe, secret: SECRET },
    });
  });
  afterEach(async () => {
    webhookTestHooks.afterMirror = undefined;
    await test.dispose();
  });

  let eventSeq = 0;
  function event(type: string, object: Record<string, unknown>, created = T0, id = `evt_${++eventSeq}`) {
    return { id, object: 'event', type, created, data: { object }, livemode: false, api_version: '2026-10-28.endive' };
  }
  async function deliver(payload: object, options: { secret?: string; timestamp?: number; signature?: string } = {}) {
    const body = JSON.stringify(payload);
    const header =
      options.signature ??
      stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: options.secret ?? SECRET,
        ...(options.timestamp ? { timestamp: options.timestamp } : {}),
      });
    return app.request('/webhooks/stripe', {
      method: 'POST',
      body,
      headers: { 'stripe-signature': header, 'content-type': 'application/json' },
    });
  }
  const count = async (table: string) =>
    (await queryRows<{ n: number }>(test.handle.db, sql.raw(`select count(*)::int as n from ${table}`)))[0]!.n;
  const link = () =>
    deliver(
      event('checkout.session.completed', { id: 'cs_1', object: 'checkout.session', customer: 'cus_1', client_reference_id: tenantId }),
    );

  it('links the customer on checkout, then mirrors its subscription', async () => {
    expect((await link()).status).toBe(200);
    const [customer] = await test.handle.db.select().from(db.customers).where(eq(db.customers.tenantId, tenantId));
    expect(customer!.stripeCustomerId).toBe('cus_1');
    expect((await deliver(event('customer.subscription.created', subscriptionObject()))).status).toBe(200);
    const [sub] = await test.handle.db.select().from(db.subscriptions);
    expect(sub).toMatchObject({
      tenantId,
      planId: 'pro',
      status: 'active',
      amountCents: 9_990,
      interval: 'month',
      stripeSubscriptionId: 'sub_1',
    });
    const [change] = await test.handle.db.select().from(db.subscriptionChanges);
    expect(change).toMatchObject({ kind: 'created', mrrBeforeCents: 0, mrrAfterCents: 9_990 });
  });

  it('rejects a bad signature or an expired timestamp with 400 and stores nothing', async () => {
    expect((await deliver(event('customer.subscription.created', subscriptionObject()), { secret: 'whsec_wrong' })).status).toBe(400);
    expect((await deliver(event('customer.subscription.created', subscriptionObject()), { signature: 't=1,v1=deadbeef' })).status).toBe(
      400,
    );
    const expired = await deliver(event('customer.subscription.created', subscriptionObject()), {
      timestamp: Math.floor(Date.now() / 1000) - 3600,
    });
    expect(expired.status).toBe(400);
    expect(((await expired.json()) as { error: string }).error).toMatch(/tolerance/i);
    expect(await count('webhook_events')).toBe(0);
    expect(await count('subscriptions')).toBe(0);
  });

  it('gives an event replayed 100 times exactly one effect', async () => {
    await link();
    const payload = event('customer.subscription.created', subscriptionObject());
    const answers = await Promise.all(Array.from({ length: 100 }, () => deliver(payload)));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(await count('subscriptions')).toBe(1);
    expect(await count('subscription_changes')).toBe(1);
    const [row] = await test.handle.db.select().from(db.webhookEvents).where(eq(db.webhookEvents.id, payload.id));
    expect(row).toMatchObject({ status: 'processed', attempts: 1 });
  });

  it('never lets an older event overwrite newer state', async () => {
    await link();
    await deliver(event('customer.subscription.created', subscriptionObject(), T0));
    const enterprise = {
      items: {
        data: [
          {
            price: {
              id: 'price_ent_m',
              lookup_key: 'botcriptofy_enterprise_month',
              unit_amount: 49_990,
              currency: 'brl',
              recurring: { interval: 'month' },
            },
            quantity: 1,
          },
        ],
      },
    };
    await deliver(event('customer.subscription.updated', subscriptionObject(enterprise), T0 + 20));
    await deliver(event('customer.subscription.updated', subscriptionObject({ status: 'past_due' }), T0 + 10)); // late arrival
    const [sub] = await test.handle.db.select().from(db.subscriptions);
    expect(sub).toMatchObject({ planId: 'enterprise', status: 'active', amountCents: 49_990 });
    const changes = await test.handle.db.select().from(db.subscriptionChanges).orderBy(db.subscriptionChanges.occurredAt);
    expect(changes.map((c) => [c.kind, c.mrrBeforeCents, c.mrrAfterCents])).toEqual([
      ['created', 0, 9_990],
      ['upgraded', 9_990, 49_990],
    ]);
  });

  it('rolls back a handler that fails midway, answers 500, and succeeds when Stripe retries', async () => {
    await link();
    webhookTestHooks.afterMirror = () => {
      throw new Error('disk full');
    };
    const payload = event('customer.subscription.created', subscriptionObject());
    const failed = await deliver(payload);
    expect(failed.status).toBe(500);
    expect(await count('subscriptions')).toBe(0); // the half-written mirror is gone
    expect(await count('subscription_changes')).toBe(0);
    const [noted] = await test.handle.db.select().from(db.webhookEvents).where(eq(db.webhookEvents.id, payload.id));
    expect(noted).toMatchObject({ status: 'failed', error: 'disk full' });
    webhookTestHooks.afterMirror = undefined;
    expect((await deliver(payload)).status).toBe(200);
    expect(await count('subscriptions')).toBe(1);
    const [done] = await test.handle.db.select().from(db.webhookEvents).where(eq(db.webhookEvents.id, payload.id));
    expect(done).toMatchObject({ status: 'processed', attempts: 2 });
  });

  it('asks for a retry while the customer is not linked yet (events out of order)', async () => {
    const early = event('customer.subscription.created', subscriptionObject());
    expect((await deliver(early)).status).toBe(500);
    await link();
    expect((await deliver(early)).status).toBe(200);
    expect(await count('subscriptions')).toBe(1);
  });

  it('dunning: notifies trader and Finance on a failed payment, keeps the retry date, and moves to Free after the last one', async () => {
    await link();
    await deliver(event('customer.subscription.created', subscriptionObject()));
    await deliver(event('invoice.finalized', invoiceObject()));
    expect((await deliver(event('invoice.payment_failed', invoiceObject()), {})).status).toBe(200);
    const [invoice] = await test.handle.db.select().from(db.invoices);
    expect(invoice).toMatchObject({ status: 'open', planId: 'pro', attemptCount: 1, amountDueCents: 9_990 });
    expect(invoice!.nextPaymentAttemptAt?.getTime()).toBe((T0 + 3 * 86_400) * 1000);
    const notes = await test.handle.db.select().from(db.notifications);
    expect(notes.map((n) => [n.type, n.recipientDepartment ?? 'trader'])).toEqual([
      ['payment_failed', 'trader'],
      ['payment_failed', 'finance'],
    ]);
    expect(await count("payments where status = 'failed'")).toBe(1);

    const last = invoiceObject({ attempt_count: 4, next_payment_attempt: null });
    await deliver(event('invoice.payment_failed', last, T0 + 20 * 86_400));
    const subs = await test.handle.db.select().from(db.subscriptions).orderBy(db.subscriptions.startedAt);
    expect(subs.map((s) => [s.planId, s.status])).toEqual([
      ['pro', 'canceled'],
      ['free', 'active'],
    ]);
    const audit = await queryRows<{ action: string }>(test.handle.db, sql`select action from audit_log order by id`);
    expect(audit.map((a) => a.action)).toEqual(['billing.payment_failed', 'billing.payment_failed', 'billing.downgraded_to_free']);
    const changes = await test.handle.db.select().from(db.subscriptionChanges).orderBy(db.subscriptionChanges.occurredAt);
    expect(changes.at(-1)).toMatchObject({ kind: 'canceled', mrrBeforeCents: 9_990, mrrAfterCents: 0 });
  });

  it('records payments and refunds', async () => {
    await link();
    await deliver(event('customer.subscription.created', subscriptionObject()));
    await deliver(
      event(
        'invoice.paid',
        invoiceObject({ status: 'paid', amount_paid: 9_990, status_transitions: { paid_at: T0 + 60 }, charge: 'ch_1' }),
      ),
    );
    const [paid] = await test.handle.db.select().from(db.invoices);
    expect(paid).toMatchObject({ status: 'paid', amountPaidCents: 9_990 });
    await deliver(
      event('charge.refunded', {
        id: 'ch_1',
        object: 'charge',
        amount: 9_990,
        amount_refunded: 4_000,
        currency: 'brl',
        payment_intent: 'pi_1',
        refunds: { data: [{ id: 're_1', amount: 4_000, created: T0 + 100 }] },
      }),
    );
    const [payment] = await test.handle.db.select().from(db.payments);
    expect(payment).toMatchObject({ status: 'partially_refunded', refundedCents: 4_000 });
    expect(await count('refunds')).toBe(1);
    // A late payment_failed for the same invoice does not undo the payment.
    await deliver(event('invoice.payment_failed', invoiceObject({ attempt_count: 1 }), T0 - 10));
    expect((await test.handle.db.select().from(db.invoices))[0]!.status).toBe('paid');
  });

  it('mirrors an invoice event in one statement: once however often it is replayed, never back in time, retried until the customer is linked', async () => {
    const paid = event(
      'invoice.paid',
      invoiceObject({ status: 'paid', amount_paid: 9_990, status_transitions: { paid_at: T0 + 60 }, charge: 'ch_9' }),
      T0 + 60,
    );
    const early = await deliver(paid); // the customer is not linked yet
    expect(early.status).toBe(500);
    expect(await count('invoices')).toBe(0);
    expect(await count('payments')).toBe(0);
    const [noted] = await test.handle.db.select().from(db.webhookEvents).where(eq(db.webhookEvents.id, paid.id));
    expect(noted).toMatchObject({ status: 'failed', error: expect.stringContaining('not linked') });

    await link();
    const answers = await Promise.all(Array.from({ length: 100 }, () => deliver(paid)));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(
      (await Promise.all(answers.map((answer) => answer.json() as Promise<{ duplicate?: boolean }>))).filter((body) => !body.duplicate),
    ).toHaveLength(1);
    expect(await count('invoices')).toBe(1);
    expect(await count('payments')).toBe(1);
    const [done] = await test.handle.db.select().from(db.webhookEvents).where(eq(db.webhookEvents.id, paid.id));
    expect(done).toMatchObject({ status: 'processed', attempts: 2, error: null });
    expect(done!.payload).toMatchObject({ id: paid.id, type: 'invoice.paid' });

    // Older events change nothing on the invoice; a late failed attempt is still recorded.
    expect((await deliver(event('invoice.finalized', invoiceObject({ number: 'BCF-OLD', amount_due: 1 }), T0 + 30))).status).toBe(200);
    expect((await deliver(event('invoice.payment_failed', invoiceObject({ attempt_count: 2, charge: 'ch_8' }), T0 + 40))).status).toBe(200);
    const [invoice] = await test.handle.db.select().from(db.invoices);
    expect(invoice).toMatchObject({ status: 'paid', number: 'BCF-0001', amountDueCents: 9_990, amountPaidCents: 9_990, attemptCount: 1 });
    expect(invoice!.stripeEventCreatedAt?.getTime()).toBe((T0 + 60) * 1000);
    expect(await count("payments where status = 'failed' and stripe_charge_id = 'ch_8'")).toBe(1);
    expect(await count('notifications')).toBe(0);

    // A newer event applies.
    expect(
      (await deliver(event('invoice.finalized', invoiceObject({ status: 'paid', amount_paid: 9_990, number: 'BCF-NEW' }), T0 + 90))).status,
    ).toBe(200);
    expect((await test.handle.db.select().from(db.invoices))[0]).toMatchObject({ status: 'paid', number: 'BCF-NEW' });
  });

  it('stores and acknowledges unknown event types', async () => {
    const response = await deliver(event('customer.tax_id.created', { id: 'txi_1' }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ received: true, ignored: true });
    const [row] = await test.handle.db.select().from(db.webhookEvents);
    expect(row).toMatchObject({ type: 'customer.tax_id.created', status: 'ignored' });
  });

  it('says when webhooks are not configured', async () => {
    const bare = createApp({
      database: test.handle,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: silent,
      version: 't',
      startedAt: new Date(),
    });
    const response = await bare.request('/webhooks/stripe', { method: 'POST', body: '{}' });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: expect.stringContaining('STRIPE_WEBHOOK_SECRET') });
  });
});
