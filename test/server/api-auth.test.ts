import { sql } from 'drizzle-orm';
import { verifyPassword } from 'better-auth/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccounts, SESSION_CACHE_MS } from '../../accounts/index.ts';
import { PLANS } from '../../billing/index.ts';
import { ManualClock } from '../../clock/index.ts';
import { queryRows } from '../../db/index.ts';
import { AGENT_NAMES } from '../../agents/index.ts';
import { TOOL_NAMES, TOOL_POLICY } from '../../tools/index.ts';
import { DEMO_HEAD_PASSWORD, DEMO_PASSWORD_HASHES, DEMO_STAFF_PASSWORD, DEMO_TRADER_PASSWORD } from '../../demo/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';

// Accounts and sign-in through the HTTP API (issue 16): Better-Auth on our users table, the
// demo's passwords, the session cookie, throttling and the security events every attempt leaves.

const SIGN_IN = '/api/v1/auth/sign-in/email';

describe('the demo passwords', () => {
  it('are the fixed hashes Better-Auth verifies', async () => {
    for (const password of [DEMO_STAFF_PASSWORD, DEMO_TRADER_PASSWORD, DEMO_HEAD_PASSWORD]) {
      const hash = DEMO_PASSWORD_HASHES[password];
      expect(hash).toBeDefined();
      expect(await verifyPassword({ hash: hash!, password })).toBe(true);
      expect(await verifyPassword({ hash: hash!, password: `${password}x` })).toBe(false);
    }
  });
});

describe.each(testDrivers)('sign-in on %s', (driver) => {
  let api: ApiFixture;
  const events = (type: string, ip: string) =>
    queryRows<{ type: string; user_id: string | null; ip: string; details: Record<string, unknown> }>(
      api.test.handle.db,
      sql`select type, user_id, ip, details from security_events where type = ${type} and ip = ${ip} order by occurred_at`,
    );

  beforeAll(async () => {
    api = await apiFixture(driver, { signInLimit: { window: 60, max: 4 } });
  });
  afterAll(async () => {
    await api?.dispose();
  });

  it('gives the demo CEO and three traders a password, printed by seed --demo', () => {
    expect(api.signIns.map((p) => p.who)).toEqual(['ceo', 'trader', 'trader', 'trader']);
    expect(api.signIns[0]!.password).toBe(DEMO_STAFF_PASSWORD);
  });

  it('signs in with the demo password: an HTTP-only cookie, then /me answers who it is, and a security event', async () => {
    const ceo = api.signIns[0]!;
    const response = await api.request(SIGN_IN, {
      method: 'POST',
      body: JSON.stringify({ email: ceo.email, password: ceo.password }),
      ip: '198.51.100.1',
    });
    expect(response.status).toBe(200);
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^botcriptofy\.session_token=/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).not.toMatch(/Secure/i); // loopback: plain http works in a browser
    const cookie = setCookie.split(';')[0]!;
    const me = await api.request('/api/v1/me', { cookie });
    expect(me.status).toBe(200);
    const body = (await me.json()) as { access: { tools: string[]; agents: string[]; decidesApprovals: boolean } };
    expect(body).toMatchObject({ kind: 'staff', email: ceo.email, name: ceo.name, department: 'ceo', role: 'ceo', plan: null });
    // What the permission code allows the person (the dashboard's menu shows only these): the CEO, everything.
    expect(body.access).toEqual({ tools: [...TOOL_NAMES], agents: [...AGENT_NAMES], decidesApprovals: true });
    const [event] = await events('login_succeeded', '198.51.100.1');
    expect(event).toMatchObject({ type: 'login_succeeded', details: { channel: 'api', status: 200 } });
    expect(event!.user_id).not.toBeNull();
  });

  it("accepts a browser's sign-in from a page of this server under any of its names, and refuses another site's", async () => {
    const trader = api.signIns[1]!;
    // Better-Auth checks the Origin when the request carries cookies, as a browser's would.
    let address = 60;
    const at = async (url: string, origin: string) => {
      const response = await api.app.request(url, {
        method: 'POST',
        headers: { origin, cookie: 'theme=dark', 'content-type': 'application/json', 'x-forwarded-for': `192.0.2.${address++}` },
        body: JSON.stringify({ email: trader.email, password: trader.password }),
      });
      return response.status === 200
        ? 200
        : `${response.status} ${((await response.json()) as { error: { message: string } }).error.message}`;
    };
    expect(await at(`http://127.0.0.1:3000${SIGN_IN}`, 'http://127.0.0.1:3000')).toBe(200);
    // The same server opened as localhost, or behind a proxy under its public name.
    expect(await at(`http://localhost:3000${SIGN_IN}`, 'http://localhost:3000')).toBe(200);
    expect(await at(`http://bots.example.com${SIGN_IN}`, 'https://bots.example.com')).toBe(200);
    expect(await at(`http://127.0.0.1:3000${SIGN_IN}`, 'https://evil.example')).toBe('403 Invalid origin');
    expect(await at(`http://127.0.0.1:3000${SIGN_IN}`, 'http://localhost:3000')).toBe('403 Invalid origin');
  });

  it('takes a program (curl: no Origin, no Referer, no Sec-Fetch-Site) as this server, but not a browser request without an Origin', async () => {
    const trader = api.signIns[2]!;
    const cookie = await api.signIn(trader.email, trader.password, '192.0.2.70');
    const signOut = (headers: Record<string, string>) =>
      api.app.request('http://127.0.0.1:3000/api/v1/auth/sign-out', {
        method: 'POST',
        headers: { cookie, 'x-forwarded-for': '192.0.2.71', ...headers },
      });
    const fromBrowser = await signOut({ 'sec-fetch-site': 'cross-site' });
    expect(fromBrowser.status).toBe(403);
    expect(((await fromBrowser.json()) as { error: { message: string } }).error.message).toBe('Missing or null Origin');
    expect((await api.request('/api/v1/me', { cookie })).status).toBe(200);
    expect((await signOut({})).status).toBe(200);
    expect((await api.request('/api/v1/me', { cookie })).status).toBe(401);
  });

  it('a trader signs in too, and /me names their plan', async () => {
    const trader = api.signIns[1]!;
    const cookie = await api.signIn(trader.email, trader.password, '198.51.100.2');
    const me = await api.request('/api/v1/me', { cookie });
    const body = (await me.json()) as { plan: string; access: { tools: string[]; agents: string[]; decidesApprovals: boolean } };
    expect(body).toMatchObject({ kind: 'trader', email: trader.email, department: null, role: null });
    expect(Object.keys(PLANS)).toContain(body.plan);
    // A trader: the tools open to traders, no agent to ask, no approvals.
    expect(body.access).toEqual({ tools: TOOL_NAMES.filter((tool) => TOOL_POLICY[tool]!.traders), agents: [], decidesApprovals: false });
  });

  it('refuses a wrong password with 401 in the API error shape, and records login_failed', async () => {
    const trader = api.signIns[2]!;
    const response = await api.request(SIGN_IN, {
      method: 'POST',
      body: JSON.stringify({ email: trader.email, password: 'not-the-password' }),
      ip: '198.51.100.3',
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.json()).toEqual({ error: { code: 'unauthorized', message: 'Invalid email or password' } });
    const failed = await events('login_failed', '198.51.100.3');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.user_id).not.toBeNull();
    // An unknown email gets the same answer; the event keeps what was typed.
    const unknown = await api.request(SIGN_IN, {
      method: 'POST',
      body: JSON.stringify({ email: 'nobody@example.com', password: 'whatever-it-is' }),
      ip: '198.51.100.3',
    });
    expect(unknown.status).toBe(401);
    const both = await events('login_failed', '198.51.100.3');
    expect(both[1]).toMatchObject({ user_id: null, details: { email: 'nobody@example.com' } });
  });

  it('names the field of a malformed sign-in (400)', async () => {
    const response = await api.request(SIGN_IN, {
      method: 'POST',
      body: JSON.stringify({ email: 'not-an-email', password: 'x' }),
      ip: '198.51.100.4',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; details: { field: string }[] } };
    expect(body.error.code).toBe('usage');
    expect(body.error.details.map((d) => d.field)).toEqual(['email']);
  });

  it('throttles sign-in per client address: 429 with Retry-After after the limit, recorded as login_throttled', async () => {
    const trader = api.signIns[3]!;
    const attempt = (ip: string, password = 'wrong-password') =>
      api.request(SIGN_IN, { method: 'POST', body: JSON.stringify({ email: trader.email, password }), ip });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await attempt('203.0.113.9')).status);
    expect(statuses).toEqual([401, 401, 401, 401]);
    const refused = await attempt('203.0.113.9', trader.password); // even the right password
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({
      error: {
        code: 'rate_limited',
        message: expect.stringMatching(/^Too many sign-in attempts from this address \(at most 4 in 60 s\); try again in \d+ s\.$/),
      },
    });
    expect(await events('login_throttled', '203.0.113.9')).toHaveLength(1);
    expect(await events('login_failed', '203.0.113.9')).toHaveLength(4);
    // Another address is not held back by this one's failures.
    expect((await attempt('203.0.113.10', trader.password)).status).toBe(200);
  });

  it('answers 401 without a cookie, with a forged one, and after sign-out', async () => {
    expect((await api.request('/api/v1/me')).status).toBe(401);
    expect((await api.request('/api/v1/me', { cookie: 'botcriptofy.session_token=forged.value' })).status).toBe(401);
    const trader = api.signIns[1]!;
    const cookie = await api.signIn(trader.email, trader.password, '198.51.100.5');
    expect((await api.request('/api/v1/me', { cookie })).status).toBe(200);
    const out = await api.request('/api/v1/auth/sign-out', { method: 'POST', cookie });
    expect(out.status).toBe(200);
    const after = await api.request('/api/v1/me', { cookie });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('gives a disabled person no session', async () => {
    const trader = api.signIns[2]!;
    await api.test.handle.db.execute(sql`update users set status = 'disabled' where lower(email) = lower(${trader.email})`);
    const response = await api.request(SIGN_IN, {
      method: 'POST',
      body: JSON.stringify({ email: trader.email, password: trader.password }),
      ip: '198.51.100.6',
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('set-cookie') ?? '').not.toMatch(/session_token=[^;]+/);
    await api.test.handle.db.execute(sql`update users set status = 'active' where lower(email) = lower(${trader.email})`);
  });
});

describe("GET /me's plan", () => {
  it('is read (and audited) once per checked session, and anew once the session is checked again', async () => {
    const clock = new ManualClock(Date.now());
    const api = await apiFixture('pglite', { traders: 3, clock });
    try {
      // A trader with a subscription, whose plan the test then changes.
      const subscribed = await queryRows<{ email: string; tenant_id: string }>(
        api.test.handle.db,
        sql`select u.email, u.tenant_id from users u join subscriptions s on s.tenant_id = u.tenant_id`,
      );
      const trader = api.signIns.find((person) => subscribed.some((row) => row.email.toLowerCase() === person.email.toLowerCase()))!;
      const tenantId = subscribed.find((row) => row.email.toLowerCase() === trader.email.toLowerCase())!.tenant_id;
      const cookie = await api.signIn(trader.email, trader.password, '198.51.100.9');
      const reads = async () =>
        (
          await queryRows<{ n: number }>(
            api.test.handle.db,
            sql`select count(*)::int as n from audit_log where tool = 'subscription_status' and tenant_id = ${tenantId}`,
          )
        )[0]!.n;
      const plan = async () => ((await (await api.request('/api/v1/me', { cookie })).json()) as { plan: string }).plan;

      const before = await reads();
      const first = await plan();
      expect(await plan()).toBe(first);
      expect(await reads()).toBe(before + 1);

      // The plan changes: /me says so once the session is checked again (at most SESSION_CACHE_MS later).
      const other = first === 'pro' ? 'enterprise' : 'pro';
      const changed = await queryRows<{ id: string }>(
        api.test.handle.db,
        sql`update subscriptions set plan_id = ${other} where tenant_id = ${tenantId} returning id`,
      );
      expect(changed.length).toBeGreaterThan(0);
      expect(await plan()).toBe(first);
      await clock.advance(SESSION_CACHE_MS + 1);
      expect(await plan()).toBe(other);
      expect(await reads()).toBe(before + 2);
    } finally {
      await api.dispose();
    }
  });
});

describe('session cookies off loopback', () => {
  it('are Secure', async () => {
    const api = await apiFixture('pglite', { traders: 3 });
    try {
      const accounts = createAccounts({ db: api.test.handle.db, secret: 'y'.repeat(64), baseURL: 'https://api.example.com' });
      const ceo = api.signIns[0]!;
      const response = await accounts.handle(
        new Request('https://api.example.com/api/v1/auth/sign-in/email', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: ceo.email, password: ceo.password }),
        }),
        '198.51.100.7',
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('set-cookie')).toMatch(/^__Secure-botcriptofy\.session_token=.*; Secure/i);
    } finally {
      await api.dispose();
    }
  });
});
