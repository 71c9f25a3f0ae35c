import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';

// GET/POST /api/v1/consents (issue 18 over the API): each person's own answers to the texts as
// published now — the terms of use (document termos-de-uso) and marketing messages (the privacy
// policy) — through the consent_status and record_consent tools. Publishing a new version of the
// terms asks again; nobody records another person's consent.

interface Consents {
  current: { kind: string; version: string; granted: boolean; source: string }[];
  history: unknown[];
  texts: { kind: string; slug: string; version: string }[];
  termsRequired: boolean;
  unanswered: string[];
}

describe.each(testDrivers)('consents over the API on %s', (driver) => {
  let api: ApiFixture;
  let trader: string;
  let other: string;
  let ceo: string;

  beforeAll(async () => {
    api = await apiFixture(driver, { traders: 8 });
    const [ceoSignIn, a, b] = api.signIns;
    ceo = await api.signIn(ceoSignIn!.email, ceoSignIn!.password);
    trader = await api.signIn(a!.email, a!.password);
    other = await api.signIn(b!.email, b!.password);
    // A clean slate for the two people the test asks (the demo may have recorded answers).
    for (const email of [a!.email, ceoSignIn!.email])
      await api.test.handle.db.execute(sql`delete from consents where user_id = (select id from users where email = ${email})`);
  }, 180_000);
  afterAll(async () => {
    await api?.dispose();
  });

  const call = async <T>(method: 'GET' | 'POST', cookie: string | undefined, body?: unknown) => {
    const response = await api.request('/api/v1/consents', {
      method,
      ...(cookie ? { cookie } : {}),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };

  it('asks for the terms as published until the person agrees, and records the answer with its version', async () => {
    const before = await call<Consents>('GET', trader);
    expect(before.status).toBe(200);
    expect(before.body.texts.map((t) => [t.kind, t.slug])).toEqual([
      ['terms', 'termos-de-uso'],
      ['marketing', 'politica-de-privacidade'],
    ]);
    expect(before.body).toMatchObject({ termsRequired: true, unanswered: ['terms', 'marketing'], current: [] });

    const agreed = await call<{ kind: string; version: string; granted: boolean; source: string }>('POST', trader, {
      kind: 'terms',
      granted: true,
    });
    expect(agreed.status).toBe(201);
    const termsVersion = before.body.texts.find((t) => t.kind === 'terms')!.version;
    expect(agreed.body).toMatchObject({ kind: 'terms', version: termsVersion, granted: true, source: 'api' });
    expect((await call<{ kind: string }>('POST', trader, { kind: 'marketing', granted: false })).status).toBe(201);

    const after = await call<Consents>('GET', trader);
    expect(after.body).toMatchObject({ termsRequired: false, unanswered: [] });
    expect(after.body.current.map((c) => [c.kind, c.granted])).toEqual([
      ['terms', true],
      ['marketing', false],
    ]);
    // The answer is audited (who, which text, which version), without the person's email.
    const [audited] = await api.test.handle.db
      .select()
      .from(db.auditLog)
      .where(eq(db.auditLog.action, 'privacy.consent'))
      .orderBy(sql`occurred_at desc`)
      .limit(1);
    expect(audited?.details).toMatchObject({ kind: 'marketing', granted: false });
  });

  it('asks again when a new version of the terms is published', async () => {
    await api.test.handle.db
      .update(db.documents)
      .set({ currentVersion: sql`${db.documents.currentVersion} + 1` })
      .where(eq(db.documents.slug, 'termos-de-uso'));
    const status = await call<Consents>('GET', trader);
    expect(status.body.termsRequired).toBe(true);
    expect(status.body.unanswered).toEqual(['terms']);
  });

  it("is each person's own: staff answer for themselves, another trader sees none of it", async () => {
    expect((await call('POST', ceo, { kind: 'terms', granted: true })).status).toBe(201);
    const otherTrader = await call<Consents>('GET', other);
    expect(otherTrader.body.current.every((c) => c.source !== 'api')).toBe(true);
    // No field names another person.
    const withEmail = await call<{ error: { code: string; message: string } }>('POST', trader, {
      kind: 'terms',
      granted: true,
      email: 'someone@example.com',
    });
    expect(withEmail.status).toBe(400);
    expect(withEmail.body.error.message).toMatch(/email/);
  });

  it('refuses bad input (400), no session (401), and a text that is not published (404)', async () => {
    expect((await call('POST', trader, { kind: 'cookies', granted: true })).status).toBe(400);
    expect((await call('POST', trader, { kind: 'terms' })).status).toBe(400);
    expect((await call('GET', undefined)).status).toBe(401);
    await api.test.handle.db.update(db.documents).set({ status: 'archived' }).where(eq(db.documents.slug, 'politica-de-privacidade'));
    const missing = await call<{ error: { code: string; message: string } }>('POST', trader, { kind: 'marketing', granted: true });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe(
      'No marketing text is published (document politica-de-privacidade); there is nothing to agree to yet.',
    );
  });
});
