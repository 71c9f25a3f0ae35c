import { and, asc, eq, gt } from 'drizzle-orm';
import { appendAudit } from '../audit/index.ts';
import { approvals, type Database } from '../db/index.ts';
import { actorId, invokeTool, type ToolOutcome } from './invoke.ts';
import { mayDecide } from './policy.ts';
import type { Actor, ToolContext, ToolDefinition } from './types.ts';

export type ApprovalRow = typeof approvals.$inferSelect;

/** Approvals still waiting for a decision (not yet expired). */
export async function listPendingApprovals(db: Database, now: Date = new Date()): Promise<ApprovalRow[]> {
  return db.select().from(approvals).where(and(eq(approvals.status, 'pending'), gt(approvals.expiresAt, now))).orderBy(asc(approvals.createdAt));
}

export type DecisionResult =
  | { readonly decided: true; readonly status: 'executed' | 'failed' | 'rejected'; readonly outcome?: ToolOutcome }
  | { readonly decided: false; readonly reason: string; readonly status?: string };

/**
 * Approves or rejects a pending approval. The decision is taken by one conditional update,
 * so pressing Approve twice, or two people at once, executes the action exactly once.
 */
export async function decideApproval(
  catalogue: ReadonlyMap<string, ToolDefinition>,
  ctx: Omit<ToolContext, 'actor'>,
  decider: Actor,
  approvalId: string,
  decision: 'approve' | 'reject',
  note?: string,
): Promise<DecisionResult> {
  const [approval] = await ctx.db.select().from(approvals).where(eq(approvals.id, approvalId));
  if (!approval) return { decided: false, reason: `No approval ${approvalId}.` };
  if (!mayDecide(decider, approval.approverDepartment)) {
    await appendAudit(ctx.db, { tenantId: approval.tenantId, actorKind: decider.kind, actorId: actorId(decider), action: 'approval.decide', tool: approval.tool, args: { approvalId, decision }, outcome: 'denied' });
    return { decided: false, reason: `Only the ${approval.approverDepartment} head or the CEO may decide this.` };
  }
  const [claimed] = await ctx.db
    .update(approvals)
    .set({ status: decision === 'approve' ? 'approved' : 'rejected', decidedByUserId: decider.kind === 'system' ? null : decider.userId, decidedAt: ctx.now(), decisionNote: note ?? null })
    .where(and(eq(approvals.id, approvalId), eq(approvals.status, 'pending'), gt(approvals.expiresAt, ctx.now())))
    .returning();
  if (!claimed) {
    const [current] = await ctx.db.select().from(approvals).where(eq(approvals.id, approvalId));
    const status = current!.status === 'pending' ? 'expired' : current!.status;
    return { decided: false, reason: `This approval is already ${status}.`, status };
  }
  await appendAudit(ctx.db, { tenantId: claimed.tenantId, actorKind: decider.kind, actorId: actorId(decider), action: 'approval.decide', tool: claimed.tool, args: { approvalId, decision }, outcome: 'ok' });
  if (decision === 'reject') return { decided: true, status: 'rejected' };
  // Runs as the system on behalf of the requester, with the decider recorded in the audit.
  const outcome = await invokeTool(catalogue, { ...ctx, actor: { kind: 'system', name: `approval:${approvalId}` } }, claimed.tool, claimed.args, { approved: true });
  const status = outcome.ok ? 'executed' : 'failed';
  await ctx.db
    .update(approvals)
    .set({ status, executedAt: ctx.now(), result: outcome.ok && 'result' in outcome ? (outcome.result as object) : { error: outcome.ok ? null : outcome.message } })
    .where(eq(approvals.id, approvalId));
  return { decided: true, status, outcome };
}
