import type { ModelGateway } from '../agents/index.ts';
import type { BillingService } from '../billing/index.ts';
import type { Database } from '../db/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { Actor, ToolContext } from '../tools/index.ts';
import type { MarketDataSource } from '../trading/index.ts';

/** What the workflows act through; `createMastra` hands them these when it builds them. */
export interface WorkflowDeps {
  readonly db: Database;
  readonly billing: BillingService;
  readonly gateway: ModelGateway;
  readonly logger: Logger;
  readonly metrics?: Metrics | undefined;
  /** The clock (tests pin it). */
  readonly now: () => Date;
  /** Where backtests fetch missing candles; only the candle cache without it. */
  readonly marketData?: MarketDataSource | undefined;
  /** Configured secret values, never to appear in a model-written text. */
  readonly secrets?: readonly string[] | undefined;
}

/** The actor a workflow acts as: the system, named after the workflow (it shows in the audit log). */
export function workflowActor(workflowId: string): Actor {
  return { kind: 'system', name: `workflow:${workflowId}` };
}

/**
 * The tool layer's context for a workflow step. Tools run through `invokeTool` like any agent's
 * call: validated, audited, and `approval` tools turned into pending approvals.
 */
export function toolContext(deps: WorkflowDeps, workflowId: string, at: Date = deps.now()): ToolContext {
  return { db: deps.db, actor: workflowActor(workflowId), billing: deps.billing, now: () => at, marketData: deps.marketData };
}
