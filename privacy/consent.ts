import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { appendAudit } from '../audit/index.ts';
import { consentKinds, consents, documents, queryRows, users, type ConsentKind, type Database } from '../db/index.ts';
import { findDataSubject, PrivacyRequestError } from './subject.ts';

export const consentInputSchema = z.strictObject({
  email: z.email({ error: 'expected an email address such as ana@example.com' }),
  kind: z.enum(consentKinds, { error: `expected one of ${consentKinds.join(', ')}` }),
  version: z
    .string()
    .trim()
    .min(1, { error: 'expected the version of the text agreed to, e.g. 2026-01 or v3' })
    .max(40, { error: 'expected at most 40 characters' }),
  granted: z.boolean(),
  source: z.enum(['cli', 'api', 'telegram', 'demo', 'agent']),
});
export type ConsentInput = z.input<typeof consentInputSchema>;

export interface ConsentRecord {
  readonly kind: ConsentKind;
  readonly version: string;
  readonly granted: boolean;
  readonly source: string;
  readonly recordedAt: string;
}

/** Records one consent decision (a new row; the newest of a kind is the person's answer), audited. */
export async function recordConsent(db: Database, input: ConsentInput, options: { now?: () => Date } = {}): Promise<ConsentRecord> {
  const parsed = consentInputSchema.safeParse(input);
  if (!parsed.success)
    throw new PrivacyRequestError(
      'usage',
      `Invalid consent: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const subject = await findDataSubject(db, parsed.data.email);
  if (!subject.userId)
    throw new PrivacyRequestError('usage', `${subject.email} has no account; consents are recorded for account holders.`);
  const at = options.now?.() ?? new Date();
  const { kind, version, granted, source } = parsed.data;
  await db.insert(consents).values({ userId: subject.userId, kind, version, granted, source, recordedAt: at });
  await appendAudit(db, {
    occurredAt: at,
    tenantId: subject.ownTenantId,
    actorKind: 'system',
    actorId: `system:consent:${source}`,
    action: 'privacy.consent',
    outcome: 'ok',
    details: { userId: subject.userId, kind, version, granted },
  });
  return { kind, version, granted, source, recordedAt: at.toISOString() };
}

/** The person's current answer of each kind (the newest row), and every decision in time order. */
export async function consentsOf(db: Database, email: string): Promise<{ current: ConsentRecord[]; history: ConsentRecord[] }> {
  const subject = await findDataSubject(db, email);
  if (!subject.userId) return { current: [], history: [] };
  return consentsOfUser(db, subject.userId);
}

async function consentsOfUser(db: Database, userId: string): Promise<{ current: ConsentRecord[]; history: ConsentRecord[] }> {
  const rows = await queryRows<{ kind: ConsentKind; version: string; granted: boolean; source: string; recorded_at: string }>(
    db,
    sql`select kind, version, granted, source, to_json(recorded_at)#>>'{}' as recorded_at from consents where user_id = ${userId}::uuid order by recorded_at, id`,
  );
  const history = rows.map((r) => ({
    kind: r.kind,
    version: r.version,
    granted: r.granted,
    source: r.source,
    recordedAt: new Date(r.recorded_at).toISOString(),
  }));
  const current = consentKinds.flatMap((kind) => history.filter((h) => h.kind === kind).slice(-1));
  return { current, history };
}

/**
 * The published text each consent is given to (a company document, by slug): the terms of use
 * for `terms`, the privacy policy (what marketing messages do with one's data) for `marketing`.
 * Agreeing records the document's current version, so publishing a new version asks again.
 */
export const CONSENT_DOCUMENTS: Readonly<Record<ConsentKind, string>> = { terms: 'termos-de-uso', marketing: 'politica-de-privacidade' };

export interface ConsentText {
  readonly kind: ConsentKind;
  readonly slug: string;
  readonly title: string;
  /** `v` and the document's current version number, as the consent records it. */
  readonly version: string;
}

/** The texts people are asked to agree to, as published now (a kind whose document is not published is absent). */
export async function consentTexts(db: Database): Promise<ConsentText[]> {
  const rows = await db
    .select({ slug: documents.slug, title: documents.title, currentVersion: documents.currentVersion })
    .from(documents)
    .where(and(inArray(documents.slug, Object.values(CONSENT_DOCUMENTS)), eq(documents.status, 'published')));
  return consentKinds.flatMap((kind) => {
    const row = rows.find((r) => r.slug === CONSENT_DOCUMENTS[kind]);
    return row ? [{ kind, slug: row.slug, title: row.title, version: `v${row.currentVersion}` }] : [];
  });
}

export interface ConsentStatus {
  readonly current: ConsentRecord[];
  readonly history: ConsentRecord[];
  readonly texts: ConsentText[];
  /** The person must agree to the terms as published now before using the product (never agreed, refused, or an older version). */
  readonly termsRequired: boolean;
  /** Kinds the person has not answered for the text as published now (marketing is asked, never required). */
  readonly unanswered: ConsentKind[];
}

/** Where one account holder stands with the texts published now. */
export async function consentStatus(db: Database, userId: string): Promise<ConsentStatus> {
  const [{ current, history }, texts] = await Promise.all([consentsOfUser(db, userId), consentTexts(db)]);
  const answered = (text: ConsentText) => current.find((c) => c.kind === text.kind && c.version === text.version);
  const terms = texts.find((t) => t.kind === 'terms');
  return {
    current,
    history,
    texts,
    termsRequired: terms !== undefined && answered(terms)?.granted !== true,
    unanswered: texts.filter((t) => !answered(t)).map((t) => t.kind),
  };
}

/** One account holder's own answer to a text as published now (the tool `record_consent`, the API, Telegram). */
export async function recordOwnConsent(
  db: Database,
  input: { userId: string; kind: ConsentKind; granted: boolean; source: ConsentInput['source'] },
  options: { now?: () => Date } = {},
): Promise<ConsentRecord> {
  const text = (await consentTexts(db)).find((t) => t.kind === input.kind);
  if (!text)
    throw new PrivacyRequestError(
      'not_found',
      `No ${input.kind} text is published (document ${CONSENT_DOCUMENTS[input.kind]}); there is nothing to agree to yet.`,
    );
  const [person] = await db.select({ email: users.email }).from(users).where(eq(users.id, input.userId));
  if (!person) throw new PrivacyRequestError('not_found', 'This account no longer exists.');
  return recordConsent(
    db,
    { email: person.email, kind: input.kind, version: text.version, granted: input.granted, source: input.source },
    options,
  );
}
