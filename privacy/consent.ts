import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { appendAudit } from '../audit/index.ts';
import { consentKinds, consents, queryRows, type ConsentKind, type Database } from '../db/index.ts';
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
  const rows = await queryRows<{ kind: ConsentKind; version: string; granted: boolean; source: string; recorded_at: string }>(
    db,
    sql`select kind, version, granted, source, to_json(recorded_at)#>>'{}' as recorded_at from consents where user_id = ${subject.userId}::uuid order by recorded_at, id`,
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
