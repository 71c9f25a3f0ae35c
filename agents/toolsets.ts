import type { ToolName } from '../tools/index.ts';
import type { AgentName } from './intents.ts';

/**
 * The tools each agent is given (4–8: a 0.6B model chooses well only among a few). Every tool
 * of a department agent is one its `access` (beside the tool) allows to that department, so the set never hands
 * an agent a tool its staff could not call anyway; the policy still decides each call. The
 * CEO gets the KPI snapshot and a few cross-department reads; the rest it delegates
 * (ask_department is added by the Mastra layer, keeping the CEO at 7 tools at most).
 */
export const AGENT_TOOLSETS: Readonly<Record<AgentName, readonly ToolName[]>> = {
  ceo: ['company_kpis', 'revenue_summary', 'trading_pnl', 'sales_funnel', 'campaign_performance', 'recent_security_events'],
  finance: [
    'revenue_summary',
    'failed_payments',
    'refund_payment',
    'subscription_status',
    'list_plans',
    'trading_pnl',
    'campaign_performance',
  ],
  marketing: ['campaign_performance', 'list_influencers', 'pause_campaign', 'sales_funnel', 'search_documents'],
  sales: [
    'sales_funnel',
    'list_leads',
    'update_lead_stage',
    'schedule_follow_up',
    'list_plans',
    'search_knowledge_base',
    'search_documents',
  ],
  // Data-subject requests (issue 18) are the Security department's: privacy_export took the place
  // of bots_overview, the set's least needed tool here — risk_status still lists the bots that
  // need attention with their ids (what stop_bot takes), and the Support agent carries
  // bots_overview, which Security staff may ask it for (agents/access.ts).
  security: [
    'recent_security_events',
    'detect_anomalies',
    'freeze_api_key',
    'risk_status',
    'stop_bot',
    'query_audit_log',
    'privacy_export',
    'privacy_erase',
  ],
  support: [
    'search_knowledge_base',
    'open_tickets',
    'answer_ticket',
    'escalate_ticket',
    'bots_overview',
    'trading_pnl',
    'open_positions',
    'subscription_status',
  ],
  audit: ['query_audit_log', 'verify_audit_chain', 'recent_security_events', 'config_history', 'document_history'],
  documents: [
    'search_documents',
    'get_document',
    'document_history',
    'publish_document',
    'search_knowledge_base',
    'privacy_export',
    'privacy_erase',
  ],
  settings: ['get_config', 'config_history', 'set_config', 'rollback_config', 'verify_audit_chain'],
  subscriptions: ['list_plans', 'subscription_status', 'change_plan', 'failed_payments', 'revenue_summary'],
};

/** Whether an agent works with a tool: in its set, or any tool for the CEO (who may call all). */
export function agentUsesTool(agent: AgentName, tool: string): boolean {
  return agent === 'ceo' || (AGENT_TOOLSETS[agent] as readonly string[]).includes(tool);
}
