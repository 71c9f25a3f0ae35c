import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_CACHE_MS, setPassword } from '../../accounts/index.ts';
import { verifyAuditChain } from '../../audit/index.ts';
import { BillingService } from '../../billing/index.ts';
import { listStaff, queryRows } from '../../db/index.ts';
import { exportTableObjects, type ExportTable } from '../../privacy/index.ts';
import { actorForEmail, decideApproval, invokeTool, TOOLS } from '../../tools/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';

// POST /privacy/export and /privacy/erase (issue 18 over the API): the privacy_export and
// privacy_erase tools as the signed-in person. A trader gets their own data; another person's only
// Security, Documents and the CEO; erasing oneself waits for the Security head or the CEO (202).

type Answer = { error?: { code: string; message: string } } & Record<string, unknown>;
interface ExportAnswer {
  email: string;
  summary: string;
  counts: Record<string, number>;
  document: { format: string; data: Record<string, ExportTable> };
}

describe.each(testDrivers)('privacy routes on %s', (driver) => {
  let api: ApiFixture;
  let ceo: string;
  let traderA: string;
  let traderB: string;
  let security: string;
  let marketing: string;
  const emails: Record<'a' | 'b' | 'c' | 'ceo' | 'security' | 'marketing', string> = {} as never;
  /** How far the accounts' clock is ahead of the system's (a session checked lately is trusted for SESSION_CACHE_MS). */
  let accountsClockAheadMs = 0;

  beforeAll(async () => {
    api = await apiFixture(driver, { traders: 8, clock: { now: () => Date.now() + accountsClockAheadMs } });
    const [ceoSignIn, a, b, c] = api.signIns;
    emails.ceo = ceoSignIn!.email;
    emails.a = a!.email;
    emails.b = b!.email;
    emails.c = c!.email;
    ceo = await api.signIn(ceoSignIn!.email, ceoSignIn!.password);
    traderA = await api.signIn(a!.email, a!.password);
    traderB = await api.signIn(b!.email, b!.password);
    const staff = await listStaff(api.test.handle.db);
    const signInStaff = async (department: string, role: string) => {
      const member = staff.find((m) => m.department === department && m.role === role)!;
      await setPassword(api.test.handle.db, member.userId, `${department}-password-1`);
      return { email: member.email, cookie: await api.signIn(member.email, `${department}-password-1`) };
    };
    ({ email: emails.security, cookie: security } = await signInStaff('security', 'head'));
    ({ email: emails.marketing, cookie: marketing } = await signInStaff('marketing', 'member'));
  }, 180_000);
  afterAll(async () => {
    await api?.dispose();
  });

  const post = async (path: string, cookie: string | undefined, body?: unknown, key?: string) => {
    const response = await api.request(path, {
      method: 'POST',
      ...(cookie ? { cookie } : {}),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(key ? { headers: { 'idempotency-key': key } } : {}),
    });
    return { status: response.status, replayed: response.headers.get('idempotent-replayed'), body: (await response.json()) as Answer };
  };
  const userExists = async (email: string) =>
    (await queryRows(api.test.handle.db, sql`select 1 from users where lower(email) = lower(${email})`)).length === 1;
  const tenantOf = async (email: string) =>
    (await queryRows<{ tenant_id: string }>(api.test.handle.db, sql`select tenant_id from users where lower(email) = lower(${email})`))[0]!
      .tenant_id;

  it("gives a trader their own data (no email needed), and nothing of another trader's", async () => {
    const { status, body } = await post('/api/v1/privacy/export', traderA);
    expect(status).toBe(200);
    const exported = body as unknown as ExportAnswer;
    expect(exported.email).toBe(emails.a.toLowerCase());
    expect(exported.document.format).toBe('botcriptofy.person-export/2');
    expect(exportTableObjects(exported.document.data['users']!)).toEqual([expect.objectContaining({ email: emails.a })]);
    expect(exported.counts['bots']).toBeGreaterThan(0);
    // Every row with a tenant is trader A's; trader B appears nowhere.
    const tenantA = await tenantOf(emails.a);
    const tenants = Object.values(exported.document.data)
      .flatMap(exportTableObjects)
      .flatMap((row) => (typeof row['tenant_id'] === 'string' ? [row['tenant_id']] : []));
    expect(tenants.length).toBeGreaterThan(10);
    expect(new Set(tenants)).toEqual(new Set([tenantA]));
    expect(JSON.stringify(body).toLowerCase()).not.toContain(emails.b.toLowerCase());
    // Naming oneself is the same request.
    expect((await post('/api/v1/privacy/export', traderA, { email: emails.a })).status).toBe(200);
    // An export is never kept for replays: with an Idempotency-Key it runs again, and no answer is stored.
    const keyed = await post('/api/v1/privacy/export', traderA, undefined, 'export-1');
    const again = await post('/api/v1/privacy/export', traderA, undefined, 'export-1');
    expect([keyed.status, again.status, again.replayed]).toEqual([200, 200, null]);
    const kept = await queryRows(api.test.handle.db, sql`select 1 from idempotency_keys where key = 'export-1'`);
    expect(kept).toHaveLength(0);
  });

  it("refuses a trader another person's data (403, nothing of theirs), and staff outside Security and Documents", async () => {
    const refused = await post('/api/v1/privacy/export', traderA, { email: emails.b });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/A trader may ask only for their own data/),
    });
    expect(refused.body['document']).toBeUndefined();
    const byMarketing = await post('/api/v1/privacy/export', marketing, { email: emails.b });
    expect(byMarketing.status).toBe(403);
    // Staff outside Security and Documents ask them, even for their own (the tools stay theirs, and so do their agents).
    const own = await post('/api/v1/privacy/export', marketing);
    expect(own.status).toBe(403);
    expect(own.body.error?.message).toMatch(/marketing department may not use privacy_export/);
    const audited = await queryRows<{ outcome: string; n: number }>(
      api.test.handle.db,
      sql`select outcome::text, count(*)::int as n from audit_log where tool = 'privacy_export' group by outcome order by outcome`,
    );
    expect(audited.find((r) => r.outcome === 'denied')?.n).toBeGreaterThanOrEqual(2);
  });

  it("lets the Security head and the CEO export another person's data by email; unknown email 404, bad 400, no session 401", async () => {
    for (const cookie of [security, ceo]) {
      const { status, body } = await post('/api/v1/privacy/export', cookie, { email: emails.b });
      expect(status).toBe(200);
      expect(body['email']).toBe(emails.b.toLowerCase());
    }
    const unknown = await post('/api/v1/privacy/export', security, { email: 'nobody@example.com' });
    expect(unknown.status).toBe(404);
    const bad = await post('/api/v1/privacy/export', security, { email: 'not-an-email' });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/^Invalid body: email: /);
    expect((await post('/api/v1/privacy/export', security, { email: emails.b, extra: 1 })).status).toBe(400);
    expect((await post('/api/v1/privacy/export', undefined)).status).toBe(401);
    expect((await post('/api/v1/privacy/erase', undefined)).status).toBe(401);
  });

  it('hands an export asked through an agent and approved to the person who asked, and only to them (GET /privacy/exports/{id})', async () => {
    const db = api.test.handle.db;
    const billing = new BillingService(db, undefined);
    const asker = (await actorForEmail(db, emails.security))!;
    const asked = await invokeTool(TOOLS, { db, actor: asker, agent: 'security', billing, now: () => new Date() }, 'privacy_export', {
      email: emails.b,
    });
    const approvalId = (asked as { pendingApproval: { id: string } }).pendingApproval.id;
    const get = (cookie: string | undefined, id = approvalId) => api.request(`/api/v1/privacy/exports/${id}`, cookie ? { cookie } : {});
    expect((await get(security)).status).toBe(404); // not made yet: pending
    const decider = (await actorForEmail(db, emails.ceo))!;
    expect(await decideApproval(TOOLS, { db, billing, now: () => new Date() }, decider, approvalId, 'approve')).toMatchObject({
      decided: true,
      status: 'executed',
    });
    const response = await get(security);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await response.text();
    expect(response.headers.get('x-content-sha256')).toBe(crypto.createHash('sha256').update(text).digest('hex'));
    const document = JSON.parse(text) as { format: string; subject: { email: string }; data: Record<string, ExportTable> };
    expect(document.format).toBe('botcriptofy.person-export/2');
    expect(document.subject.email).toBe(emails.b.toLowerCase());
    expect(exportTableObjects(document.data['users']!)).toEqual([expect.objectContaining({ email: emails.b })]);
    // The CEO approved it, but did not ask for it: 403; no such export 404; no session 401; a bad id 400.
    expect((await get(ceo)).status).toBe(403);
    expect((await get(traderB)).status).toBe(403);
    expect((await get(security, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await get(undefined)).status).toBe(401);
    expect((await get(security, 'not-an-id')).status).toBe(400);
  });

  it("refuses erasing another person's data to a trader and to marketing (403), erasing nothing", async () => {
    expect((await post('/api/v1/privacy/erase', traderB, { email: emails.a })).status).toBe(403);
    expect((await post('/api/v1/privacy/erase', marketing, { email: emails.a })).status).toBe(403);
    expect(await userExists(emails.a)).toBe(true);
    const approvals = await queryRows(api.test.handle.db, sql`select 1 from approvals where tool = 'privacy_erase'`);
    expect(approvals).toHaveLength(0);
  });

  it('turns a trader erasing themselves into an approval (202, once per Idempotency-Key); approved, they are erased and signed out', async () => {
    const first = await post('/api/v1/privacy/erase', traderA, undefined, 'erase-me');
    expect(first.status).toBe(202);
    const pending = first.body['pendingApproval'] as { id: string; approverDepartment: string };
    expect(pending.approverDepartment).toBe('security');
    const again = await post('/api/v1/privacy/erase', traderA, undefined, 'erase-me');
    expect(again).toMatchObject({ status: 202, replayed: 'true', body: first.body });
    const rows = await queryRows<{ id: string; status: string }>(
      api.test.handle.db,
      sql`select id, status::text from approvals where tool = 'privacy_erase'`,
    );
    expect(rows).toEqual([{ id: pending.id, status: 'pending' }]);
    expect(await userExists(emails.a)).toBe(true);

    const db = api.test.handle.db;
    const decider = (await actorForEmail(db, emails.ceo))!;
    const decision = await decideApproval(
      TOOLS,
      { db, billing: new BillingService(db, undefined), now: () => new Date() },
      decider,
      pending.id,
      'approve',
    );
    expect(decision).toMatchObject({ decided: true, status: 'executed' });
    expect(await userExists(emails.a)).toBe(false);
    // Their session ended with the erasure; decided outside this API process (as on Telegram),
    // it shows here once the session this process checked lately is checked again.
    accountsClockAheadMs += SESSION_CACHE_MS;
    expect((await post('/api/v1/privacy/export', traderA)).status).toBe(401);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('lets the Security head erase another person by email at once (200), keeping what law requires', async () => {
    const tenantC = await tenantOf(emails.c);
    const trades = async () =>
      Number(
        (
          await queryRows<{ n: number }>(api.test.handle.db, sql`select count(*)::int as n from trades where tenant_id = ${tenantC}::uuid`)
        )[0]!.n,
      );
    const tradesBefore = await trades();
    const { status, body } = await post('/api/v1/privacy/erase', security, { email: emails.c });
    expect(status).toBe(200);
    expect(body).toMatchObject({ pseudonymEmail: expect.stringMatching(/@erased\.invalid$/), auditId: expect.any(Number) });
    expect(JSON.stringify(body).toLowerCase()).not.toContain(emails.c.toLowerCase());
    expect(await userExists(emails.c)).toBe(false);
    expect(await trades()).toBe(tradesBefore);
    // Asked again, the email names no one: nothing held, and the request leaves no copy of it (personFound false).
    const again = await post('/api/v1/privacy/erase', security, { email: emails.c });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ personFound: false });
    // Trader B was never touched.
    expect(await userExists(emails.b)).toBe(true);
  });
});
