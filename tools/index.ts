import { CATALOGUE } from './catalogue/index.ts';
import type { ToolDefinition } from './types.ts';

/** Every tool by name: the typed, audited, permission-checked surface agents act through. */
export const TOOLS: ReadonlyMap<string, ToolDefinition> = new Map(CATALOGUE.map((tool) => [tool.name, tool]));

export { TOOL_NAMES, isToolName, type ToolName } from './catalogue/index.ts';

/**
 * Whether a tool changes something or asks for an approval (effect `write` or `approval`);
 * false for reads and for names that are no tool. The one test every layer uses.
 */
export function changesSomething(tool: string): boolean {
  const effect = TOOLS.get(tool)?.effect;
  return effect !== undefined && effect !== 'read';
}

export {
  announcedApprovalKeys,
  approvalFacts,
  approvalStatuses,
  approvalSummary,
  decideApproval,
  deliveredApprovalRequests,
  failureReason,
  findApprovalFor,
  findFreezeRequest,
  FOUR_EYES_SETTING,
  fourEyesApplies,
  getApproval,
  listFailedApprovals,
  listPendingApprovals,
  pendingApprovalsAt,
  pendingApprovalsFor,
  requestApproval,
  retryApproval,
  type ApprovalRow,
  type DecisionResult,
} from './approvals.ts';
export { actorId, auditAgentEvent, invokeTool, toolNameForAudit, type ToolOutcome } from './invoke.ts';
export { resultJson } from './immutable-results.ts';
export { TOOL_POLICY, mayCall, mayDecide } from './policy.ts';
export { approvalsChangedAfter, type ApprovalChange } from './approval-feed.ts';
export { ToolRefusal, traderScope } from './scope.ts';
export {
  defineTool,
  type Actor,
  type ApprovalFacts,
  type ToolContext,
  type ToolAccess,
  type ToolDefinition,
  type OperationsAccess,
  type ToolEffect,
  type TradingAccess,
} from './types.ts';
export { actorForEmail, ceoEmail, departmentHeads, staffActor } from './actors.ts';
export { ANOMALY_KINDS, anomalyFindingSchema, type AnomalyFinding, type AnomalyKind } from './catalogue/security.ts';
export {
  backtestRunSchema,
  botDetailsSchema,
  forceExitResultSchema,
  type BacktestRun,
  type BotDetails,
  type ForceExitResult,
} from './catalogue/trading.ts';
