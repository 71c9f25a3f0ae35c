import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';

// GET /api/v1/documents/{slug} (issue 17: the dashboard's terms page links the text): the terms
// of use and the privacy policy as published now, through the consent_document tool as the
// signed-in person — its current version's own text, the version as a consent to it records it,
// audited; no other company document, nothing unpublished, nobody signed out.

interface ConsentDocument {
  slug: string;
  kind: string;
  title: string;
  version: string;
  body: string;
  sha256: string;
  publishedAt: string;
}

describe.each(testDrivers)('the consent documents over the API on %s', (driver) => {
  let api: ApiFixture;
  let trader: string;
  let ceo: string;

  beforeAll(async () => {
    api = await apiFixture(driver, { traders: 4 });
    const [ceoSignIn, a] = api.signIns;
    ceo = await api.signIn(ceoSignIn!.email, ceoSignIn!.password);
    trader = await api.signIn(a!.email, a!.password);
  }, 180_000);
  afterAll(async () => {
    await api?.dispose();
  });

  const get = async <T>(slug: string, cookie: string | undefined) => {
    const response = await api.request(`/api/v1/documents/${slug}`, { ...(cookie ? { cookie } : {}) });
    return { status: response.status, body: (await response.json()) as T };
  };

  /** The document's current version as stored: what the route must answer. */
  const stored = async (slug: string) => {
    const [row] = await api.test.handle.db
      .select({
        title: db.documents.title,
        version: db.documentVersions.version,
        body: db.documentVersions.body,
        sha256: db.documentVersions.sha256,
      })
      .from(db.documents)
      .innerJoin(
        db.documentVersions,
        and(eq(db.documentVersions.documentId, db.documents.id), eq(db.documentVersions.version, db.documents.currentVersion)),
      )
      .where(eq(db.documents.slug, slug));
    return row!;
  };

  it('answers the terms of use and the privacy policy as published now, the version as GET /consents names it, each read audited', async () => {
    const consents = (await (await api.request('/api/v1/consents', { cookie: trader })).json()) as {
      texts: { kind: string; slug: string; title: string; version: string }[];
    };
    for (const [slug, kind] of [
      ['termos-de-uso', 'terms'],
      ['politica-de-privacidade', 'marketing'],
    ] as const) {
      const answer = await get<ConsentDocument>(slug, trader);
      expect(answer.status).toBe(200);
      const row = await stored(slug);
      expect(answer.body).toMatchObject({ slug, kind, title: row.title, version: `v${row.version}`, body: row.body, sha256: row.sha256 });
      expect(row.body.length).toBeGreaterThan(20);
      const text = consents.texts.find((t) => t.kind === kind)!;
      expect([answer.body.title, answer.body.version]).toEqual([text.title, text.version]);
    }
    // Staff read the same texts.
    expect((await get<ConsentDocument>('termos-de-uso', ceo)).status).toBe(200);
    const audited = await api.test.handle.db
      .select({ args: db.auditLog.args, outcome: db.auditLog.outcome })
      .from(db.auditLog)
      .where(and(eq(db.auditLog.action, 'tool.call'), eq(db.auditLog.tool, 'consent_document')));
    expect(audited.filter((a) => a.outcome === 'ok').map((a) => (a.args as { slug: string }).slug)).toEqual([
      'termos-de-uso',
      'politica-de-privacidade',
      'termos-de-uso',
    ]);
  });

  it('answers the version published after a new one is written', async () => {
    const before = await stored('termos-de-uso');
    const [document] = await api.test.handle.db.select().from(db.documents).where(eq(db.documents.slug, 'termos-de-uso'));
    const body = `${before.body}\n\nCláusula nova: mudanças são avisadas com 30 dias.`;
    await api.test.handle.db.insert(db.documentVersions).values({
      documentId: document!.id,
      version: before.version + 1,
      title: before.title,
      body,
      sha256: 'f'.repeat(64),
    });
    await api.test.handle.db
      .update(db.documents)
      .set({ currentVersion: before.version + 1 })
      .where(eq(db.documents.id, document!.id));
    const answer = await get<ConsentDocument>('termos-de-uso', trader);
    expect(answer.body).toMatchObject({ version: `v${before.version + 1}`, body });
  });

  it('refuses another document (400), no session (401), and a document that is not published (404)', async () => {
    const other = await get<{ error: { message: string } }>('politica-de-reembolso', trader);
    expect(other.status).toBe(400);
    expect(other.body.error.message).toMatch(/termos-de-uso or politica-de-privacidade/);
    expect((await get('termos-de-uso', undefined)).status).toBe(401);
    await api.test.handle.db.update(db.documents).set({ status: 'archived' }).where(eq(db.documents.slug, 'politica-de-privacidade'));
    const missing = await get<{ error: { message: string } }>('politica-de-privacidade', trader);
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('The document politica-de-privacidade is not published.');
    await api.test.handle.db.execute(sql`update documents set status = 'published' where slug = 'politica-de-privacidade'`);
  });
});
