import { formatBrlCents } from '../billing/index.ts';

// Deterministic answers from tool results: what staff get when the model is offline, and
// the fallback when a model's answer states a number no tool produced.

type Locale = 'pt-BR' | 'en';
type Result = Record<string, unknown>;

const money = formatBrlCents;
const quote = (value: number, locale: Locale) => `${new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'pt-BR', { maximumFractionDigits: 2 }).format(value)} USDT`;
const pct = (value: number | null, locale: Locale) => (value === null ? '–' : `${new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'pt-BR', { maximumFractionDigits: 2 }).format(value)} %`);
const int = (value: number, locale: Locale) => new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'pt-BR').format(value);
const t = (locale: Locale, pt: string, en: string) => (locale === 'en' ? en : pt);

const TEMPLATES: Record<string, (r: Result, l: Locale) => string> = {
  company_kpis: (r, l) => {
    const f = r['finance'] as Result, tr = r['trading'] as Result, s = r['support'] as Result, sa = r['sales'] as Result, se = r['security'] as Result, a = r['approvals'] as Result;
    return [
      t(l, `Financeiro: MRR ${money(f['mrrCents'] as number, l)}, ARR ${money(f['arrCents'] as number, l)}, ${int(f['payingCustomers'] as number, l)} clientes pagantes, ${int(f['failedPayments30d'] as number, l)} pagamentos falhos em 30 dias.`, `Finance: MRR ${money(f['mrrCents'] as number, l)}, ARR ${money(f['arrCents'] as number, l)}, ${int(f['payingCustomers'] as number, l)} paying customers, ${int(f['failedPayments30d'] as number, l)} failed payments in 30 days.`),
      t(l, `Trading: ${int(tr['runningBots'] as number, l)} robôs rodando, ${int(tr['closedTrades30d'] as number, l)} operações fechadas em 30 dias, resultado ${quote(tr['profit30dQuote'] as number, l)}.`, `Trading: ${int(tr['runningBots'] as number, l)} bots running, ${int(tr['closedTrades30d'] as number, l)} trades closed in 30 days, result ${quote(tr['profit30dQuote'] as number, l)}.`),
      t(l, `SAC: ${int(s['openTickets'] as number, l)} tickets abertos, ${int(s['overdueTickets'] as number, l)} fora do SLA. Vendas: ${int(sa['openLeads'] as number, l)} leads em aberto, ${int(sa['won30d'] as number, l)} ganhos em 30 dias.`, `Support: ${int(s['openTickets'] as number, l)} open tickets, ${int(s['overdueTickets'] as number, l)} past SLA. Sales: ${int(sa['openLeads'] as number, l)} open leads, ${int(sa['won30d'] as number, l)} won in 30 days.`),
      t(l, `Segurança: ${int(se['highSeverityEvents24h'] as number, l)} eventos graves em 24 h. Aprovações pendentes: ${int(a['pending'] as number, l)}.`, `Security: ${int(se['highSeverityEvents24h'] as number, l)} high-severity events in 24 h. Pending approvals: ${int(a['pending'] as number, l)}.`),
    ].join('\n');
  },
  revenue_summary: (r, l) =>
    t(l, `MRR ${money(r['mrrCents'] as number, l)}, ARR ${money(r['arrCents'] as number, l)}, ${int(r['payingCustomers'] as number, l)} clientes pagantes, ARPU ${money(r['arpuCents'] as number, l)}, churn médio ${pct(r['averageChurnRatePct'] as number | null, l)}.`,
      `MRR ${money(r['mrrCents'] as number, l)}, ARR ${money(r['arrCents'] as number, l)}, ${int(r['payingCustomers'] as number, l)} paying customers, ARPU ${money(r['arpuCents'] as number, l)}, average churn ${pct(r['averageChurnRatePct'] as number | null, l)}.`),
  failed_payments: (r, l) =>
    t(l, `${int(r['failedPayments'] as number, l)} pagamentos falharam (${money(r['failedAmountCents'] as number, l)}); em risco: ${money(r['atRiskCents'] as number, l)}; assinaturas em atraso: ${int(r['pastDueSubscriptions'] as number, l)}.`,
      `${int(r['failedPayments'] as number, l)} payments failed (${money(r['failedAmountCents'] as number, l)}); at risk: ${money(r['atRiskCents'] as number, l)}; past-due subscriptions: ${int(r['pastDueSubscriptions'] as number, l)}.`),
  list_plans: (r, l) =>
    (r['plans'] as Result[]).map((p) => `${p['name']}: ${money(p['monthlyPriceCents'] as number, l)}${t(l, '/mês', '/month')}, ${int(p['botsAllowed'] as number, l)} ${t(l, 'robôs', 'bots')}, ${p['liveTradingAllowed'] ? t(l, 'operação real', 'live trading') : t(l, 'só simulado', 'paper only')}`).join('\n'),
  subscription_status: (r, l) =>
    t(l, `Plano ${r['plan']}, assinatura ${r['status'] ?? 'nenhuma'}, ${money(r['amountCents'] as number, l)}${r['cancelAtPeriodEnd'] ? ', cancela no fim do período' : ''}.`,
      `Plan ${r['plan']}, subscription ${r['status'] ?? 'none'}, ${money(r['amountCents'] as number, l)}${r['cancelAtPeriodEnd'] ? ', cancels at period end' : ''}.`),
  bots_overview: (r, l) => {
    const bots = r['bots'] as Result[];
    return [t(l, `${int(bots.length, l)} robôs, ${int(r['running'] as number, l)} rodando.`, `${int(bots.length, l)} bots, ${int(r['running'] as number, l)} running.`), ...bots.map((b) => `- ${b['name']} (${b['strategy']}, ${(b['symbols'] as string[]).join(', ')}, ${b['mode']}): ${b['status']}`)].join('\n');
  },
  trading_pnl: (r, l) =>
    t(l, `${int(r['closedTrades'] as number, l)} operações fechadas em ${int(r['days'] as number, l)} dias, ${int(r['wins'] as number, l)} com lucro (${pct(r['winRatePct'] as number | null, l)}), resultado ${quote(r['profitQuote'] as number, l)}.`,
      `${int(r['closedTrades'] as number, l)} trades closed in ${int(r['days'] as number, l)} days, ${int(r['wins'] as number, l)} winners (${pct(r['winRatePct'] as number | null, l)}), result ${quote(r['profitQuote'] as number, l)}.`),
  open_positions: (r, l) => {
    const positions = r['positions'] as Result[];
    return positions.length === 0 ? t(l, 'Nenhuma posição aberta.', 'No open positions.') : positions.map((p) => `- ${p['symbol']}: ${p['amountBase']} @ ${p['entryPriceQuote']}`).join('\n');
  },
  risk_status: (r, l) => {
    const attention = r['attention'] as Result[];
    const head = t(l, `Resultado de hoje: ${quote(r['todayProfitQuote'] as number, l)}.`, `Today's result: ${quote(r['todayProfitQuote'] as number, l)}.`);
    return attention.length === 0 ? `${head} ${t(l, 'Nenhum robô precisa de atenção.', 'No bot needs attention.')}` : [head, ...attention.map((b) => `- ${b['name']}: ${b['status']}${b['reason'] ? ` (${b['reason']})` : ''}`)].join('\n');
  },
  search_knowledge_base: (r, l) => {
    const articles = r['articles'] as Result[];
    return articles.length === 0 ? t(l, 'Nada encontrado na base de conhecimento.', 'Nothing found in the knowledge base.') : articles.map((a) => `- ${a['title']}: ${a['excerpt']}`).join('\n');
  },
  open_tickets: (r, l) => {
    const tickets = r['tickets'] as Result[];
    const head = t(l, `${int(r['total'] as number, l)} tickets abertos, ${int(r['overdue'] as number, l)} fora do SLA.`, `${int(r['total'] as number, l)} open tickets, ${int(r['overdue'] as number, l)} past SLA.`);
    return [head, ...tickets.map((tk) => `- [${tk['priority']}] ${tk['subject']} (${tk['status']}${tk['overdue'] ? t(l, ', atrasado', ', overdue') : ''})`)].join('\n');
  },
  recent_security_events: (r, l) => {
    const byType = Object.entries(r['byType'] as Record<string, number>).map(([type, n]) => `${type} ${int(n, l)}`).join(', ');
    return t(l, `${int(r['total'] as number, l)} eventos de segurança no período${byType ? `: ${byType}` : ''}.`, `${int(r['total'] as number, l)} security events in the period${byType ? `: ${byType}` : ''}.`);
  },
  detect_anomalies: (r, l) => {
    const findings = r['findings'] as Result[];
    if (findings.length === 0) return t(l, 'Nenhuma anomalia encontrada.', 'No anomalies found.');
    return findings.map((f) => `- ${f['kind']}: ${f['email'] ?? '?'} ${t(l, 'de', 'from')} ${f['ip'] ?? '?'} (${int(f['count'] as number, l)}×)`).join('\n');
  },
  verify_audit_chain: (r, l) => (r['ok'] ? t(l, `Trilha de auditoria íntegra: ${int(r['rowsChecked'] as number, l)} registros verificados.`, `Audit trail intact: ${int(r['rowsChecked'] as number, l)} rows verified.`) : t(l, `Trilha de auditoria QUEBRADA no registro ${r['badRowId']}: ${r['message']}`, `Audit trail BROKEN at row ${r['badRowId']}: ${r['message']}`)),
  query_audit_log: (r, l) => {
    const entries = r['entries'] as Result[];
    return entries.length === 0 ? t(l, 'Nenhum registro no período.', 'No entries in that period.') : entries.map((e) => `#${e['id']} ${String(e['at']).slice(0, 16).replace('T', ' ')} ${e['tool'] ?? e['action']} → ${e['outcome']}`).join('\n');
  },
};

/** A plain rendering of a tool result in the staff member's language. */
export function renderToolResult(tool: string, result: unknown, locale: Locale): string {
  const template = TEMPLATES[tool];
  if (template && result && typeof result === 'object') return template(result as Result, locale);
  return JSON.stringify(result);
}
