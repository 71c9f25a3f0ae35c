import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import type { Mastra } from '@mastra/core';
import type { WorkflowRunState } from '@mastra/core/workflows';
import { and, eq } from 'drizzle-orm';
import { ModelGateway } from '../../agents/index.ts';
import { BillingService } from '../../billing/index.ts';
import { mastraWorkflowSnapshots, type Database } from '../../db/index.ts';
import { seedDemoCompany } from '../../demo/index.ts';
import { createMastra } from '../../mastra.config.ts';
import { createLogger, createMetrics, type Metrics } from '../../observability/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import { actorForEmail, ceoEmail, type Actor, type ToolContext } from '../../tools/index.ts';

// A demo company and the runtime the workflows run in, for the workflow tests: Mastra with
// the agents, the workflows and our storage; the model on a scripted Ollama server (or none).

export const DEMO_AS_OF = new Date('2026-11-01T00:00:00Z');
/** The instant the tests run at: noon of the demo's day. */
export const NOW = new Date('2026-11-01T12:00:00Z');

export const silentLogger = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);

export async function seedDemo(db: Database, traders = 40): Promise<void> {
  await seedDemoCompany(db, { secretBox: createSecretBox(crypto.randomBytes(32)), asOf: DEMO_AS_OF, traders });
}

export interface WorkflowRuntime {
  readonly mastra: Mastra;
  readonly gateway: ModelGateway;
  readonly metrics: Metrics;
  readonly billing: BillingService;
  /** A tool context as `actor`, at NOW. */
  ctxFor(actor: Actor): ToolContext;
}

/** A fresh Mastra instance over `db` (as a restarted process would build it). */
export function workflowRuntime(db: Database, options: { ollamaUrl?: string; now?: () => Date; timeoutMs?: number } = {}): WorkflowRuntime {
  // Port 9 (discard) refuses connections: the model is "down" unless a scripted server is given.
  const gateway = new ModelGateway({
    host: options.ollamaUrl ?? 'http://127.0.0.1:9',
    model: 'qwen3:0.6b',
    agentModels: {},
    timeoutMs: options.timeoutMs ?? 2_000,
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const billing = new BillingService(db, undefined);
  const now = options.now ?? (() => NOW);
  const mastra = createMastra({ db, gateway, logger: silentLogger, metrics, billing, now });
  return { mastra, gateway, metrics, billing, ctxFor: (actor) => ({ db, actor, billing, now }) };
}

export async function ceoActor(db: Database): Promise<Actor> {
  return (await actorForEmail(db, (await ceoEmail(db))!))!;
}

/**
 * Records every snapshot the run persists (deep copies), so a test can put one back: what a
 * process killed right after a step's side effect, before its snapshot was written, leaves.
 */
export async function recordSnapshots(mastra: Mastra): Promise<{ runId: string; snapshot: WorkflowRunState }[]> {
  const store = (await mastra.getStorage()!.getStore('workflows'))!;
  const recorded: { runId: string; snapshot: WorkflowRunState }[] = [];
  const persist = store.persistWorkflowSnapshot.bind(store);
  store.persistWorkflowSnapshot = async (args) => {
    recorded.push({ runId: args.runId, snapshot: structuredClone(args.snapshot) });
    return persist(args);
  };
  return recorded;
}

/** Puts back the last snapshot of `runId` taken before `step` had finished, as a crash would have left it. */
export async function rewindBefore(
  db: Database,
  recorded: readonly { runId: string; snapshot: WorkflowRunState }[],
  workflowName: string,
  runId: string,
  step: string,
): Promise<void> {
  const before = recorded
    .filter((r) => r.runId === runId && (r.snapshot.context as Record<string, { status?: string }>)[step]?.status !== 'success')
    .at(-1);
  if (!before) throw new Error(`no snapshot of ${runId} before ${step}`);
  await db
    .update(mastraWorkflowSnapshots)
    .set({ snapshot: { ...before.snapshot, status: 'running' }, updatedAt: new Date(Date.now() - 3_600_000) })
    .where(and(eq(mastraWorkflowSnapshots.workflowName, workflowName), eq(mastraWorkflowSnapshots.runId, runId)));
}
