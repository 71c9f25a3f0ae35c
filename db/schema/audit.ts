import { bigint, index, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { instant } from './columns.ts';

/**
 * Append-only, hash-chained log of everything that acts: tool calls, approvals, seeds,
 * configuration changes. `hash` = SHA-256 of `prevHash` and the row's canonical content (its
 * personal fields by their salted digest, `personalDigest`), so
 * altering, removing or reordering a row breaks the chain from that row on. A trigger
 * (custom migration) refuses UPDATE, DELETE and TRUNCATE.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    occurredAt: instant().notNull(),
    tenantId: uuid(),
    /** staff, trader, system, agent. */
    actorKind: text().notNull(),
    actorId: text(),
    agent: text(),
    action: text().notNull(),
    tool: text(),
    args: jsonb().$type<unknown>(),
    /** ok, denied, error, pending_approval. */
    outcome: text().notNull(),
    resultDigest: text(),
    durationMs: integer(),
    details: jsonb().$type<unknown>(),
    /**
     * A random key of this row alone (hex), stored beside its personal fields (actor id, args,
     * details) and destroyed with them by an erasure. Null: a row written before salting, or
     * one an erasure redacted.
     */
    personalSalt: text(),
    /**
     * HMAC-SHA256 under personalSalt of the personal fields; the row's hash covers this digest
     * instead of the fields, so once the salt is gone the hash confirms no guessed email or
     * name. Null: a row written before salting (its hash covers the fields themselves).
     */
    personalDigest: text(),
    prevHash: text().notNull(),
    hash: text().notNull().unique(),
  },
  (t) => [
    index('audit_log_tenant_time_idx').on(t.tenantId, t.occurredAt),
    index('audit_log_time_idx').on(t.occurredAt),
    index('audit_log_tool_idx').on(t.tool, t.occurredAt),
  ],
);

/**
 * Audit rows whose personal data an erasure (LGPD) replaced by a pseudonym. The row keeps its
 * hash and place in the chain; this says which erasure changed it and the SHA-256 of the content
 * it holds now, and the erasure's own chained row (`privacy.erasure`) carries a digest over these
 * entries, so `verifyAuditChain` accepts exactly the rows an erasure attested and nothing else.
 */
export const auditRedactions = pgTable(
  'audit_redactions',
  {
    auditId: bigint({ mode: 'number' })
      .notNull()
      .references(() => auditLog.id),
    erasureId: uuid().notNull(),
    /** SHA-256 of the row's hashed text after the redaction (the text `hashAuditRow` hashes). */
    contentSha256: text().notNull(),
    redactedAt: instant().notNull(),
  },
  // A row naming two people is redacted once by each one's erasure: one entry per erasure.
  (t) => [primaryKey({ columns: [t.auditId, t.erasureId] }), index('audit_redactions_erasure_idx').on(t.erasureId)],
);
