import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { auditRedactions, queryRows, type Database } from '../db/index.ts';
import { canonicalJson, normalizeJson, sha256Hex } from './canonical.ts';
import {
  appendAudit,
  chainRowsWhere,
  hashedText,
  type AppendedAuditRow,
  type AuditEntry,
  type ChainRow,
  type HashedContent,
} from './log.ts';

// Erasure (LGPD) against a hash-chained log. A row keeps its hash and its place in the chain;
// its personal fields are replaced, and the row is then checked against what the erasure
// attested instead of against its hash: an audit_redactions entry holds the SHA-256 of the
// row's new content, and the erasure's own row — appended to the chain, so itself covered by
// the hashes after it — holds a digest over all its entries. Verify accepts a row whose hash no
// longer matches only when its content is exactly what the newest erasure of it attested and
// that erasure's row is in the chain after it with the matching digest.

/** The part of a row an erasure may replace; the rest (time, actor kind, action, tool, outcome) stays. */
export interface RedactedFields {
  readonly actorId: string | null;
  readonly args: unknown;
  readonly details: unknown;
}

/** Audit rows that mention a person: by tenant, by actor, or by a text in their arguments or details. */
export async function auditRowsNaming(
  db: Database,
  terms: { readonly tenantIds: readonly string[]; readonly actorIds: readonly string[]; readonly texts: readonly string[] },
): Promise<ChainRow[]> {
  const conditions = [
    ...terms.tenantIds.map((id) => sql`tenant_id = ${id}::uuid`),
    ...terms.actorIds.map((id) => sql`actor_id = ${id}`),
    ...terms.texts
      .filter((text) => text.length >= 3)
      .map(
        (text) => sql`(strpos(lower(args::text), ${text.toLowerCase()}) > 0 or strpos(lower(details::text), ${text.toLowerCase()}) > 0)`,
      ),
  ];
  if (conditions.length === 0) return [];
  return chainRowsWhere(db, sql`(${sql.join(conditions, sql` or `)}) order by id`);
}

/** The digest an erasure's row carries over its entries (audit id and content digest, in id order). */
export function redactionDigest(entries: readonly { readonly auditId: number; readonly contentSha256: string }[]): string {
  return sha256Hex(
    [...entries]
      .sort((a, b) => a.auditId - b.auditId)
      .map((e) => `${e.auditId}:${e.contentSha256}`)
      .join('\n'),
  );
}

export interface RedactionResult {
  readonly erasureId: string;
  readonly redactedRows: number;
  readonly attestation: AppendedAuditRow;
}

/**
 * Replaces personal fields in `rows` (as `rewrite` returns them) and appends `attestation` with
 * the redaction's id, row count and digest in its details. Must run inside a transaction (`tx`):
 * the trigger allows these updates only there, and they stand or fall with the attestation.
 */
export async function redactAuditRows(
  tx: Database,
  rows: readonly ChainRow[],
  rewrite: (content: HashedContent) => RedactedFields,
  attestation: AuditEntry,
  at: Date,
): Promise<RedactionResult> {
  const erasureId = crypto.randomUUID();
  const entries: { auditId: number; contentSha256: string; fields: RedactedFields }[] = [];
  for (const row of rows) {
    const wanted = rewrite(row.content);
    const fields: RedactedFields = {
      actorId: wanted.actorId,
      args: normalizeJson(wanted.args) ?? null,
      details: normalizeJson(wanted.details) ?? null,
    };
    const next: HashedContent = { ...row.content, ...fields };
    if (canonicalJson(next) === canonicalJson(row.content)) continue;
    entries.push({ auditId: row.id, contentSha256: sha256Hex(hashedText(next)), fields });
  }
  if (entries.length > 0) {
    await tx.execute(sql`select set_config('botcriptofy.audit_redaction', 'on', true)`);
    for (let start = 0; start < entries.length; start += 500)
      await tx
        .insert(auditRedactions)
        .values(
          entries.slice(start, start + 500).map((e) => ({ auditId: e.auditId, erasureId, contentSha256: e.contentSha256, redactedAt: at })),
        );
    for (const entry of entries)
      await tx.execute(
        // The row's salt goes with the fields it sealed: what is left cannot confirm a guess of them.
        sql`update audit_log set actor_id = ${entry.fields.actorId}, args = ${json(entry.fields.args)}, details = ${json(entry.fields.details)},
            personal_salt = null where id = ${entry.auditId}`,
      );
    await tx.execute(sql`select set_config('botcriptofy.audit_redaction', 'off', true)`);
  }
  const details = {
    ...((attestation.details as Record<string, unknown> | undefined) ?? {}),
    redaction: { erasureId, rows: entries.length, digest: redactionDigest(entries) },
  };
  const row = await appendAudit(tx, { ...attestation, details });
  return { erasureId, redactedRows: entries.length, attestation: row };
}

function json(value: unknown) {
  return value === null || value === undefined ? sql`null` : sql`${JSON.stringify(value)}::jsonb`;
}

interface LedgerEntry {
  readonly auditId: number;
  readonly erasureId: string;
  readonly contentSha256: string;
  readonly redactedAt: string;
}

/** What verify checks redacted rows against; built once per verification. */
export interface RedactionLedger {
  /** Whether a row whose hash no longer matches holds exactly the content its newest erasure attested. */
  accepts(row: ChainRow): boolean;
  /** For an erasure's own row: a problem when its digest does not match its entries, else null. */
  attest(row: ChainRow): string | null;
  /** After the whole chain: an accepted row whose erasure row was never met. */
  unattested(): { auditId: number; message: string } | null;
}

export async function loadRedactionLedger(db: Database): Promise<RedactionLedger> {
  const rows = await queryRows<{ audit_id: string | number; erasure_id: string; content_sha256: string; redacted_at: string }>(
    db,
    sql`select audit_id, erasure_id, content_sha256, redacted_at::text from audit_redactions order by audit_id, redacted_at`,
  );
  const newest = new Map<number, LedgerEntry>();
  const byErasure = new Map<string, LedgerEntry[]>();
  for (const r of rows) {
    const entry = { auditId: Number(r.audit_id), erasureId: r.erasure_id, contentSha256: r.content_sha256, redactedAt: r.redacted_at };
    const seen = newest.get(entry.auditId);
    if (!seen || new Date(seen.redactedAt) <= new Date(entry.redactedAt)) newest.set(entry.auditId, entry);
    byErasure.set(entry.erasureId, [...(byErasure.get(entry.erasureId) ?? []), entry]);
  }
  /** Erasures some accepted row relies on, with that row, until their own row is met. */
  const awaited = new Map<string, number>();
  const attested = new Set<string>();
  return {
    accepts(row) {
      const entry = newest.get(row.id);
      if (!entry || sha256Hex(hashedText(row.content)) !== entry.contentSha256) return false;
      if (!attested.has(entry.erasureId) && !awaited.has(entry.erasureId)) awaited.set(entry.erasureId, row.id);
      return true;
    },
    attest(row) {
      const redaction = (row.content.details as { redaction?: { erasureId?: unknown; digest?: unknown } } | null)?.redaction;
      if (typeof redaction?.erasureId !== 'string') return null;
      const entries = byErasure.get(redaction.erasureId) ?? [];
      if (redactionDigest(entries) !== redaction.digest || entries.some((e) => e.auditId >= row.id))
        return `audit row ${row.id} records an erasure whose redacted rows no longer match what it attested (audit_redactions was altered)`;
      attested.add(redaction.erasureId);
      awaited.delete(redaction.erasureId);
      return null;
    },
    unattested() {
      const [first] = awaited.values();
      return first === undefined
        ? null
        : { auditId: first, message: `audit row ${first} was altered: its content matches no erasure recorded in the chain` };
    },
  };
}
