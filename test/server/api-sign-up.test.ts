import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../audit/index.ts';
import { queryRows } from '../../db/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';

// A trader creates their own account through the API (issue 16's "a trader can sign up"):
// POST /auth/sign-up/email makes them the one person of a new trader tenant on the Free plan,
// signed in at once; refused when the server keeps sign-up closed, for a taken email, a short
// password, and past the per-address limit; every attempt a security event.

const SIGN_UP = '/api/v1/auth/sign-up/email';
const PASSWORD = 'correct horse battery';

describe.each(testDrivers)('sign-up on %s', (driver) => {
  let api: ApiFixture;
  const count = async (query: ReturnType<typeof sql>) => (await queryRows<{ n: number }>(api.test.handle.db, query))[0]!.n;
  const tenants = () => count(sql`select count(*)::int as n from tenants`);
  const events = (type: string, ip: string) =>
    queryRows<{ user_id: string | null; details: Record<string, unknown> }>(
      api.test.handle.db,
      sql`select user_id, details from security_events where type = ${type} and ip = ${ip}`,
    );
  const signUp = (body: Record<string, unknown>, ip: string) => api.request(SIGN_UP, { method: 'POST', body: JSON.stringify(body), ip });

  beforeAll(async () => {
    api = await apiFixture(driver, { traders: 3, signUp: true, signInLimit: { window: 60, max: 3 } });
  });
  afterAll(async () => {
    await api?.dispose();
  });

  it('makes a new trader tenant with the person in it, on the Free plan, signed in at once', async () => {
    const [company] = await queryRows<{ id: string }>(api.test.handle.db, sql`select id from tenants where kind = 'company'`);
    const before = await tenants();
    // A tenant id in the body is no input: the person still gets a tenant of their own.
    const response = await signUp(
      { name: 'Maria Souza', email: 'Maria.Souza@example.com', password: PASSWORD, tenantId: company!.id },
      '198.51.100.20',
    );
    expect(response.status).toBe(200);
    const cookie = response.headers.get('set-cookie')?.split(';')[0];
    expect(cookie).toMatch(/^botcriptofy\.session_token=/);
    const body = (await response.json()) as { user: { id: string; email: string; name: string } };
    expect(body.user).toMatchObject({ email: 'maria.souza@example.com', name: 'Maria Souza' });

    const me = (await (await api.request('/api/v1/me', { cookie: cookie! })).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ kind: 'trader', userId: body.user.id, name: 'Maria Souza', plan: 'free', department: null });
    expect(await tenants()).toBe(before + 1);
    const [tenant] = await queryRows<{ id: string; kind: string; name: string; people: number }>(
      api.test.handle.db,
      sql`select t.id, t.kind, t.name, (select count(*)::int from users where tenant_id = t.id) as people
            from tenants t join users u on u.tenant_id = t.id where u.id = ${body.user.id}`,
    );
    expect(tenant).toMatchObject({ kind: 'trader', name: 'Maria Souza', people: 1 });
    expect(tenant!.id).not.toBe(company!.id);

    // Recorded: a security event and an audit row in the chain, which still verifies.
    expect(await events('account_created', '198.51.100.20')).toEqual([expect.objectContaining({ user_id: body.user.id })]);
    expect(
      await count(
        sql`select count(*)::int as n from audit_log where action = 'account.sign_up' and actor_id = ${body.user.id} and tenant_id = ${tenant!.id}`,
      ),
    ).toBe(1);
    expect((await verifyAuditChain(api.test.handle.db)).ok).toBe(true);

    // Their own, empty account: no bot or trade of anyone else's; the plan read now says Free.
    const bots = (await (await api.request('/api/v1/bots', { cookie: cookie! })).json()) as { bots: unknown[] };
    expect(bots.bots).toEqual([]);
    const plan = (await (await api.request('/api/v1/plan', { cookie: cookie! })).json()) as { subscription: { plan: string } };
    expect(plan.subscription.plan).toBe('free');
    const created = await api.request('/api/v1/bots', {
      method: 'POST',
      cookie: cookie!,
      body: JSON.stringify({ name: 'first bot', strategy: 'rsi', symbols: ['BTC/USDT'], stakeQuote: 100 }),
    });
    expect(created.status).toBe(201);

    // The password signs them in again later.
    expect(await api.signIn('maria.souza@example.com', PASSWORD, '198.51.100.21')).toMatch(/^botcriptofy\.session_token=/);
  });

  it('keeps the language a sign-up names as chosen (the person and their tenant), and refuses one that is not ours', async () => {
    const response = await signUp(
      { name: 'John Smith', email: 'john.smith@example.com', password: PASSWORD, locale: 'en' },
      '198.51.100.25',
    );
    expect(response.status).toBe(200);
    const { user } = (await response.json()) as { user: { id: string } };
    const [row] = await queryRows<{ locale: string; chosen: boolean; tenant_locale: string }>(
      api.test.handle.db,
      sql`select u.locale::text as locale, u.locale_chosen_at is not null as chosen, t.locale::text as tenant_locale
            from users u join tenants t on t.id = u.tenant_id where u.id = ${user.id}`,
    );
    expect(row).toEqual({ locale: 'en', chosen: true, tenant_locale: 'en' });
    // Without one: Portuguese, as a guess (not chosen), like the demo's people.
    const [first] = await queryRows<{ locale: string; chosen: boolean }>(
      api.test.handle.db,
      sql`select locale::text as locale, locale_chosen_at is not null as chosen from users where email = 'maria.souza@example.com'`,
    );
    expect(first).toEqual({ locale: 'pt-BR', chosen: false });
    const foreign = await signUp({ name: 'Hans', email: 'hans@example.com', password: PASSWORD, locale: 'de' }, '198.51.100.25');
    expect(foreign.status).toBe(400);
    expect(JSON.stringify(await foreign.json())).toMatch(/locale/);
  });

  it('refuses an email already taken (whatever its case) with 409, and makes no tenant', async () => {
    const existing = api.signIns[1]!;
    const before = await tenants();
    const response = await signUp({ name: 'Someone', email: existing.email.toUpperCase(), password: PASSWORD }, '198.51.100.22');
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('conflict');
    expect(await tenants()).toBe(before);
    expect(await events('sign_up_refused', '198.51.100.22')).toHaveLength(1);
  });

  it('refuses a short password or no name with 400 naming the field', async () => {
    const before = await tenants();
    const short = await signUp({ name: 'Ana', email: 'ana.short@example.com', password: 'short' }, '198.51.100.23');
    expect(short.status).toBe(400);
    expect(JSON.stringify(await short.json())).toMatch(/password/);
    const nameless = await signUp({ name: '  ', email: 'ana.nameless@example.com', password: PASSWORD }, '198.51.100.23');
    expect(nameless.status).toBe(400);
    expect(JSON.stringify(await nameless.json())).toMatch(/name/);
    expect(await tenants()).toBe(before);
  });

  it('throttles sign-ups per address (429 with Retry-After), recorded as sign_up_throttled', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const response = await signUp({ name: `Burst ${i}`, email: `burst.${i}@example.com`, password: PASSWORD }, '198.51.100.24');
      statuses.push(response.status);
      if (response.status === 429) {
        retryAfter = response.headers.get('retry-after');
        expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
          /^Too many sign-ups from this address \(at most 3 in 60 s\); try again in \d+ s\.$/,
        );
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(await events('sign_up_throttled', '198.51.100.24')).toHaveLength(1);
    expect(await count(sql`select count(*)::int as n from users where email = 'burst.3@example.com'`)).toBe(0);
  });
});

describe('sign-up closed', () => {
  it('answers 403 and creates nothing (the default: accounts come from the company)', async () => {
    const api = await apiFixture('pglite', { traders: 3 });
    try {
      const before = (await queryRows<{ n: number }>(api.test.handle.db, sql`select count(*)::int as n from tenants`))[0]!.n;
      const response = await api.request(SIGN_UP, {
        method: 'POST',
        body: JSON.stringify({ name: 'Maria Souza', email: 'maria@example.com', password: PASSWORD }),
        ip: '198.51.100.30',
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/AUTH_SIGN_UP=closed/);
      // Better-Auth's own sign-up stays off too (the route above is the only way in).
      const direct = await api.accounts.handle(
        new Request(`http://127.0.0.1:3000${SIGN_UP}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: 'http://127.0.0.1:3000' },
          body: JSON.stringify({ name: 'Maria Souza', email: 'maria@example.com', password: PASSWORD }),
        }),
        '198.51.100.30',
      );
      expect(direct.ok).toBe(false);
      expect((await queryRows<{ n: number }>(api.test.handle.db, sql`select count(*)::int as n from tenants`))[0]!.n).toBe(before);
    } finally {
      await api.dispose();
    }
  });
});
