import type { Department } from '../db/index.ts';

/** The ten agents, one per department (the CEO's is `ceo`). */
export type AgentName = Department;

export interface RoutedRequest {
  readonly agent: AgentName;
  readonly tool: string;
  readonly args: Record<string, unknown>;
}

interface Route {
  readonly agents: readonly AgentName[];
  readonly tool: string;
  /** pt-BR and English phrasings; the first that matches wins. */
  readonly patterns: readonly RegExp[];
  readonly args?: (text: string) => Record<string, unknown>;
}

const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/;
const emailArg = (text: string) => {
  const email = EMAIL.exec(text)?.[0];
  return email ? { email } : {};
};
const daysArg = (text: string) => {
  const match = /(\d{1,3})\s*(?:dias?|days?)/i.exec(text);
  if (match) return { days: Number(match[1]) };
  if (/\b(semana|week)\b/i.test(text)) return { days: 7 };
  if (/\b(hoje|today|dia|day)\b/i.test(text)) return { days: 1 };
  if (/\b(ano|year)\b/i.test(text)) return { days: 365 };
  return {};
};

/**
 * Common requests of each department, recognised without the model (pt-BR and English).
 * Order matters: more specific routes first.
 */
const ROUTES: readonly Route[] = [
  { agents: ['ceo'], tool: 'company_kpis', patterns: [/\bkpis?\b/i, /resumo (da empresa|executivo|geral)/i, /como (está|vai) a empresa/i, /company (snapshot|overview|kpis?)/i, /how is the company/i, /panorama/i] },
  { agents: ['finance', 'subscriptions', 'ceo'], tool: 'failed_payments', patterns: [/pagamentos? (com )?(falh|recusad)/i, /inadimpl/i, /failed payments?/i, /payments? (that )?failed/i, /dunning|cobran[çc]as? (com )?falh/i] },
  { agents: ['finance', 'subscriptions', 'ceo'], tool: 'revenue_summary', patterns: [/\bmrr\b|\barr\b/i, /receita|faturamento/i, /\brevenue\b/i, /\bchurn\b/i, /\barpu\b|\bltv\b/i] },
  { agents: ['subscriptions', 'support', 'finance'], tool: 'subscription_status', patterns: [/(assinatura|plano) d[oae]s? .*@/i, /subscription (of|for) .*@/i, /(status|situação) .*(assinatura|subscription)/i], args: emailArg },
  { agents: ['subscriptions', 'sales', 'support', 'finance'], tool: 'list_plans', patterns: [/\bplanos\b|pre[çc]os? dos planos/i, /\b(plans|pricing|prices)\b/i, /quanto custa/i, /how much (is|does)/i] },
  { agents: ['support', 'security', 'finance', 'ceo'], tool: 'risk_status', patterns: [/(risco|risk).*@/i, /(robôs?|bots?) (pausad|parad|com erro|congelad)/i, /(paused|stopped|frozen|failing) bots?/i], args: emailArg },
  { agents: ['support', 'security'], tool: 'open_positions', patterns: [/posi[çc](ão|ões) abertas?/i, /open positions?/i], args: emailArg },
  { agents: ['support', 'security', 'finance', 'ceo'], tool: 'trading_pnl', patterns: [/\b(lucro|preju[ií]zo|pnl|p&l|resultado)\b/i, /\bprofit\b|\bperformance\b/i], args: (t) => ({ ...emailArg(t), ...daysArg(t) }) },
  { agents: ['support', 'security', 'finance', 'ceo'], tool: 'bots_overview', patterns: [/\b(robôs?|robos?|bots?)\b/i], args: emailArg },
  { agents: ['support', 'ceo'], tool: 'open_tickets', patterns: [/tickets?|chamados?/i, /\bsla\b/i], args: emailArg },
  { agents: ['support', 'sales', 'documents'], tool: 'search_knowledge_base', patterns: [/^(como|how|o que|what|onde|where|posso|can i|por que|why)\b/i, /base de conhecimento|knowledge base|artigo|article|pol[ií]tica|policy/i], args: (t) => ({ query: t.replace(/[?!.]/g, ' ').trim().slice(0, 200) }) },
  { agents: ['security', 'ceo'], tool: 'detect_anomalies', patterns: [/anomalias?|suspeit|for[çc]a bruta|brute.?force/i, /anomal(y|ies)|suspicious/i] },
  { agents: ['security', 'audit', 'ceo'], tool: 'recent_security_events', patterns: [/eventos? de seguran[çc]a|alertas? de seguran[çc]a/i, /security (events?|alerts?)/i], args: (t) => (/\b(semana|week)\b/i.test(t) ? { hours: 168 } : {}) },
  { agents: ['audit', 'security', 'settings', 'ceo'], tool: 'verify_audit_chain', patterns: [/(verifi|checa|confer).*(auditoria|audit|cadeia)/i, /(integridade|integrity).*(auditoria|audit|log)/i, /verify .*audit/i] },
  { agents: ['audit', 'security', 'ceo'], tool: 'query_audit_log', patterns: [/(log|trilha|registro)s? de auditoria/i, /audit (log|trail)/i, /(últimas|recent) (ações|actions|eventos|events)/i, /negad[oa]s?|denied/i], args: (t) => ({ ...(/negad|denied/i.test(t) ? { outcome: 'denied' } : {}), ...(/\b(semana|week)\b/i.test(t) ? { hours: 168 } : {}) }) },
];

/**
 * Maps a message to a tool without the model. `agent` restricts the routes to that agent's
 * duties (the CEO may use every route). Undefined when nothing matches.
 */
export function routeMessage(agent: AgentName, text: string): RoutedRequest | undefined {
  for (const route of ROUTES) {
    if (agent !== 'ceo' && !route.agents.includes(agent)) continue;
    if (route.patterns.some((pattern) => pattern.test(text))) return { agent, tool: route.tool, args: route.args?.(text) ?? {} };
  }
  return undefined;
}

/** Whether the text is Portuguese (most staff) or English, for the reply. */
export function detectLocale(text: string): 'pt-BR' | 'en' {
  const pt = (text.match(/\b(o|a|os|as|um|uma|de|do|da|dos|das|que|qual|quais|quanto|como|está|são|para|com|não|meu|minha|eu|você|hoje|receita|pagamentos?|conta|mostra|lista)\b|[ãõçáéíóúâê]/gi) ?? []).length;
  const en = (text.match(/\b(the|what|which|how|is|are|of|for|with|my|today|show|list|give|me)\b/gi) ?? []).length;
  return en > pt ? 'en' : 'pt-BR';
}
