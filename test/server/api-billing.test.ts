import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService, createStripeClient } from '../../billing/index.ts';
import { queryRows } from '../../db/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';
import { startFakeStripe } from '../support/fake-stripe.ts';

// POST /billing/checkout and /billing/portal (issue 16): the checkout_link and
// billing_portal_link tools as the signed-in trader, through the real Stripe SDK against a local
// Stripe stand-in; staff are refused; without Stripe the answer is 503 in the one error shape.

const CHECKOUT = { planId: 'pro', interval: 'year', successUrl: 'https://app.example/ok', cancelUrl: 'https://app.example/back' };

type Answer = { error?: { code: string; message: string } } & Record<string, unknown>;

describe.each(testDrivers)('billing links on %s', (driver) => {
  let stripe: Awaited<ReturnType<typeof startFakeStripe>>;
  let api: ApiFixture;
  let local: ApiFixture;
  let ceo: string;
  let traderA: string;
  let traderB: string;
  let traderC: { email: string; cookie: string };

  beforeAll(async () => {
    stripe = await startFakeStripe();
    const client = await createStripeClient({ secretKey: 'sk_test_local', apiUrl: stripe.url });
    let billing: BillingService | undefined;
    api = await apiFixture(driver, {
      traders: 4,
      billing: (db) => (billing = new BillingService(db, client)),
    });
    await billing!.syncCatalog();
    const [ceoSignIn, a, b, c] = api.signIns;
    // Traders A and B on the Free plan (their demo subscriptions end), C keeps theirs.
    for (const email of [a!.email, b!.email])
      await api.test.handle.db.execute(
        sql`update subscriptions set status = 'canceled' where tenant_id = (select tenant_id from users where email = ${email})`,
      );
    traderC = { email: c!.email, cookie: await api.signIn(c!.email, c!.password) };
    ceo = await api.signIn(ceoSignIn!.email, ceoSignIn!.password);
    traderA = await api.signIn(a!.email, a!.password);
    traderB = await api.signIn(b!.email, b!.password);
    local = await apiFixture('pglite', { traders: 2 });
  }, 180_000);
  afterAll(async () => {
    await api?.dispose();
    await local?.dispose();
    await stripe?.close();
  });

  const post = async (fixture: ApiFixture, path: string, cookie: string | undefined, body: unknown, key?: string) => {
    const response = await fixture.request(path, {
      method: 'POST',
      ...(cookie ? { cookie } : {}),
      body: JSON.stringify(body),
      ...(key ? { headers: { 'idempotency-key': key } } : {}),
    });
    return { status: response.status, replayed: response.headers.get('idempotent-replayed'), body: (await response.json()) as Answer };
  };
  const tenantOf = async (email: string) =>
    (await queryRows<{ tenant_id: string }>(api.test.handle.db, sql`select tenant_id from users where lower(email) = lower(${email})`))[0]!
      .tenant_id;

  it("answers a Checkout link for the trader's own account, for the plan and interval asked", async () => {
    const { status, body } = await post(api, '/api/v1/billing/checkout', traderA, CHECKOUT);
    expect(status).toBe(200);
    expect(body).toMatchObject({ url: expect.stringMatching(/^https:\/\/checkout\.example\//), planId: 'pro', interval: 'year' });
    const session = stripe.sessions.get(body['sessionId'] as string)!;
    const tenantA = await tenantOf(api.signIns[1]!.email);
    expect(session).toMatchObject({
      mode: 'subscription',
      client_reference_id: tenantA,
      success_url: CHECKOUT.successUrl,
      cancel_url: CHECKOUT.cancelUrl,
    });
    // The yearly Pro price, as synced.
    const price = stripe.prices.get((session['line_items'] as Record<string, { price: string }>)['0']!.price)!;
    expect(price).toMatchObject({ lookup_key: 'botcriptofy_pro_year' });
    // The Stripe customer is trader A's, linked to their tenant.
    const customer = stripe.customers.get(session['customer'] as string)!;
    expect(customer).toMatchObject({ email: api.signIns[1]!.email });
    const audited = await queryRows<{ actor_kind: string; outcome: string }>(
      api.test.handle.db,
      sql`select actor_kind::text, outcome::text from audit_log where tool = 'checkout_link'`,
    );
    expect(audited).toContainEqual({ actor_kind: 'trader', outcome: 'ok' });
  });

  it('gives the first link again for a repeated Idempotency-Key, and a new session without one', async () => {
    const before = stripe.sessions.size;
    const first = await post(api, '/api/v1/billing/checkout', traderB, CHECKOUT, 'checkout-b-1');
    expect(first.status).toBe(200);
    const again = await post(api, '/api/v1/billing/checkout', traderB, CHECKOUT, 'checkout-b-1');
    expect(again).toMatchObject({ status: 200, replayed: 'true' });
    expect(again.body).toEqual(first.body);
    expect(stripe.sessions.size).toBe(before + 1);
    // Another plan under the same key is another request: refused.
    const other = await post(api, '/api/v1/billing/checkout', traderB, { ...CHECKOUT, planId: 'enterprise' }, 'checkout-b-1');
    expect(other.status).toBe(422);
    expect(stripe.sessions.size).toBe(before + 1);
    const fresh = await post(api, '/api/v1/billing/checkout', traderB, CHECKOUT);
    expect(fresh.body['sessionId']).not.toBe(first.body['sessionId']);
    // Trader B's sessions are B's: their customer, their tenant, never A's.
    const tenantB = await tenantOf(api.signIns[2]!.email);
    for (const id of [first.body['sessionId'], fresh.body['sessionId']] as string[])
      expect(stripe.sessions.get(id)).toMatchObject({ client_reference_id: tenantB });
  });

  it('answers a customer portal link for the trader, returning to the page asked', async () => {
    const { status, body } = await post(api, '/api/v1/billing/portal', traderA, { returnUrl: 'https://app.example/account' });
    expect(status).toBe(200);
    expect(body['url']).toMatch(/^https:\/\/billing\.example\//);
    const session = stripe.portalSessions.get(body['sessionId'] as string)!;
    expect(session['return_url']).toBe('https://app.example/account');
    const customer = stripe.customers.get(session['customer'] as string)!;
    expect(customer['email']).toBe(api.signIns[1]!.email);
    const again = await post(api, '/api/v1/billing/portal', traderA, { returnUrl: 'https://app.example/account' }, 'portal-a');
    const replay = await post(api, '/api/v1/billing/portal', traderA, { returnUrl: 'https://app.example/account' }, 'portal-a');
    expect(replay).toMatchObject({ status: 200, replayed: 'true', body: again.body });
  });

  it('refuses staff (403), no session (401) and bad input (400 naming the field), calling Stripe for none', async () => {
    const calls = stripe.requests.length;
    const staff = await post(api, '/api/v1/billing/checkout', ceo, CHECKOUT);
    expect(staff.status).toBe(403);
    expect(staff.body.error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/^Only a trader can buy a plan/) });
    expect((await post(api, '/api/v1/billing/portal', ceo, { returnUrl: 'https://app.example/' })).status).toBe(403);
    expect((await post(api, '/api/v1/billing/checkout', undefined, CHECKOUT)).status).toBe(401);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...CHECKOUT, planId: 'free' }, /^Invalid body: planId: /],
      [{ ...CHECKOUT, interval: 'week' }, /^Invalid body: interval: /],
      [{ ...CHECKOUT, successUrl: 'javascript:alert(1)' }, /^Invalid body: successUrl: /],
      [{ ...CHECKOUT, extra: 1 }, /^Invalid body: /],
    ];
    for (const [body, message] of cases) {
      const answer = await post(api, '/api/v1/billing/checkout', traderA, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error?.message).toMatch(message);
    }
    expect((await post(api, '/api/v1/billing/portal', traderA, {})).status).toBe(400);
    expect(stripe.requests.length).toBe(calls);
  });

  it('refuses a checkout to a trader who already subscribes (409 naming the plan), before any session', async () => {
    const db = api.test.handle.db;
    const tenantC = await tenantOf(traderC.email);
    let [customer] = await queryRows<{ id: string }>(db, sql`select id from customers where tenant_id = ${tenantC}::uuid`);
    customer ??= (
      await queryRows<{ id: string }>(
        db,
        sql`insert into customers (tenant_id, email, name) values (${tenantC}::uuid, ${traderC.email}, 'C') returning id`,
      )
    )[0];
    const [current] = await queryRows<{ plan_id: string }>(
      db,
      sql`insert into subscriptions (tenant_id, customer_id, plan_id, interval, status, amount_cents, current_period_start, current_period_end, started_at)
          values (${tenantC}::uuid, ${customer!.id}::uuid, 'pro', 'month', 'active', 4990, now(), now() + interval '30 days', now())
          returning plan_id`,
    );
    expect(current!.plan_id).toBe('pro');
    const sessions = stripe.sessions.size;
    const answer = await post(api, '/api/v1/billing/checkout', traderC.cookie, { ...CHECKOUT, planId: 'enterprise' });
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/^This account already has the Pro plan \(active\); change or cancel it in the customer portal/),
    });
    expect(stripe.sessions.size).toBe(sessions);
    // The portal is where they go instead.
    expect((await post(api, '/api/v1/billing/portal', traderC.cookie, { returnUrl: 'https://app.example/' })).status).toBe(200);
  });

  it('answers 503 in one line when Stripe is not configured', async () => {
    const [, trader] = local.signIns;
    const cookie = await local.signIn(trader!.email, trader!.password);
    for (const [path, body] of [
      ['/api/v1/billing/checkout', CHECKOUT],
      ['/api/v1/billing/portal', { returnUrl: 'https://app.example/' }],
    ] as const) {
      const answer = await post(local, path, cookie, body);
      expect(answer.status, path).toBe(503);
      expect(answer.body.error).toMatchObject({
        code: 'unavailable',
        message: expect.stringMatching(/needs Stripe: set STRIPE_SECRET_KEY/),
      });
      expect(answer.body.error!.message).not.toContain('\n');
    }
  });
});
