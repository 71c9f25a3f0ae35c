import { and, asc, desc, eq, gt, inArray, isNotNull, like, min, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { appendAudit } from '../audit/index.ts';
import { approvals, notifications, settingValue, tenantScope, insertScoped, type Database } from '../db/index.ts';
import { actorId, invokeTool, type ToolOutcome } from './invoke.ts';
import { mayDecide } from './policy.ts';
import { ToolRefusal } from './scope.ts';
import type { Actor, ApprovalFacts, ToolContext, ToolDefinition } from './types.ts';

export type ApprovalRow = typeof approvals.$inferSelect;

/** Approvals still waiting for a decision (not yet expired). */
export async function listPendingApprovals(db: Database, now: Date = new Date()): Promise<ApprovalRow[]> {
  return db
    .select()
    .from(approvals)
    .where(and(eq(approvals.status, 'pending'), gt(approvals.expiresAt, now)))
    .orderBy(asc(approvals.createdAt));
}

/** One approval by id, whatever its status. */
export async function getApproval(db: Database, approvalId: string): Promise<ApprovalRow | undefined> {
  const [row] = await db.select().from(approvals).where(eq(approvals.id, approvalId));
  return row;
}

/**
 * What a workflow asks a person to decide: the approval row of a call that did not go through
 * `invokeTool` (a workflow's own request, audited by its caller). The one way approvals are
 * created outside the tool layer; returns the new approval's id.
 */
export async function requestApproval(
  db: Database,
  request: {
    readonly tenantId: string;
    readonly requestedByUserId: string | null;
    readonly agent: string;
    readonly tool: string;
    readonly args: Record<string, unknown>;
    readonly summary: string;
    readonly approverDepartment: ApprovalRow['approverDepartment'];
    readonly expiresAt: Date;
  },
): Promise<string> {
  const { tenantId, ...values } = request;
  const [row] = await insertScoped(db, tenantScope(tenantId), approvals, values);
  return row!.id;
}

/** The newest approval of a tool whose argument `argument` is `value` (e.g. a `start_bot` by its `botId`), whatever its status. */
export async function findApprovalFor(
  db: Database,
  tool: string,
  argument: string,
  value: string,
): Promise<{ id: string; status: ApprovalRow['status'] } | undefined> {
  const [row] = await db
    .select({ id: approvals.id, status: approvals.status })
    .from(approvals)
    .where(and(eq(approvals.tool, tool), sql`${approvals.args} ->> ${argument}::text = ${value}`))
    .orderBy(desc(approvals.createdAt))
    .limit(1);
  return row;
}

/**
 * The newest `freeze_api_key` approval for a trader's email (any case) whose reason carries
 * `marker` (an incident's key), or that is still pending (a request for the same trader to join).
 */
export async function findFreezeRequest(
  db: Database,
  email: string | null,
  marker: string,
): Promise<{ id: string; status: ApprovalRow['status'] } | undefined> {
  const [row] = await db
    .select({ id: approvals.id, status: approvals.status })
    .from(approvals)
    .where(
      and(
        eq(approvals.tool, 'freeze_api_key'),
        sql`lower(${approvals.args} ->> 'email') = lower(${email})`,
        sql`(${approvals.args} ->> 'reason' like ${`%${marker}%`} or ${approvals.status} = 'pending')`,
      ),
    )
    .orderBy(sql`${approvals.createdAt} desc`)
    .limit(1);
  return row;
}

/** How many approvals were pending (not expired) at `asOf`, and when the oldest of them was asked. */
export async function pendingApprovalsAt(db: Database, asOf: Date): Promise<{ count: number; oldest: Date | null }> {
  const [pending] = await db
    .select({ n: sql<number>`count(*)::int`, oldest: min(approvals.createdAt) })
    .from(approvals)
    .where(and(eq(approvals.status, 'pending'), gt(approvals.expiresAt, asOf)));
  return { count: Number(pending?.n ?? 0), oldest: pending?.oldest ? new Date(pending.oldest) : null };
}

/** The status and expiry of each of these approvals (one query); missing ids are left out. */
export async function approvalStatuses(
  db: Database,
  approvalIds: readonly string[],
): Promise<{ id: string; status: ApprovalRow['status']; expiresAt: Date }[]> {
  if (approvalIds.length === 0) return [];
  return db
    .select({ id: approvals.id, status: approvals.status, expiresAt: approvals.expiresAt })
    .from(approvals)
    .where(inArray(approvals.id, [...approvalIds]));
}

// Announcements: an approval reaches each person who may decide it as one approval_requested
// notification, dedupe key `approval:<approval id>:<user id>`.

/** The dedupe keys of the approval_requested notifications already queued for these approvals (one query). */
export async function announcedApprovalKeys(db: Database, approvalIds: readonly string[]): Promise<Set<string>> {
  if (approvalIds.length === 0) return new Set();
  const rows = await db
    .select({ key: notifications.dedupeKey })
    .from(notifications)
    .where(
      and(eq(notifications.type, 'approval_requested'), or(...approvalIds.map((id) => like(notifications.dedupeKey, `approval:${id}:%`)))),
    );
  return new Set(rows.flatMap((row) => (row.key === null ? [] : [row.key])));
}

/** The approval_requested messages of one approval that reached a channel (Telegram: its cards are edited once decided): whose, and which message. */
export async function deliveredApprovalRequests(
  db: Database,
  approvalId: string,
  channel = 'telegram',
): Promise<{ userId: string | null; messageId: number | null }[]> {
  return db
    .select({ userId: notifications.recipientUserId, messageId: notifications.channelMessageId })
    .from(notifications)
    .where(
      and(
        like(notifications.dedupeKey, `approval:${approvalId}:%`),
        eq(notifications.type, 'approval_requested'),
        eq(notifications.channel, channel),
        isNotNull(notifications.channelMessageId),
      ),
    );
}

/** Approved, but the action failed (with why, in `result.error`); they may be retried until they expire. */
export async function listFailedApprovals(db: Database, now: Date = new Date()): Promise<ApprovalRow[]> {
  return db
    .select()
    .from(approvals)
    .where(and(eq(approvals.status, 'failed'), gt(approvals.expiresAt, now)))
    .orderBy(desc(approvals.executedAt));
}

/**
 * What a decider needs beside an approval's summary: its tool's `explain` of the stored
 * arguments (the amount, the customer, the invoice or bot), read now, so a card also says when
 * the action cannot run as things stand (`blocked`). {} when the tool explains nothing.
 */
export async function approvalFacts(
  catalogue: ReadonlyMap<string, ToolDefinition>,
  ctx: Omit<ToolContext, 'actor'>,
  approval: ApprovalRow,
): Promise<ApprovalFacts> {
  const tool = catalogue.get(approval.tool);
  const parsed = tool?.input.safeParse(approval.args);
  if (!tool?.explain || !parsed?.success) return {};
  try {
    return await tool.explain({ ...ctx, actor: { kind: 'system', name: `approval:${approval.id}` } }, parsed.data);
  } catch (error) {
    if (error instanceof ToolRefusal) return { blocked: error.message };
    throw error;
  }
}

/**
 * An approval's summary in a reader's language: its tool's own summary of the stored arguments
 * (the row keeps the one written when it was asked for, in whatever language its requester
 * wrote it — the demo's are Portuguese), or the stored one when the tool has none.
 */
export function approvalSummary(catalogue: ReadonlyMap<string, ToolDefinition>, approval: ApprovalRow, locale: 'pt-BR' | 'en'): string {
  const tool = catalogue.get(approval.tool);
  const parsed = tool?.summarize ? tool.input.safeParse(approval.args) : undefined;
  return (tool?.summarize && parsed?.success ? tool.summarize(parsed.data, locale) : approval.summary).slice(0, 1000);
}

/** Why a failed approval failed, as its execution recorded it. */
export function failureReason(approval: ApprovalRow): string | null {
  const error = (approval.result as { error?: unknown } | null)?.error;
  return approval.status === 'failed' && typeof error === 'string' ? error : null;
}

const approvalIdSchema = z.uuid();

export type DecisionResult =
  | { readonly decided: true; readonly status: 'executed' | 'failed' | 'rejected'; readonly outcome?: ToolOutcome }
  | {
      readonly decided: false;
      readonly reason: string;
      readonly status?: string;
      /** Refused because the decider asked for it (four-eyes): another eligible person must decide. */
      readonly fourEyes?: true;
    };

/**
 * The company setting that turns four-eyes on or off per action (tool name → true/false), e.g.
 * `{"set_config": true, "refund_payment": false}`. Absent for an action: on for money (billing
 * and subscriptions) and live trading (trading), off for the rest.
 */
export const FOUR_EYES_SETTING = 'approvals.four_eyes';
const fourEyesOverrides = z.record(z.string(), z.boolean());

/**
 * The pending approvals a person may decide, oldest first: every one for the CEO and admins,
 * their department's for a head, none for other staff; not one they asked for themselves where
 * four-eyes applies (someone else must decide it). What Telegram's /approvals and the HTTP
 * API's GET /approvals list. A trader (or the system) decides none: refused.
 */
export async function pendingApprovalsFor(
  db: Database,
  catalogue: ReadonlyMap<string, ToolDefinition>,
  actor: Actor,
  now: Date,
): Promise<ApprovalRow[]> {
  if (actor.kind !== 'staff')
    throw new ToolRefusal('forbidden', 'Approvals are decided by staff: the department head, the CEO or an admin.');
  const mine: ApprovalRow[] = [];
  for (const approval of await listPendingApprovals(db, now)) {
    if (!mayDecide(actor, approval.approverDepartment)) continue;
    if (approval.requestedByUserId === actor.userId && (await fourEyesApplies(db, catalogue, approval.tool))) continue;
    if (await conflictOfInterest(catalogue, { db }, actor, approval)) continue;
    mine.push(approval);
  }
  return mine;
}

/** Whether the person who asked for `tool` (or on whose behalf an agent asked) may not decide it. */
export async function fourEyesApplies(db: Database, catalogue: ReadonlyMap<string, ToolDefinition>, tool: string): Promise<boolean> {
  const overrides = fourEyesOverrides.safeParse(await settingValue(db, FOUR_EYES_SETTING));
  const override = overrides.success ? overrides.data[tool] : undefined;
  if (override !== undefined) return override;
  const domain = catalogue.get(tool)?.domain;
  return domain === 'billing' || domain === 'subscriptions' || domain === 'trading';
}

/** Why `decider` may never decide this approval (its tool's conflictOfInterest), or null. */
async function conflictOfInterest(
  catalogue: ReadonlyMap<string, ToolDefinition>,
  ctx: Pick<ToolContext, 'db'>,
  decider: Actor,
  approval: ApprovalRow,
): Promise<string | null> {
  const tool = catalogue.get(approval.tool);
  if (!tool?.conflictOfInterest || decider.kind === 'system') return null;
  const parsed = tool.input.safeParse(approval.args);
  // Arguments the tool cannot read cannot run either; the execution will say so.
  if (!parsed.success) return null;
  return tool.conflictOfInterest(
    ctx as Omit<ToolContext, 'actor'>,
    { requestedByUserId: approval.requestedByUserId, input: parsed.data },
    decider,
  );
}

/** A decision or retry refused before anything was done: audited as denied, with why. */
function auditRefusedDecision(
  ctx: Omit<ToolContext, 'actor'>,
  decider: Actor,
  approval: ApprovalRow,
  action: 'approval.decide' | 'approval.retry',
  auditArgs: Record<string, unknown>,
  details: Record<string, unknown>,
): Promise<unknown> {
  return appendAudit(ctx.db, {
    tenantId: approval.tenantId,
    actorKind: decider.kind,
    actorId: actorId(decider),
    action,
    tool: approval.tool,
    args: auditArgs,
    outcome: 'denied',
    details,
  });
}

/** A decider with a conflict of interest (the tool's rule, whatever the four-eyes setting): refused and audited as denied. */
async function conflicted(
  ctx: Omit<ToolContext, 'actor'>,
  catalogue: ReadonlyMap<string, ToolDefinition>,
  decider: Actor,
  approval: ApprovalRow,
  action: 'approval.decide' | 'approval.retry',
  auditArgs: Record<string, unknown>,
): Promise<DecisionResult | undefined> {
  const reason = await conflictOfInterest(catalogue, ctx, decider, approval);
  if (!reason) return undefined;
  await auditRefusedDecision(ctx, decider, approval, action, auditArgs, { reason: 'conflict_of_interest' });
  return { decided: false, fourEyes: true, reason, status: approval.status };
}

/** The requester deciding their own request where four-eyes applies: refused and audited as denied. */
async function ownRequest(
  ctx: Omit<ToolContext, 'actor'>,
  catalogue: ReadonlyMap<string, ToolDefinition>,
  decider: Actor,
  approval: ApprovalRow,
  action: 'approval.decide' | 'approval.retry',
  auditArgs: Record<string, unknown>,
): Promise<DecisionResult | undefined> {
  if (decider.kind === 'system' || approval.requestedByUserId !== decider.userId) return undefined;
  if (!(await fourEyesApplies(ctx.db, catalogue, approval.tool))) return undefined;
  await auditRefusedDecision(ctx, decider, approval, action, auditArgs, {
    reason: 'four_eyes',
    requestedByUserId: approval.requestedByUserId,
  });
  return {
    decided: false,
    fourEyes: true,
    reason: 'You asked for this yourself: another person who may decide it must (four-eyes).',
    status: approval.status,
  };
}

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
  const found = await approvalFor(ctx, decider, approvalId, 'approval.decide', { approvalId, decision }, '`approvals list`');
  if ('refused' in found) return found.refused;
  const conflict = await conflicted(ctx, catalogue, decider, found.approval, 'approval.decide', { approvalId, decision });
  if (conflict) return conflict;
  // Four-eyes: a rejection of one's own request is withdrawing it, which anyone may do.
  const own =
    decision === 'approve'
      ? await ownRequest(ctx, catalogue, decider, found.approval, 'approval.decide', { approvalId, decision })
      : undefined;
  if (own) return own;
  const [claimed] = await ctx.db
    .update(approvals)
    .set({
      status: decision === 'approve' ? 'approved' : 'rejected',
      decidedByUserId: decider.kind === 'system' ? null : decider.userId,
      decidedAt: ctx.now(),
      decisionNote: note ?? null,
    })
    .where(and(eq(approvals.id, approvalId), eq(approvals.status, 'pending'), gt(approvals.expiresAt, ctx.now())))
    .returning();
  if (!claimed) {
    const [current] = await ctx.db.select().from(approvals).where(eq(approvals.id, approvalId));
    const status = current!.status === 'pending' ? 'expired' : current!.status;
    return { decided: false, reason: `This approval is already ${status}.`, status };
  }
  await appendAudit(ctx.db, {
    tenantId: claimed.tenantId,
    actorKind: decider.kind,
    actorId: actorId(decider),
    action: 'approval.decide',
    tool: claimed.tool,
    args: { approvalId, decision },
    outcome: 'ok',
  });
  if (decision === 'reject') return { decided: true, status: 'rejected' };
  return { decided: true, ...(await execute(catalogue, ctx, claimed)) };
}

/**
 * Runs a failed approval again once its cause is fixed (a key set, a setting corrected): a new
 * decision by someone who may decide it, audited as `approval.retry`, claimed by one
 * conditional update like the first, so it still executes at most once at a time.
 */
export async function retryApproval(
  catalogue: ReadonlyMap<string, ToolDefinition>,
  ctx: Omit<ToolContext, 'actor'>,
  decider: Actor,
  approvalId: string,
  note?: string,
): Promise<DecisionResult> {
  const found = await approvalFor(ctx, decider, approvalId, 'approval.retry', { approvalId }, '`approvals list --failed`');
  if ('refused' in found) return found.refused;
  const { approval } = found;
  const conflict = await conflicted(ctx, catalogue, decider, approval, 'approval.retry', { approvalId });
  if (conflict) return conflict;
  const own = await ownRequest(ctx, catalogue, decider, approval, 'approval.retry', { approvalId });
  if (own) return own;
  const [claimed] = await ctx.db
    .update(approvals)
    .set({
      status: 'approved',
      decidedByUserId: decider.kind === 'system' ? null : decider.userId,
      decidedAt: ctx.now(),
      decisionNote: note ?? approval.decisionNote,
    })
    .where(and(eq(approvals.id, approvalId), eq(approvals.status, 'failed'), gt(approvals.expiresAt, ctx.now())))
    .returning();
  if (!claimed) {
    const [current] = await ctx.db.select().from(approvals).where(eq(approvals.id, approvalId));
    if (current!.status === 'failed') return { decided: false, reason: 'This approval has expired; ask for a new one.', status: 'expired' };
    return { decided: false, reason: `Only a failed approval can be retried; this one is ${current!.status}.`, status: current!.status };
  }
  await appendAudit(ctx.db, {
    tenantId: claimed.tenantId,
    actorKind: decider.kind,
    actorId: actorId(decider),
    action: 'approval.retry',
    tool: claimed.tool,
    args: { approvalId, previousError: failureReason(approval) },
    outcome: 'ok',
  });
  return { decided: true, ...(await execute(catalogue, ctx, claimed)) };
}

/**
 * The approval `approvalId`, when `decider` may decide it; otherwise why not (a malformed or
 * unknown id, or someone who may not decide it — that refusal audited as `action`).
 */
async function approvalFor(
  ctx: Omit<ToolContext, 'actor'>,
  decider: Actor,
  approvalId: string,
  action: 'approval.decide' | 'approval.retry',
  auditArgs: Record<string, unknown>,
  listedBy: string,
): Promise<{ approval: ApprovalRow } | { refused: DecisionResult }> {
  if (!approvalIdSchema.safeParse(approvalId).success)
    return {
      refused: {
        decided: false,
        reason: `No approval ${approvalId} (an approval id is a UUID such as 0b6c3f0e-…; ${listedBy} shows them).`,
      },
    };
  const [approval] = await ctx.db.select().from(approvals).where(eq(approvals.id, approvalId));
  if (!approval) return { refused: { decided: false, reason: `No approval ${approvalId}.` } };
  if (!mayDecide(decider, approval.approverDepartment)) {
    await appendAudit(ctx.db, {
      tenantId: approval.tenantId,
      actorKind: decider.kind,
      actorId: actorId(decider),
      action,
      tool: approval.tool,
      args: auditArgs,
      outcome: 'denied',
    });
    return { refused: { decided: false, reason: `Only the ${approval.approverDepartment} head or the CEO may decide this.` } };
  }
  return { approval };
}

/** Runs an approved action as the system on behalf of the requester (the decider is in the audit). */
async function execute(
  catalogue: ReadonlyMap<string, ToolDefinition>,
  ctx: Omit<ToolContext, 'actor'>,
  claimed: ApprovalRow,
): Promise<{ status: 'executed' | 'failed'; outcome: ToolOutcome }> {
  const outcome = await invokeTool(
    catalogue,
    {
      ...ctx,
      actor: { kind: 'system', name: `approval:${claimed.id}` },
      approval: { id: claimed.id, requestedByUserId: claimed.requestedByUserId },
    },
    claimed.tool,
    claimed.args,
    { approved: true },
  );
  const status = outcome.ok ? 'executed' : 'failed';
  await ctx.db
    .update(approvals)
    .set({
      status,
      executedAt: ctx.now(),
      result:
        outcome.ok && 'result' in outcome
          ? ((catalogue.get(claimed.tool)?.recordedResult?.(outcome.result) ?? outcome.result) as object)
          : { error: outcome.ok ? null : outcome.message },
    })
    .where(eq(approvals.id, claimed.id));
  return { status, outcome };
}
