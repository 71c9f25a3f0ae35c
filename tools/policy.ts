import type { Department, StaffRole } from '../db/index.ts';
import type { Actor } from './types.ts';

/**
 * Which departments may call which tools; the CEO may call everything, a trader only the
 * tools listed for traders (and only on their own data, see the scope in each tool). Roles
 * refine it: `approval` tools can be requested by members, decided only by heads and the CEO.
 */
export const TOOL_POLICY: Readonly<Record<string, { readonly departments: readonly Department[]; readonly traders?: boolean }>> = {
  // trading
  bots_overview: { departments: ['finance', 'security', 'support'], traders: true },
  trading_pnl: { departments: ['finance', 'security', 'support'], traders: true },
  open_positions: { departments: ['security', 'support'], traders: true },
  risk_status: { departments: ['security', 'support'], traders: true },
  stop_bot: { departments: ['security', 'support'], traders: true },
  start_bot: { departments: ['support'], traders: true },
  run_backtest: { departments: ['support'], traders: true },
  // what a trader's Telegram commands need (/daily /weekly /monthly, /balance, /forceexit)
  pnl_by_period: { departments: ['finance', 'security', 'support'], traders: true },
  bot_balances: { departments: ['security', 'support'], traders: true },
  force_exit: { departments: ['security'], traders: true },
  // the operators' bot commands (botcriptofy bots …): the platform's bots, one bot, a new bot
  list_bots: { departments: ['finance', 'security', 'support'], traders: true },
  bot_details: { departments: ['finance', 'security', 'support'], traders: true },
  create_bot: { departments: ['support'], traders: true },
  // billing and subscriptions
  revenue_summary: { departments: ['finance', 'subscriptions'] },
  failed_payments: { departments: ['finance', 'subscriptions'] },
  refund_payment: { departments: ['finance'] },
  list_plans: { departments: ['subscriptions', 'sales', 'support', 'finance'], traders: true },
  subscription_status: { departments: ['subscriptions', 'support', 'finance'], traders: true },
  change_plan: { departments: ['subscriptions'] },
  // security
  recent_security_events: { departments: ['security', 'audit'] },
  detect_anomalies: { departments: ['security'] },
  freeze_api_key: { departments: ['security'] },
  // support
  search_knowledge_base: { departments: ['support', 'sales', 'documents'], traders: true },
  open_tickets: { departments: ['support'], traders: true },
  open_ticket: { departments: ['support'], traders: true },
  answer_ticket: { departments: ['support'] },
  escalate_ticket: { departments: ['support'] },
  // audit
  query_audit_log: { departments: ['audit', 'security'] },
  verify_audit_chain: { departments: ['audit', 'security', 'settings'] },
  // sales
  sales_funnel: { departments: ['sales', 'marketing'] },
  list_leads: { departments: ['sales'] },
  update_lead_stage: { departments: ['sales'] },
  schedule_follow_up: { departments: ['sales'] },
  // marketing
  campaign_performance: { departments: ['marketing', 'finance'] },
  list_influencers: { departments: ['marketing'] },
  pause_campaign: { departments: ['marketing'] },
  // documents: every department reads the company's documents; Documents publishes them
  search_documents: { departments: ['documents', 'finance', 'marketing', 'sales', 'security', 'support', 'audit', 'settings', 'subscriptions'] },
  get_document: { departments: ['documents', 'finance', 'marketing', 'sales', 'security', 'support', 'audit', 'settings', 'subscriptions'] },
  document_history: { departments: ['documents', 'audit'] },
  publish_document: { departments: ['documents'] },
  // settings (values of secret keys are never returned; changes need the Settings head)
  get_config: { departments: ['settings', 'security', 'audit'] },
  config_history: { departments: ['settings', 'audit'] },
  set_config: { departments: ['settings'] },
  rollback_config: { departments: ['settings'] },
  // company
  company_kpis: { departments: [] },
};

export type PolicyDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

export function mayCall(actor: Actor, tool: string): PolicyDecision {
  const rule = TOOL_POLICY[tool];
  if (!rule) return { allowed: false, reason: `no policy allows ${tool}` };
  if (actor.kind === 'system') return { allowed: true };
  if (actor.kind === 'trader') {
    return rule.traders ? { allowed: true } : { allowed: false, reason: `${tool} is not available to traders` };
  }
  if (actor.department === 'ceo' || actor.role === 'ceo' || actor.role === 'admin') return { allowed: true };
  if (rule.departments.includes(actor.department)) return { allowed: true };
  return { allowed: false, reason: `the ${actor.department} department may not use ${tool}` };
}

/** Who may decide a pending approval of `department`: its head, the CEO, an admin. */
export function mayDecide(actor: Actor, department: Department): boolean {
  if (actor.kind !== 'staff') return false;
  const roles: readonly StaffRole[] = ['ceo', 'admin'];
  return roles.includes(actor.role) || (actor.role === 'head' && actor.department === department);
}
