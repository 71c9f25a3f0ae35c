import { index, jsonb, pgEnum, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, instant } from './columns.ts';
import { department, tenantRef, users } from './tenancy.ts';

// Conversations and their messages live in Mastra's storage (same database); this module
// holds what the company itself decides on.

export const approvalStatuses = ['pending', 'approved', 'rejected', 'expired', 'executed', 'failed'] as const;
export type ApprovalStatus = (typeof approvalStatuses)[number];
export const approvalStatus = pgEnum('approval_status', approvalStatuses);

/** A side effect waiting for a human: the tool call is stored and run once, after approval. */
export const approvals = pgTable(
  'approvals',
  {
    id: id(),
    /** Whose data the action touches. */
    tenantId: tenantRef(),
    requestedByUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
    agent: text(),
    tool: text().notNull(),
    args: jsonb().$type<Record<string, unknown>>().notNull(),
    summary: text().notNull(),
    /** The department whose head (or the CEO) may decide. */
    approverDepartment: department().notNull(),
    status: approvalStatus().notNull().default('pending'),
    decidedByUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
    decidedAt: instant(),
    decisionNote: text(),
    executedAt: instant(),
    result: jsonb(),
    expiresAt: instant().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('approvals_status_idx').on(t.status, t.createdAt), index('approvals_tenant_idx').on(t.tenantId, t.createdAt)],
);
