import { auditTools, companyTools } from './catalogue/audit-company.ts';
import { billingTools } from './catalogue/billing.ts';
import { securityTools } from './catalogue/security.ts';
import { supportTools } from './catalogue/support.ts';
import { tradingTools } from './catalogue/trading.ts';
import type { ToolDefinition } from './types.ts';

/** Every tool by name: the typed, audited, permission-checked surface agents act through. */
export const TOOLS: ReadonlyMap<string, ToolDefinition> = new Map(
  [...tradingTools, ...billingTools, ...securityTools, ...supportTools, ...auditTools, ...companyTools].map((tool) => [tool.name, tool]),
);

export { decideApproval, listPendingApprovals, type ApprovalRow, type DecisionResult } from './approvals.ts';
export { actorId, invokeTool, type ToolOutcome } from './invoke.ts';
export { TOOL_POLICY, mayCall, mayDecide } from './policy.ts';
export { ToolRefusal, traderScope } from './scope.ts';
export { defineTool, type Actor, type ToolContext, type ToolDefinition, type ToolEffect } from './types.ts';
export { actorForEmail, ceoEmail } from './actors.ts';
