import { aliasedTable, asc, eq, gt, or, sql } from 'drizzle-orm';
import { approvals, users, type Database, type Department } from '../db/index.ts';

// The approvals read as a stream of changes, for the web events stream (GET /api/v1/events):
// a request made, a decision taken, an approved action executed or failed. The approvals are
// their own source of truth — the Telegram door reads them the same way to announce them to
// the deciders it can reach — so the web does not depend on Telegram having queued anything.

export interface ApprovalChange {
  readonly id: string;
  readonly tenantId: string;
  readonly tool: string;
  readonly summary: string;
  readonly approverDepartment: Department;
  readonly status: string;
  readonly requestedByUserId: string | null;
  readonly requestedBy: string | null;
  readonly decidedBy: string | null;
  readonly decisionNote: string | null;
  readonly expiresAt: Date;
  /** When it took its present status (created, decided or executed): where a reader goes on from. */
  readonly changedAt: Date;
}

/** Approvals whose status changed after `after` (created, decided, executed), oldest change first, at most `limit`. */
export async function approvalsChangedAfter(db: Database, after: Date, limit = 500): Promise<ApprovalChange[]> {
  const requester = aliasedTable(users, 'requester');
  const decider = aliasedTable(users, 'decider');
  const changedAt = sql<Date>`greatest(${approvals.createdAt}, coalesce(${approvals.decidedAt}, ${approvals.createdAt}), coalesce(${approvals.executedAt}, ${approvals.createdAt}))`;
  const rows = await db
    .select({
      id: approvals.id,
      tenantId: approvals.tenantId,
      tool: approvals.tool,
      summary: approvals.summary,
      approverDepartment: approvals.approverDepartment,
      status: approvals.status,
      requestedByUserId: approvals.requestedByUserId,
      requestedBy: requester.name,
      decidedBy: decider.name,
      decisionNote: approvals.decisionNote,
      expiresAt: approvals.expiresAt,
      changedAt: changedAt.mapWith((value: string | Date) => new Date(value)),
    })
    .from(approvals)
    .leftJoin(requester, eq(requester.id, approvals.requestedByUserId))
    .leftJoin(decider, eq(decider.id, approvals.decidedByUserId))
    .where(or(gt(approvals.createdAt, after), gt(approvals.decidedAt, after), gt(approvals.executedAt, after)))
    .orderBy(asc(changedAt), asc(approvals.id))
    .limit(limit);
  return rows;
}
