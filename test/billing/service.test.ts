import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService, StripeNotConfiguredError, createStripeClient, mirrorSubscriptionObject } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { queryRows, tenantScope } from '../../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { startFakeStripe } from '../support/fake-stripe.ts';

describe('billing service (real Stripe SDK against a local Stripe stand-in)', () => {
  let test: TestDatabase;
  let fake: Awaited<ReturnType<typeof startFakeStripe>>;
  let billing: BillingService;
  const tenantId = crypto.randomUUID();
  const scope = () => tenantScope(tenantId);

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    fake = await startFakeStripe();
    billing = new BillingService(test.handle.db, await createStripeClient({ secretKey: 'sk_test_local', apiUrl: fake.url }));
    await test.handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'Bruno' });
    await test.handle.db.insert(db.users).values({ tenantId, email: 'bruno@example.com', name: 'Bruno' });
  });
  afterAll(async () => {
    await test?.dispose();
    await fake?.close();
  });

  it('syncs the catalogue idempotently through lookup keys and stores the ids', async () => {
    const first = await billing.syncCatalog();
    expect(first.products.map((p) => [p.planId, p.created])).toEqual([
      ['pro', true],
      ['enterprise', true],
    ]);
    expect(first.prices.every((p) => p.created)).toBe(true);
    expect(fake.prices.size).toBe(4);
    const second = await billing.syncCatalog();
    expect(second.products.every((p) => !p.created)).toBe(true);
    expect(second.prices.every((p) => !p.created)).toBe(true);
    expect(fake.prices.size).toBe(4); // nothing duplicated
    const [pro] = await test.handle.db.select().from(db.plans).where(eq(db.plans.id, 'pro'));
    expect(pro!.stripeMonthlyPriceId).toBe(first.prices.find((p) => p.lookupKey === 'botcriptofy_pro_month')!.priceId);
    const [proPrice] = [...fake.prices.values()].filter((p) => p['lookup_key'] === 'botcriptofy_pro_year');
    expect(proPrice!['unit_amount']).toBe(99_900);
  });

  it('creates the customer once and a checkout link with a trial', async () => {
    const link = await billing.checkoutLink(scope(), {
      planId: 'pro',
      interval: 'month',
      successUrl: 'https://app.example/ok',
      cancelUrl: 'https://app.example/no',
      trialDays: 14,
    });
    expect(link.url).toMatch(/^https:\/\//);
    await billing.checkoutLink(scope(), {
      planId: 'pro',
      interval: 'month',
      successUrl: 'https://app.example/ok',
      cancelUrl: 'https://app.example/no',
    });
    expect(fake.customers.size).toBe(1);
    const session = fake.sessions.get(link.sessionId)!;
    expect(session).toMatchObject({ mode: 'subscription', client_reference_id: tenantId, subscription_data: { trial_period_days: '14' } });
  });

  it('upgrades with proration, cancels at period end and resumes, mirroring each step', async () => {
    const [session] = [...fake.sessions.values()];
    const sub = fake.completeCheckout(session!['id'] as string);
    sub['status'] = 'active';
    await mirrorSubscriptionObject(test.handle.db, sub);
    await billing.changePlan(scope(), { planId: 'enterprise', interval: 'month' }, { kind: 'staff', id: 'ceo' });
    expect(fake.subscriptions.get(sub['id'] as string)!['last_proration_behavior']).toBe('create_prorations');
    let [row] = await test.handle.db.select().from(db.subscriptions).where(eq(db.subscriptions.tenantId, tenantId));
    expect(row).toMatchObject({ planId: 'enterprise', amountCents: 49_990, cancelAtPeriodEnd: false });
    await billing.cancelAtPeriodEnd(scope(), { kind: 'trader' });
    [row] = await test.handle.db.select().from(db.subscriptions).where(eq(db.subscriptions.tenantId, tenantId));
    expect(row!.cancelAtPeriodEnd).toBe(true);
    await billing.resume(scope(), { kind: 'trader' });
    [row] = await test.handle.db.select().from(db.subscriptions).where(eq(db.subscriptions.tenantId, tenantId));
    expect(row!.cancelAtPeriodEnd).toBe(false);
    const changes = await test.handle.db
      .select()
      .from(db.subscriptionChanges)
      .where(eq(db.subscriptionChanges.tenantId, tenantId))
      .orderBy(db.subscriptionChanges.occurredAt);
    expect(changes.map((c) => [c.kind, c.mrrBeforeCents, c.mrrAfterCents])).toEqual([
      ['created', 0, 9_990],
      ['upgraded', 9_990, 49_990],
    ]);
    const audit = await queryRows<{ action: string }>(test.handle.db, sql`select action from audit_log order by id`);
    expect(audit.map((a) => a.action)).toEqual(['billing.change_plan', 'billing.cancel_at_period_end', 'billing.resume']);
  });

  it('says clearly what needs Stripe in local mode', async () => {
    const local = new BillingService(test.handle.db, undefined);
    expect(local.localMode).toBe(true);
    await expect(local.syncCatalog()).rejects.toBeInstanceOf(StripeNotConfiguredError);
    await expect(local.changePlan(scope(), { planId: 'pro', interval: 'month' }, { kind: 'trader' })).rejects.toThrow(
      /Changing plans needs Stripe: set STRIPE_SECRET_KEY/,
    );
    await local.ensurePlanRows(); // works without Stripe
    expect(await test.handle.db.$count(db.plans)).toBe(3);
  });
});
