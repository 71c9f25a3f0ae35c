import type { Mastra } from '@mastra/core';
import { createEmptyWorkflowSnapshot } from '@mastra/core/storage';
import type { WorkflowRunState } from '@mastra/core/workflows';
import { z } from 'zod';
import { PostgresWorkflowsStorage } from '../db/index.ts';
import { approvalStatuses, getApproval } from '../tools/index.ts';
import type { WorkflowDeps } from './deps.ts';

// Running workflows so that each run id does its work once, whatever crashes or how many
// workers there are:
// - `runOnce` claims a new run id atomically (one statement), so two workers starting the
//   same scheduled run id run it once; a finished run answers with its stored result.
// - `recoverInterruptedRuns` restarts runs whose process died mid-way (no snapshot written for
//   a while) from their last completed step; one worker claims each.
// - `resumeDueRuns` wakes suspended runs whose wait is over: a date passed (dunning follows
//   Stripe's retries) or an approval decided (incidents, live bots).

export interface RunOutcome<T = unknown> {
  readonly runId: string;
  readonly status: 'success' | 'failed' | 'suspended' | 'running' | 'canceled' | 'other';
  readonly result?: T | undefined;
  readonly error?: string | undefined;
  /** The suspended steps and what they wait for. */
  readonly waiting?: readonly { readonly step: string; readonly wake: Wake }[] | undefined;
}

/** What a suspended step waits for; every suspending step of ours suspends with `{ wake }`. */
export interface Wake {
  /** Resume at or after this instant (ISO). */
  readonly at?: string | undefined;
  /** Resume once this approval is decided (or expired). */
  readonly approvalId?: string | undefined;
  readonly reason?: string | undefined;
}

/** What resumeDueRuns hands a step it wakes (every suspending step's resumeSchema). */
export const wokenSchema = z.object({ wokenAt: z.string() });

/** A step waiting for a person's decision suspends with this (resumed once the approval is decided or expired). */
export const waitForApprovalSchema = z.object({ wake: z.object({ approvalId: z.string(), reason: z.string() }) });

/** Steps of ours that suspend, and their wake condition. */
function waitingSteps(snapshot: WorkflowRunState | { context?: Record<string, unknown> }): { step: string; wake: Wake }[] {
  const out: { step: string; wake: Wake }[] = [];
  for (const [step, value] of Object.entries(snapshot.context ?? {})) {
    const result = value as { status?: string; suspendPayload?: { wake?: Wake } };
    if (result?.status === 'suspended') out.push({ step, wake: result.suspendPayload?.wake ?? {} });
  }
  return out;
}

function outcomeOf<T>(
  runId: string,
  result: { status: string; result?: unknown; error?: unknown; steps?: Record<string, unknown> },
): RunOutcome<T> {
  switch (result.status) {
    case 'success':
      return { runId, status: 'success', result: result.result as T };
    case 'failed':
      return {
        runId,
        status: 'failed',
        error:
          result.error instanceof Error ? result.error.message : String((result.error as { message?: string })?.message ?? result.error),
      };
    case 'suspended':
      return { runId, status: 'suspended', waiting: waitingSteps({ context: result.steps ?? {} }) };
    case 'canceled':
      return { runId, status: 'canceled' };
    default:
      return { runId, status: 'other' };
  }
}

async function workflowStore(mastra: Mastra): Promise<PostgresWorkflowsStorage | undefined> {
  const store = await mastra.getStorage()?.getStore('workflows');
  return store instanceof PostgresWorkflowsStorage ? store : undefined;
}

/**
 * Runs `workflowId` under `runId` at most once. A new run id is claimed and started; a
 * finished one answers with its stored result; a suspended one stays suspended (see
 * `resumeDueRuns`); one still running elsewhere is left alone ('running'); one left behind
 * by a dead process is restarted from its last step.
 */
export async function runOnce<T = unknown>(
  mastra: Mastra,
  workflowId: string,
  options: { runId: string; resourceId?: string | undefined; inputData: unknown; staleAfterMs?: number },
): Promise<RunOutcome<T>> {
  const { runId, resourceId, inputData } = options;
  const store = await workflowStore(mastra);
  const workflow = mastra.getWorkflow(workflowId);
  if (store) {
    const first = { ...createEmptyWorkflowSnapshot(runId), context: { input: inputData } } as unknown as WorkflowRunState;
    if (await store.claimNewRun({ workflowName: workflowId, runId, ...(resourceId ? { resourceId } : {}), snapshot: first })) {
      const run = await workflow.createRun({ runId, ...(resourceId ? { resourceId } : {}) });
      return outcomeOf<T>(runId, await run.start({ inputData: inputData as never }));
    }
  }
  const existing = await (await mastra.getStorage()?.getStore('workflows'))?.loadWorkflowSnapshot({ workflowName: workflowId, runId });
  const run = await workflow.createRun({ runId, ...(resourceId ? { resourceId } : {}) });
  if (!existing) return outcomeOf<T>(runId, await run.start({ inputData: inputData as never }));
  if (existing.status === 'suspended') return { runId, status: 'suspended', waiting: waitingSteps(existing) };
  if (existing.status === 'success' || existing.status === 'failed') return outcomeOf<T>(runId, await run.restart());
  // Pending or running: another process may be on it right now. Take it over only if stale.
  const recovered = await recoverRun<T>(mastra, workflowId, runId, options.staleAfterMs ?? DEFAULT_STALE_MS);
  return recovered ?? { runId, status: 'running' };
}

/**
 * How long a run may go without writing its snapshot before it counts as abandoned. Steps
 * write after each step; the longest step is a model call (OLLAMA_TIMEOUT_MS) or a backtest.
 */
export const DEFAULT_STALE_MS = 10 * 60_000;

/** Restarts one abandoned run if this caller wins the claim; undefined when it did not. */
async function recoverRun<T>(mastra: Mastra, workflowId: string, runId: string, staleAfterMs: number): Promise<RunOutcome<T> | undefined> {
  const store = await workflowStore(mastra);
  const snapshot = await (await mastra.getStorage()?.getStore('workflows'))?.loadWorkflowSnapshot({ workflowName: workflowId, runId });
  if (!snapshot) return undefined;
  if (
    store &&
    !(await store.claimStaleRun({
      workflowName: workflowId,
      runId,
      updatedBefore: new Date(Date.now() - staleAfterMs),
      statuses: ['pending', 'running'],
    }))
  )
    return undefined;
  // Claimed for a resume by a process that died before the resumed step finished: suspended
  // again, so that `resumeDueRuns` wakes it as before.
  const waiting = waitingSteps(snapshot);
  if (waiting.length > 0) {
    await (await mastra.getStorage()?.getStore('workflows'))?.updateWorkflowState({
      workflowName: workflowId,
      runId,
      opts: { status: 'suspended', expectedStatus: 'running' },
    });
    return { runId, status: 'suspended', waiting };
  }
  const run = await mastra.getWorkflow(workflowId).createRun({ runId });
  // Claimed but never started: start it with the input kept in the claim.
  const started = Object.keys(snapshot.context ?? {}).some((key) => key !== 'input');
  if (snapshot.status === 'pending' && !started) {
    const input = (snapshot.context as { input?: unknown }).input;
    // A run created but never started outside runOnce has no input to start it with.
    if (input === undefined) return undefined;
    return outcomeOf<T>(runId, await run.start({ inputData: input as never }));
  }
  return outcomeOf<T>(runId, await run.restart());
}

/**
 * Restarts every run of `workflowIds` left pending or running by a process that died (no
 * snapshot written for `staleAfterMs`), each from its last completed step. Safe to call from
 * every worker at start and on a schedule: one worker claims each run.
 */
export async function recoverInterruptedRuns(
  mastra: Mastra,
  workflowIds: readonly string[],
  options: { staleAfterMs?: number } = {},
): Promise<RunOutcome[]> {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_MS;
  const store = await mastra.getStorage()?.getStore('workflows');
  if (!store) return [];
  const outcomes: RunOutcome[] = [];
  for (const workflowId of workflowIds) {
    const runs = [
      ...(await store.listWorkflowRuns({ workflowName: workflowId, status: 'running' })).runs,
      ...(await store.listWorkflowRuns({ workflowName: workflowId, status: 'pending' })).runs,
    ];
    for (const run of runs) {
      if (run.updatedAt.getTime() > Date.now() - staleAfterMs) continue;
      const outcome = await recoverRun(mastra, workflowId, run.runId, staleAfterMs).catch((error: Error) => ({
        runId: run.runId,
        status: 'failed' as const,
        error: error.message,
      }));
      if (outcome) outcomes.push(outcome);
    }
  }
  return outcomes;
}

/**
 * Resumes suspended runs of `workflowIds` whose wait is over: the date they wait for has
 * passed, or the approval they wait for is no longer pending (decided, or expired). Mastra
 * lets exactly one caller resume a suspension, so every worker may call this.
 */
export async function resumeDueRuns(
  mastra: Mastra,
  deps: Pick<WorkflowDeps, 'db' | 'now' | 'logger'>,
  workflowIds: readonly string[],
): Promise<RunOutcome[]> {
  const store = await mastra.getStorage()?.getStore('workflows');
  if (!store) return [];
  const now = deps.now();
  const due: { workflowId: string; runId: string; step: string; wake: Wake }[] = [];
  for (const workflowId of workflowIds) {
    for (const run of (await store.listWorkflowRuns({ workflowName: workflowId, status: 'suspended' })).runs) {
      for (const waiting of waitingSteps(run.snapshot as WorkflowRunState)) due.push({ workflowId, runId: run.runId, ...waiting });
    }
  }
  const approvalIds = [...new Set(due.map((d) => d.wake.approvalId).filter((id): id is string => Boolean(id)))];
  const decided = new Set<string>();
  if (approvalIds.length > 0) {
    for (const row of await approvalStatuses(deps.db, approvalIds)) {
      if (row.status !== 'pending' && row.status !== 'approved') decided.add(row.id);
      else if (row.status === 'pending' && row.expiresAt <= now) decided.add(row.id);
    }
  }
  const outcomes: RunOutcome[] = [];
  for (const item of due) {
    const byTime = item.wake.at !== undefined && new Date(item.wake.at) <= now;
    const byApproval = item.wake.approvalId !== undefined && decided.has(item.wake.approvalId);
    if (!byTime && !byApproval) continue;
    try {
      const run = await mastra.getWorkflow(item.workflowId).createRun({ runId: item.runId });
      // Mastra's engine skips writing 'running' snapshots of a run it saw suspend itself; a run
      // resumed by the process that suspended it would then keep no progress until it ends.
      // Forget that, so a resumed run is written step by step as in any other process.
      (run.executionEngine as { clearLastPersistedStatus?: (runId: string) => void }).clearLastPersistedStatus?.(item.runId);
      outcomes.push(
        outcomeOf(
          item.runId,
          await run.resume({ step: item.step, resumeData: { wokenAt: now.toISOString() } satisfies z.infer<typeof wokenSchema> as never }),
        ),
      );
    } catch (error) {
      // Another worker resumed it first, or it moved on: nothing to do here.
      deps.logger.debug({ workflowId: item.workflowId, runId: item.runId, error: (error as Error).message }, 'workflow run not resumed');
    }
  }
  return outcomes;
}

/**
 * What a workflow waiting on an approval does next: wait (nobody decided yet, or it was approved
 * and the tool has not run), or go on with how it ended (executed counts as approved).
 */
export async function approvalOutcome(
  deps: Pick<WorkflowDeps, 'db' | 'now'>,
  approvalId: string,
): Promise<'wait' | 'approved' | 'rejected' | 'expired' | 'failed'> {
  const { status } = await approvalState(deps, approvalId);
  if (status === 'pending' || status === 'approved') return 'wait';
  if (status === 'executed') return 'approved';
  if (status === 'rejected' || status === 'expired') return status;
  return 'failed';
}

/** Whether an approval has been decided, and how (pending while nobody has). */
export async function approvalState(
  deps: Pick<WorkflowDeps, 'db' | 'now'>,
  approvalId: string,
): Promise<{ status: string; result: unknown }> {
  const row = await getApproval(deps.db, approvalId);
  if (!row) return { status: 'missing', result: null };
  if (row.status === 'pending' && row.expiresAt <= deps.now()) return { status: 'expired', result: null };
  return { status: row.status, result: row.result };
}
