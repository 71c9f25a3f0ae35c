import { appendAudit } from '../audit/index.ts';
import { isProductError, type ErrorCategory } from '../errors/index.ts';
import { approvals } from '../db/index.ts';
import { validatedResult } from './immutable-results.ts';
import { mayCall } from './policy.ts';
import { ToolRefusal } from './scope.ts';
import type { ToolName } from './catalogue/index.ts';
import type { Actor, ToolContext, ToolDefinition } from './types.ts';

export type ToolOutcome =
  | { readonly ok: true; readonly tool: string; readonly result: unknown; readonly durationMs: number }
  | {
      readonly ok: true;
      readonly tool: string;
      readonly pendingApproval: {
        readonly id: string;
        readonly summary: string;
        readonly approverDepartment: string;
        readonly args: unknown;
      };
      readonly message: string;
      readonly durationMs: number;
    }
  | {
      readonly ok: false;
      readonly tool: string;
      readonly error: 'unknown_tool' | 'forbidden' | 'invalid_arguments' | 'not_found' | 'unavailable' | 'failed';
      readonly message: string;
      /** `failed` on a product error (a plan limit: BotControlError's `conflict`): its category, for a door's status. */
      readonly category?: ErrorCategory;
      readonly durationMs: number;
    };

/**
 * A tool name as the audit log keeps it: a name a model made up may hold control characters,
 * path tricks or a megabyte of text; it is kept escaped (JSON string escapes) and cut to 100
 * characters, so it is readable, storable and never ends the turn.
 */
export function toolNameForAudit(name: string): string {
  const escaped = JSON.stringify(String(name)).slice(1, -1);
  return escaped.length <= 100 ? escaped || '(empty)' : `${escaped.slice(0, 99)}…`;
}

export function actorId(actor: Actor): string {
  return actor.kind === 'system' ? `system:${actor.name}` : actor.userId;
}

/**
 * A tool name as `invokeTool` takes it: a name written in the code (a literal type) must be
 * one of the catalogue's, so a misspelt tool does not compile; a name known only at run time
 * (`string`: a model's choice, a stored approval, a door's input) is checked by the call.
 */
export type KnownToolName<N extends string> = string extends N ? string : ToolName;

/**
 * The only way anything calls a tool: look it up, check the policy, validate the arguments,
 * turn side effects into approvals, run it with a validated result, and audit every outcome.
 */
export async function invokeTool<N extends string>(
  catalogue: ReadonlyMap<string, ToolDefinition>,
  ctx: ToolContext,
  name: N & KnownToolName<N>,
  rawArgs: unknown,
  options: { approved?: boolean } = {},
): Promise<ToolOutcome> {
  const started = performance.now();
  const tool = catalogue.get(name);
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  const audit = (
    outcome: 'ok' | 'denied' | 'error' | 'pending_approval',
    extra: { result?: unknown; details?: unknown; tenantId?: string | null } = {},
  ) =>
    appendAudit(ctx.db, {
      tenantId: extra.tenantId ?? (ctx.actor.kind === 'system' ? null : ctx.actor.tenantId),
      actorKind: ctx.actor.kind,
      actorId: actorId(ctx.actor),
      agent: ctx.agent ?? null,
      action: 'tool.call',
      tool: toolNameForAudit(name),
      args: (tool?.auditedArgs ? tool.auditedArgs(rawArgs ?? null, outcome) : rawArgs) ?? null,
      outcome,
      ...(extra.result === undefined ? {} : { result: extra.result }),
      durationMs: Math.round(elapsed()),
      ...(extra.details === undefined ? {} : { details: extra.details }),
    });

  if (!tool) {
    await audit('denied', { details: { reason: 'unknown tool' } });
    return {
      ok: false,
      tool: name,
      error: 'unknown_tool',
      message: `There is no tool called ${toolNameForAudit(name)}.`,
      durationMs: elapsed(),
    };
  }
  const permission = mayCall(ctx.actor, name);
  if (!permission.allowed) {
    await audit('denied', { details: { reason: permission.reason } });
    return { ok: false, tool: name, error: 'forbidden', message: `Not allowed: ${permission.reason}.`, durationMs: elapsed() };
  }
  const parsed = tool.input.safeParse(rawArgs ?? {});
  if (!parsed.success) {
    const message = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'arguments'}: ${issue.message}`).join('; ');
    await audit('error', { details: { reason: 'invalid arguments', message } });
    return {
      ok: false,
      tool: name,
      error: 'invalid_arguments',
      message: `Invalid arguments for ${name}: ${message}`,
      durationMs: elapsed(),
    };
  }
  try {
    if (!options.approved && (tool.effect === 'approval' || (await tool.needsApproval?.(ctx, parsed.data)))) {
      const tenantId = tool.tenantOf ? await tool.tenantOf(ctx, parsed.data) : ctx.actor.kind === 'system' ? null : ctx.actor.tenantId;
      if (!tenantId) throw new ToolRefusal('not_found', 'No account to act on.');
      // An action that cannot run as things stand is refused now, not found out after someone approved it.
      const blocked = (await tool.explain?.(ctx, parsed.data))?.blocked;
      if (blocked) throw new ToolRefusal('unavailable', blocked);
      const summary = tool.summarize?.(parsed.data, 'en') ?? name;
      const [row] = await ctx.db
        .insert(approvals)
        .values({
          tenantId,
          requestedByUserId: ctx.actor.kind === 'system' ? null : ctx.actor.userId,
          agent: ctx.agent ?? null,
          tool: name,
          args: parsed.data as Record<string, unknown>,
          summary,
          approverDepartment: tool.approverDepartment ?? 'ceo',
          expiresAt: new Date(ctx.now().getTime() + 48 * 3_600_000),
        })
        .returning({ id: approvals.id });
      await audit('pending_approval', { tenantId, details: { approvalId: row!.id } });
      const approver = tool.approverDepartment ?? 'ceo';
      return {
        ok: true,
        tool: name,
        pendingApproval: { id: row!.id, summary, approverDepartment: approver, args: parsed.data },
        message: `Awaiting approval by the ${approver} head or the CEO (approval ${row!.id}): ${summary}.`,
        durationMs: elapsed(),
      };
    }
    const result = validatedResult(tool.output, await tool.execute(ctx, parsed.data));
    await audit('ok', {
      result,
      ...(ctx.liveTradingConfirmed && tool.needsApproval ? { details: { liveTradingConfirmedBy: 'the person themselves' } } : {}),
    });
    return { ok: true, tool: name, result, durationMs: elapsed() };
  } catch (error) {
    if (error instanceof ToolRefusal) {
      await audit('denied', { details: { reason: error.auditReason ?? error.message } });
      return { ok: false, tool: name, error: error.code, message: error.message, durationMs: elapsed() };
    }
    const message = (error as Error).message;
    await audit('error', { details: { error: message } });
    return {
      ok: false,
      tool: name,
      error: 'failed',
      message: `${name} failed: ${message}`,
      ...(isProductError(error) ? { category: error.category } : {}),
      durationMs: elapsed(),
    };
  }
}

/**
 * Audits what an agent decided outside a tool call (a delegation to another agent, an answer
 * replaced because it stated figures no tool produced), under the same actor.
 */
export async function auditAgentEvent(
  ctx: ToolContext,
  action: 'agent.delegate' | 'agent.ungrounded_answer' | 'agent.unknown_tool' | 'agent.rejected_answer' | 'agent.repeated_call',
  details: Record<string, unknown>,
  outcome: 'ok' | 'denied' = 'ok',
): Promise<void> {
  await appendAudit(ctx.db, {
    tenantId: ctx.actor.kind === 'system' ? null : ctx.actor.tenantId,
    actorKind: ctx.actor.kind,
    actorId: actorId(ctx.actor),
    agent: ctx.agent ?? null,
    action,
    outcome,
    details,
  });
}
