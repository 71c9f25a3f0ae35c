import { sql } from 'drizzle-orm';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../db/index.ts';
import { requestApproval } from '../../tools/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';

// The TOTP second factor through the HTTP API (issue 16): Better-Auth's two-factor plugin. A
// staff member who may decide approvals signs in without one, but deciding an approval through
// the API is refused until they enrol; once enrolled, sign-in asks for a code. Codes are made
// from the enrolment's secret with otpauth at a chosen instant (a stale one is refused).

interface ErrorBody {
  error: { code: string; message: string };
}

describe.each(testDrivers)('TOTP on %s', (driver) => {
  let api: ApiFixture;
  let ceoEmail: string;
  let ceoPassword: string;
  let ceo: string;
  let totp: OTPAuth.TOTP;
  let nextIp = 1;
  /** Better-Auth allows 3 two-factor requests per 10 s per address: each request its own address. */
  const freshIp = () => `203.0.113.${nextIp++}`;

  const call = async <T>(
    method: string,
    path: string,
    cookie: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await api.request(path, {
      method,
      headers,
      ip: freshIp(),
      ...(cookie ? { cookie } : {}),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T, setCookie: response.headers.getSetCookie() };
  };
  const cookieNamed = (setCookie: string[], name: string) =>
    setCookie.map((c) => c.split(';')[0]!).find((c) => c.startsWith(`${name}=`) && c.length > name.length + 1);
  const events = (type: string) =>
    queryRows<{ user_id: string | null; details: Record<string, unknown> }>(
      api.test.handle.db,
      sql`select user_id, details from security_events where type = ${type} order by occurred_at`,
    );
  const ceoId = async () =>
    (await queryRows<{ id: string }>(api.test.handle.db, sql`select id from users where lower(email) = lower(${ceoEmail})`))[0]!.id;

  /** A trader's new bot, turned live in the database (connecting an exchange key is not this test's subject). */
  async function liveBot(): Promise<{ id: string; owner: string }> {
    const trader = api.signIns[1]!;
    const traderCookie = await api.signIn(trader.email, trader.password, freshIp());
    const created = await call<{ bot: { id: string } }>('POST', '/api/v1/bots', traderCookie, {
      name: `Live ${nextIp}`,
      strategy: 'rsi',
      symbols: ['BTC/USDT'],
      timeframe: '1h',
      stakeQuote: 250,
    });
    await api.test.handle.db.execute(sql`update bots set mode = 'live' where id = ${created.body.bot.id}`);
    return { id: created.body.bot.id, owner: trader.email };
  }
  /** A pending start_bot approval (Security decides) the CEO asked for, confirming a trader's live bot. */
  async function pendingApproval(): Promise<string> {
    const bot = await liveBot();
    const asked = await call<{ pendingApproval: { id: string } }>('POST', `/api/v1/bots/${bot.id}/start`, ceo, {
      confirmLive: true,
    });
    expect(asked.status).toBe(202);
    return asked.body.pendingApproval.id;
  }
  /** The same approval asked for by an agent (the security agent's incident workflow, say), not by the CEO. */
  async function approvalAskedByAnAgent(): Promise<string> {
    const bot = await liveBot();
    const [row] = await queryRows<{ tenant_id: string }>(api.test.handle.db, sql`select tenant_id from bots where id = ${bot.id}`);
    return requestApproval(api.test.handle.db, {
      tenantId: row!.tenant_id,
      requestedByUserId: null,
      agent: 'security',
      tool: 'start_bot',
      args: { botId: bot.id, email: bot.owner },
      summary: `Start bot ${bot.id} in LIVE mode (real money)`,
      approverDepartment: 'security',
      expiresAt: new Date(Date.now() + 3_600_000),
    });
  }
  const approvalStatus = async (id: string) =>
    (await queryRows<{ status: string }>(api.test.handle.db, sql`select status::text from approvals where id = ${id}`))[0]!.status;

  beforeAll(async () => {
    api = await apiFixture(driver);
    ceoEmail = api.signIns[0]!.email;
    ceoPassword = api.signIns[0]!.password;
    ceo = await api.signIn(ceoEmail, ceoPassword, freshIp());
  });
  afterAll(async () => {
    await api?.dispose();
  });

  it('a staff approver without TOTP signs in, but deciding an approval through the API is refused (403) until enrolled', async () => {
    const me = await call<{ role: string; twoFactorEnabled: boolean }>('GET', '/api/v1/me', ceo);
    expect(me.body).toMatchObject({ role: 'ceo', twoFactorEnabled: false });
    const id = await pendingApproval();
    for (const decision of ['approve', 'reject']) {
      const refused = await call<ErrorBody>('POST', `/api/v1/approvals/${id}/${decision}`, ceo, {});
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('forbidden');
      expect(refused.body.error.message).toContain('Deciding approvals needs a TOTP second factor: enrol one first');
    }
    expect(await approvalStatus(id)).toBe('pending');
  });

  it('enrols: /two-factor/enable answers the secret, a wrong or stale code is refused, the right one turns it on (totp_enrolled)', async () => {
    const wrongPassword = await call<ErrorBody>('POST', '/api/v1/auth/two-factor/enable', ceo, { password: 'not-the-password' });
    expect(wrongPassword.status).toBe(400);
    const enabled = await call<{ totpURI: string; backupCodes: string[] }>('POST', '/api/v1/auth/two-factor/enable', ceo, {
      password: ceoPassword,
    });
    expect(enabled.status).toBe(200);
    expect(enabled.body.backupCodes.length).toBeGreaterThan(0);
    totp = OTPAuth.URI.parse(enabled.body.totpURI) as OTPAuth.TOTP;
    expect(totp.issuer).toBe('BotCriptoFy');
    expect(totp.label).toBe(ceoEmail);
    expect((await call<{ twoFactorEnabled: boolean }>('GET', '/api/v1/me', ceo)).body.twoFactorEnabled).toBe(false);

    const now = Date.now();
    const stale = totp.generate({ timestamp: now - 10 * 60_000 });
    const wrong = String((Number(totp.generate({ timestamp: now })) + 1) % 1_000_000).padStart(6, '0');
    for (const code of [stale, wrong]) {
      if (code === totp.generate({ timestamp: now })) continue; // a stale code that happens to match today's is no test
      const refused = await call<ErrorBody>('POST', '/api/v1/auth/two-factor/verify-totp', ceo, { code });
      expect(refused.status).toBe(401);
    }
    const malformed = await call<ErrorBody>('POST', '/api/v1/auth/two-factor/verify-totp', ceo, { code: '12ab' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toContain('code');

    const verified = await call<{ token: string }>('POST', '/api/v1/auth/two-factor/verify-totp', ceo, {
      code: totp.generate({ timestamp: now }),
    });
    expect(verified.status).toBe(200);
    // The enrolment replaces the session: the old cookie is over, the new one knows the factor.
    const renewed = cookieNamed(verified.setCookie, 'botcriptofy.session_token');
    expect(renewed).toBeDefined();
    expect((await call('GET', '/api/v1/me', ceo)).status).toBe(401);
    ceo = renewed!;
    expect((await call<{ twoFactorEnabled: boolean }>('GET', '/api/v1/me', ceo)).body.twoFactorEnabled).toBe(true);

    const id = await ceoId();
    expect((await events('totp_enrolment_started')).map((e) => e.user_id)).toEqual([id]);
    expect((await events('totp_enrolment_failed')).length).toBeGreaterThanOrEqual(2);
    expect((await events('totp_enrolled')).map((e) => e.user_id)).toEqual([id]);
  });

  it('enrolled, the approver decides through the API with the session, never with an API key', async () => {
    const rejected = await pendingApproval();
    const answer = await call<{ approvalId: string; status: string }>('POST', `/api/v1/approvals/${rejected}/reject`, ceo, {
      note: 'not now',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ approvalId: rejected, status: 'rejected', message: null });
    expect(await approvalStatus(rejected)).toBe('rejected');
    const twice = await call<ErrorBody>('POST', `/api/v1/approvals/${rejected}/reject`, ceo, {});
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toBe('This approval is already rejected.');

    // Four-eyes: what the CEO asked for, someone else approves (403, still pending).
    const own = await pendingApproval();
    const ownApproval = await call<ErrorBody>('POST', `/api/v1/approvals/${own}/approve`, ceo, {});
    expect(ownApproval.status).toBe(403);
    expect(ownApproval.body.error.message).toContain('four-eyes');
    expect(await approvalStatus(own)).toBe('pending');

    const key = await call<{ key: string }>('POST', '/api/v1/keys', ceo, { name: 'ops', scope: 'read_write' });
    const approved = await approvalAskedByAnAgent();
    const byKey = await call<ErrorBody>(
      'POST',
      `/api/v1/approvals/${approved}/approve`,
      undefined,
      {},
      { authorization: `Bearer ${key.body.key}` },
    );
    expect(byKey.status).toBe(403);
    expect(byKey.body.error.message).toBe('Deciding an approval needs a signed-in session, not an API key.');
    expect(await approvalStatus(approved)).toBe('pending');
    const done = await call<{ status: string }>('POST', `/api/v1/approvals/${approved}/approve`, ceo, {});
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ approvalId: approved, status: 'executed', message: null });
    expect(await approvalStatus(approved)).toBe('executed');
    expect((await call('POST', `/api/v1/approvals/${crypto.randomUUID()}/approve`, ceo, {})).status).toBe(404);
  });

  it('once enrolled, sign-in asks for the code: no session until /verify-totp accepts it; a wrong code is login_failed', async () => {
    const first = await call<{ twoFactorRedirect: boolean; twoFactorMethods: string[] }>('POST', '/api/v1/auth/sign-in/email', undefined, {
      email: ceoEmail,
      password: ceoPassword,
    });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ twoFactorRedirect: true, twoFactorMethods: ['totp'] });
    expect(cookieNamed(first.setCookie, 'botcriptofy.session_token')).toBeUndefined();
    const challenge = cookieNamed(first.setCookie, 'botcriptofy.two_factor');
    expect(challenge).toBeDefined();
    expect((await call('GET', '/api/v1/me', challenge)).status).toBe(401);

    const now = Date.now();
    const wrong = String((Number(totp.generate({ timestamp: now })) + 1) % 1_000_000).padStart(6, '0');
    const refused = await call<ErrorBody>('POST', '/api/v1/auth/two-factor/verify-totp', challenge, { code: wrong });
    expect(refused.status).toBe(401);
    const right = await call('POST', '/api/v1/auth/two-factor/verify-totp', challenge, { code: totp.generate({ timestamp: now }) });
    expect(right.status).toBe(200);
    const session = cookieNamed(right.setCookie, 'botcriptofy.session_token');
    expect((await call<{ email: string }>('GET', '/api/v1/me', session)).body.email).toBe(ceoEmail);

    const id = await ceoId();
    expect((await events('login_second_factor_required')).map((e) => e.user_id)).toContain(id);
    const failed = (await events('login_failed')).filter((e) => e.details['factor'] === 'totp');
    expect(failed.map((e) => e.user_id)).toEqual([id]);
    const succeeded = (await events('login_succeeded')).filter((e) => e.details['factor'] === 'totp');
    expect(succeeded.map((e) => e.user_id)).toEqual([id]);
  });

  it('turning TOTP off (totp_disabled) refuses approvals again', async () => {
    const off = await call<{ status: boolean }>('POST', '/api/v1/auth/two-factor/disable', ceo, { password: ceoPassword });
    expect(off.status).toBe(200);
    ceo = cookieNamed(off.setCookie, 'botcriptofy.session_token')!;
    expect((await call<{ twoFactorEnabled: boolean }>('GET', '/api/v1/me', ceo)).body.twoFactorEnabled).toBe(false);
    expect((await events('totp_disabled')).map((e) => e.user_id)).toEqual([await ceoId()]);
    const id = await pendingApproval();
    expect((await call('POST', `/api/v1/approvals/${id}/approve`, ceo, {})).status).toBe(403);
  });
});
