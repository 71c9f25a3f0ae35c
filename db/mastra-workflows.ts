import type { StepResult, WorkflowRunState } from '@mastra/core/workflows';
import {
  WorkflowsStorage,
  createEmptyWorkflowSnapshot,
  matchesExpectedWorkflowStatus,
  mergeWorkflowStepResult,
  normalizePerPage,
  type StorageListWorkflowRunsInput,
  type UpdateWorkflowStateOptions,
  type WorkflowRun,
  type WorkflowRuns,
} from '@mastra/core/storage';
import { and, desc, eq, gte, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { Database } from './client.ts';
import { mastraWorkflowSnapshots } from './schema/index.ts';

/** A step's result of any workflow, as Mastra's storage interface declares it. */
// biome-ignore lint/suspicious/noExplicitAny: Mastra's storage interface declares step results with `any`; the override matches it
type AnyStepResult = StepResult<any, any, any, any>;

type SnapshotRow = typeof mastraWorkflowSnapshots.$inferSelect;

/**
 * The workflows Mastra runs inside every `agent.generate` (its agentic loop). Mastra saves a
 * "pending" snapshot of each at the start of a turn and deletes both at the end, only so that
 * a tool call suspended for Mastra's own tool approval could be resumed; our agents never
 * suspend (approvals are the tool layer's, in our own table), so these snapshots live in this
 * process's memory instead of costing five statements a turn. Names as in @mastra/core's
 * loop/workflows (not exported).
 */
const TURN_SCOPED_WORKFLOWS: ReadonlySet<string> = new Set(['agentic-loop', 'executionWorkflow']);
/** Turn-scoped snapshots kept at most (a turn cut short never deletes its own; the oldest go first). */
const TURN_SCOPED_MAX = 1_000;
const turnKey = (workflowName: string, runId: string) => `${workflowName}\u0000${runId}`;

const toRun = (row: SnapshotRow): WorkflowRun => ({
  workflowName: row.workflowName,
  runId: row.runId,
  snapshot: row.snapshot as WorkflowRunState,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  ...(row.resourceId === null ? {} : { resourceId: row.resourceId }),
});

/**
 * Mastra's workflow snapshots in the company's own database (PGlite or a PostgreSQL server,
 * through drizzle), table `mastra_workflow_snapshots`: a run's state after every step, so a
 * run cut short by a crash is restarted from its last completed step by any process.
 *
 * Concurrent updates are safe across processes: a step result or a state change is merged
 * into the stored snapshot inside one transaction that holds the row lock (`for update`), so
 * two parallel steps, or two processes resuming the same run, never lose each other's writes,
 * and `expectedStatus` is a true compare-and-set (Mastra relies on it to let only one caller
 * resume a suspended run).
 */
export class PostgresWorkflowsStorage extends WorkflowsStorage {
  readonly #db: Database;
  /** Snapshots of the agent loop's own workflows, by workflow name and run id (see TURN_SCOPED_WORKFLOWS). */
  readonly #turnScoped = new Map<string, WorkflowRun & { snapshot: WorkflowRunState }>();

  constructor(db: Database) {
    super();
    this.#db = db;
  }

  supportsConcurrentUpdates(): boolean {
    return true;
  }

  async dangerouslyClearAll(): Promise<void> {
    await this.#db.delete(mastraWorkflowSnapshots);
  }

  /** Loads the run's snapshot under a row lock, lets `change` rewrite it, and stores it. */
  async #locked<T>(
    workflowName: string,
    runId: string,
    change: (snapshot: WorkflowRunState) => { snapshot?: WorkflowRunState; value: T },
    missing: T,
  ): Promise<T> {
    if (TURN_SCOPED_WORKFLOWS.has(workflowName)) {
      const run = this.#turnScoped.get(turnKey(workflowName, runId));
      if (!run) return missing;
      const { snapshot, value } = change(run.snapshot);
      if (snapshot) this.#turnScoped.set(turnKey(workflowName, runId), { ...run, snapshot, updatedAt: new Date() });
      return value;
    }
    return this.#db.transaction(async (tx) => {
      const key = and(eq(mastraWorkflowSnapshots.workflowName, workflowName), eq(mastraWorkflowSnapshots.runId, runId));
      const [row] = await tx.select({ snapshot: mastraWorkflowSnapshots.snapshot }).from(mastraWorkflowSnapshots).where(key).for('update');
      if (!row) return missing;
      const current = (row.snapshot as WorkflowRunState | null) ?? createEmptyWorkflowSnapshot(runId);
      if (!current.context) throw new Error(`Snapshot not found for runId ${runId}`);
      const { snapshot, value } = change(current);
      if (snapshot) await tx.update(mastraWorkflowSnapshots).set({ snapshot, updatedAt: new Date() }).where(key);
      return value;
    });
  }

  async updateWorkflowResults({
    workflowName,
    runId,
    stepId,
    result,
    requestContext,
  }: {
    workflowName: string;
    runId: string;
    stepId: string;
    result: AnyStepResult;
    requestContext: Record<string, unknown>;
  }): Promise<Record<string, AnyStepResult>> {
    return this.#locked(
      workflowName,
      runId,
      (snapshot) => {
        // Merges in place (foreach outputs element by element) and returns a copy of the context.
        const context = mergeWorkflowStepResult({ snapshot, stepId, result, requestContext });
        return { snapshot, value: context };
      },
      {},
    );
  }

  async updateWorkflowState({
    workflowName,
    runId,
    opts,
  }: {
    workflowName: string;
    runId: string;
    opts: UpdateWorkflowStateOptions;
  }): Promise<WorkflowRunState | undefined> {
    const { expectedStatus, ...state } = opts;
    return this.#locked<WorkflowRunState | undefined>(
      workflowName,
      runId,
      (snapshot) => {
        if (!matchesExpectedWorkflowStatus(snapshot.status, expectedStatus)) return { value: undefined };
        const next = { ...snapshot, ...state } as WorkflowRunState;
        return { snapshot: next, value: next };
      },
      undefined,
    );
  }

  async persistWorkflowSnapshot({
    workflowName,
    runId,
    resourceId,
    snapshot,
    createdAt,
    updatedAt,
  }: {
    workflowName: string;
    runId: string;
    resourceId?: string;
    snapshot: WorkflowRunState;
    createdAt?: Date;
    updatedAt?: Date;
  }): Promise<void> {
    const now = new Date();
    if (TURN_SCOPED_WORKFLOWS.has(workflowName)) {
      const key = turnKey(workflowName, runId);
      const earlier = this.#turnScoped.get(key);
      this.#turnScoped.delete(key);
      this.#turnScoped.set(key, {
        workflowName,
        runId,
        snapshot,
        createdAt: createdAt ?? earlier?.createdAt ?? now,
        updatedAt: updatedAt ?? now,
        ...((resourceId ?? earlier?.resourceId) === undefined ? {} : { resourceId: resourceId ?? earlier?.resourceId }),
      });
      if (this.#turnScoped.size > TURN_SCOPED_MAX) this.#turnScoped.delete(this.#turnScoped.keys().next().value!);
      return;
    }
    const t = mastraWorkflowSnapshots;
    await this.#db
      .insert(t)
      .values({ workflowName, runId, resourceId: resourceId ?? null, snapshot, createdAt: createdAt ?? now, updatedAt: updatedAt ?? now })
      .onConflictDoUpdate({
        target: [t.workflowName, t.runId],
        set: {
          snapshot: sql`excluded.snapshot`,
          resourceId: sql`coalesce(excluded.resource_id, ${t.resourceId})`,
          // The first save's creation time stays unless the caller names another.
          ...(createdAt ? { createdAt: sql`excluded.created_at` } : {}),
          updatedAt: sql`excluded.updated_at`,
        },
      });
  }

  /**
   * Creates a run's first snapshot unless the run already exists, in one statement: of several
   * processes starting the same run id at once, exactly one gets true and runs it.
   */
  async claimNewRun({
    workflowName,
    runId,
    resourceId,
    snapshot,
  }: {
    workflowName: string;
    runId: string;
    resourceId?: string;
    snapshot: WorkflowRunState;
  }): Promise<boolean> {
    const now = new Date();
    const rows = await this.#db
      .insert(mastraWorkflowSnapshots)
      .values({ workflowName, runId, resourceId: resourceId ?? null, snapshot, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .returning({ runId: mastraWorkflowSnapshots.runId });
    return rows.length > 0;
  }

  /**
   * Takes over a run in one of `statuses` that nobody has written since `updatedBefore` (its
   * process died): the first caller bumps its update time and gets true; the others, and any
   * run still being written, get false.
   */
  async claimStaleRun({
    workflowName,
    runId,
    updatedBefore,
    statuses,
  }: {
    workflowName: string;
    runId: string;
    updatedBefore: Date;
    statuses: readonly string[];
  }): Promise<boolean> {
    const t = mastraWorkflowSnapshots;
    const rows = await this.#db
      .update(t)
      .set({ updatedAt: new Date() })
      .where(
        and(
          eq(t.workflowName, workflowName),
          eq(t.runId, runId),
          lt(t.updatedAt, updatedBefore),
          inArray(sql<string>`${t.snapshot} ->> 'status'`, [...statuses]),
        ),
      )
      .returning({ runId: t.runId });
    return rows.length > 0;
  }

  async loadWorkflowSnapshot({ workflowName, runId }: { workflowName: string; runId: string }): Promise<WorkflowRunState | null> {
    if (TURN_SCOPED_WORKFLOWS.has(workflowName)) return this.#turnScoped.get(turnKey(workflowName, runId))?.snapshot ?? null;
    const [row] = await this.#db
      .select({ snapshot: mastraWorkflowSnapshots.snapshot })
      .from(mastraWorkflowSnapshots)
      .where(and(eq(mastraWorkflowSnapshots.workflowName, workflowName), eq(mastraWorkflowSnapshots.runId, runId)));
    return (row?.snapshot as WorkflowRunState | null | undefined) ?? null;
  }

  async listWorkflowRuns(args: StorageListWorkflowRunsInput = {}): Promise<WorkflowRuns> {
    const { workflowName, fromDate, toDate, perPage, page, resourceId, threadId, status } = args;
    if (page !== undefined && page < 0) throw new Error('page must be >= 0');
    const t = mastraWorkflowSnapshots;
    const conditions: SQL[] = [];
    if (workflowName) conditions.push(eq(t.workflowName, workflowName));
    if (status) conditions.push(sql`${t.snapshot} ->> 'status' = ${status}`);
    if (fromDate) conditions.push(gte(t.createdAt, fromDate));
    if (toDate) conditions.push(lte(t.createdAt, toDate));
    if (resourceId) conditions.push(eq(t.resourceId, resourceId));
    if (threadId) {
      // The two places Mastra keeps a run's thread (see getSnapshotMemoryInfo).
      conditions.push(sql`(
        ${t.snapshot} #>> '{context,input,messageListState,memoryInfo,threadId}' = ${threadId}
        or exists (select 1 from jsonb_each(case when jsonb_typeof(${t.snapshot} -> 'context') = 'object' then ${t.snapshot} -> 'context' else '{}'::jsonb end) step
                   where step.value ->> 'status' = 'suspended'
                     and step.value #>> '{suspendPayload,__streamState,messageList,memoryInfo,threadId}' = ${threadId}))`);
    }
    const where = conditions.length > 0 ? and(...conditions) : undefined;
    const paged = perPage !== undefined && page !== undefined;
    const size = paged ? normalizePerPage(perPage, Number.MAX_SAFE_INTEGER) : undefined;
    if (size === 0) return { runs: [], total: await this.#db.$count(t, where) };
    // The page and the total in one query (the window count sees every matching row).
    const rows = await this.#db
      .select({ row: t, total: sql<number>`count(*) over ()`.mapWith(Number) })
      .from(t)
      .where(where)
      .orderBy(desc(t.createdAt), desc(t.runId))
      .limit(size ?? Number.MAX_SAFE_INTEGER)
      .offset(paged ? page * size! : 0);
    const total = rows[0]?.total ?? (paged && page > 0 ? await this.#db.$count(t, where) : 0);
    return { runs: rows.map((r) => toRun(r.row)), total };
  }

  async getWorkflowRunById({ runId, workflowName }: { runId: string; workflowName?: string }): Promise<WorkflowRun | null> {
    if (workflowName && TURN_SCOPED_WORKFLOWS.has(workflowName)) return this.#turnScoped.get(turnKey(workflowName, runId)) ?? null;
    const t = mastraWorkflowSnapshots;
    const [row] = await this.#db
      .select()
      .from(t)
      .where(and(eq(t.runId, runId), workflowName ? eq(t.workflowName, workflowName) : undefined))
      .orderBy(desc(t.createdAt))
      .limit(1);
    return row ? toRun(row) : null;
  }

  async deleteWorkflowRunById({ runId, workflowName }: { runId: string; workflowName: string }): Promise<void> {
    if (TURN_SCOPED_WORKFLOWS.has(workflowName)) {
      this.#turnScoped.delete(turnKey(workflowName, runId));
      return;
    }
    await this.#db
      .delete(mastraWorkflowSnapshots)
      .where(and(eq(mastraWorkflowSnapshots.workflowName, workflowName), eq(mastraWorkflowSnapshots.runId, runId)));
  }
}
