import { bigint, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { instant } from './columns.ts';

/**
 * Append-only, hash-chained log of everything that acts: tool calls, approvals, seeds,
 * configuration changes. `hash` = SHA-256 of `prevHash` and the row's canonical content, so
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
    prevHash: text().notNull(),
    hash: text().notNull().unique(),
  },
  (t) => [
    index('audit_log_tenant_time_idx').on(t.tenantId, t.occurredAt),
    index('audit_log_time_idx').on(t.occurredAt),
    index('audit_log_tool_idx').on(t.tool, t.occurredAt),
  ],
);
