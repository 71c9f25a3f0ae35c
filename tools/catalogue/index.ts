import { assistantTools } from './assistant.ts';
import { auditTools, companyTools } from './audit-company.ts';
import { backtestUploadTools } from './backtest-uploads.ts';
import { botImprovementTools } from './bot-improvement.ts';
import { billingTools } from './billing.ts';
import { documentTools } from './documents.ts';
import { pairLockTools } from './locks.ts';
import { marketingTools } from './marketing.ts';
import { operationsTools } from './operations.ts';
import { consentTools, privacyTools } from './privacy.ts';
import { salesTools } from './sales.ts';
import { securityTools } from './security.ts';
import { notificationSettingTools, settingsTools } from './settings.ts';
import { supportTools } from './support.ts';
import { traderReportTools, tradingTools } from './trading.ts';

/** Every tool, each with its policy (`access`) and approval rules beside it. */
export const CATALOGUE = [
  ...tradingTools,
  ...traderReportTools,
  ...pairLockTools,
  ...assistantTools,
  ...botImprovementTools,
  ...backtestUploadTools,
  ...billingTools,
  ...securityTools,
  ...supportTools,
  ...auditTools,
  ...salesTools,
  ...marketingTools,
  ...documentTools,
  ...privacyTools,
  ...consentTools,
  ...settingsTools,
  ...notificationSettingTools,
  ...companyTools,
  ...operationsTools,
];

/**
 * The name of a tool in the catalogue, derived from it: a tool name written in the code
 * (an agent's tool set, an offline route, a workflow's call, a door's command) is checked by
 * the compiler. A name known only at run time (a model's choice, a stored approval) is a
 * `string`, checked when it is called.
 */
export type ToolName = (typeof CATALOGUE)[number]['name'];

export const TOOL_NAMES: readonly ToolName[] = CATALOGUE.map((tool) => tool.name);

export function isToolName(name: string): name is ToolName {
  return (TOOL_NAMES as readonly string[]).includes(name);
}
