import { formatBrlCents } from '../billing/index.ts';
import { windowTag } from '../figures/index.ts';
import { intlLocale, type Locale } from '../i18n/index.ts';

// The executive report written from the tools' figures alone. It is the whole report when the
// model is away (or wrote a figure no tool produced), and the figures part of it always: the
// model only adds the prose summary on top.

export type { Locale };
export type Period = 'daily' | 'weekly';

/** Each department's tool results, exactly as the tools returned them (null when a tool failed). */
export interface ReportFigures {
  readonly finance: { readonly revenue_summary: RevenueSummary | null; readonly failed_payments: FailedPayments | null };
  readonly trading: { readonly trading_pnl: TradingPnl | null; readonly risk_status: RiskStatus | null };
  readonly security: { readonly recent_security_events: SecurityEvents | null; readonly detect_anomalies: Anomalies | null };
  readonly support: { readonly open_tickets: OpenTickets | null };
  readonly sales: { readonly sales_funnel: SalesFunnel | null };
  readonly marketing: { readonly campaign_performance: CampaignPerformance | null };
  readonly audit: { readonly verify_audit_chain: AuditChain | null };
  readonly system: SystemHealth;
}

/** revenue_summary's result (billing/figures.ts): MRR, ARR, ARPU and paying customers now; churn 30 d; LTV from churn 90 d; net new MRR of the report's period. */
export interface RevenueSummary {
  asOf: string;
  churnWindowDays: number;
  ltvChurnWindowDays: number;
  mrrCents: number;
  arrCents: number;
  payingCustomers: number;
  arpuCents: number;
  customerChurn30dPct: number | null;
  customersLost30d: number;
  payingCustomers30dAgo: number;
  revenueChurn30dPct: number | null;
  monthlyChurn90dPct: number | null;
  ltvCents: number | null;
  netNewMrr: {
    days: number;
    newCents: number;
    expansionCents: number;
    contractionCents: number;
    churnedCents: number;
    netNewCents: number;
  };
  months: {
    month: string;
    newCents: number;
    expansionCents: number;
    contractionCents: number;
    churnedCents: number;
    netNewCents: number;
    endingMrrCents: number;
    customerChurnPct: number | null;
  }[];
}
export interface FailedPayments {
  failedPayments: number;
  failedAmountCents: number;
  atRiskCents: number;
  pastDueSubscriptions: number;
}
export interface TradingPnl {
  days: number;
  closedTrades: number;
  wins: number;
  profitQuote: number;
  winRatePct: number | null;
}
export interface RiskStatus {
  attention: { botId: string; name: string; status: string; reason: string | null }[];
  attentionTotal: number;
  runningBots: number;
  todayProfitQuote: number;
}
export interface SecurityEvents {
  total: number;
  byType: Record<string, number>;
}
export interface Anomalies {
  findings: { kind: string; email: string | null; ip: string | null; count: number; botId: string | null }[];
}
export interface OpenTickets {
  total: number;
  overdue: number;
}
export interface SalesFunnel {
  days: number;
  createdLeads: number;
  conversionPct: number | null;
  wonInPeriod: number;
  wonMonthlyValueCents: number;
  openLeads: number;
  openPipelineCents: number;
}
export interface CampaignPerformance {
  days: number;
  totals: { campaigns: number; spentCents: number; leads: number; conversions: number; costPerLeadCents: number | null };
}
export interface AuditChain {
  ok: boolean;
  rowsChecked: number;
  badRowId: number | null;
  message: string;
}
export interface SystemHealth {
  databaseMs: number;
  pendingApprovals: number;
  /** Age of the oldest pending approval, in whole hours (null when none). */
  oldestApprovalHours: number | null;
  outboxPending: number;
  outboxFailed: number;
  model: 'ready' | 'missing' | 'down' | 'not checked';
}

const t = (l: Locale, pt: string, en: string) => (l === 'en' ? en : pt);
const nf = (l: Locale, digits = 2) => new Intl.NumberFormat(intlLocale(l), { maximumFractionDigits: digits });
const int = (value: number, l: Locale) => nf(l, 0).format(value);
const money = (cents: number, l: Locale) => formatBrlCents(cents, l);
const pct = (value: number | null, l: Locale) => (value === null ? '–' : `${nf(l).format(value)} %`);
const usdt = (value: number, l: Locale) => `${nf(l).format(value)} USDT`;
const unavailable = (l: Locale) => t(l, 'indisponível (a ferramenta falhou)', 'unavailable (the tool failed)');

export function anomalyCounts(anomalies: Anomalies | null): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const finding of anomalies?.findings ?? []) counts[finding.kind] = (counts[finding.kind] ?? 0) + 1;
  return counts;
}

export function reportTitle(period: Period, asOf: Date, l: Locale): string {
  const day = l === 'en' ? asOf.toISOString().slice(0, 10) : asOf.toISOString().slice(0, 10).split('-').reverse().join('/');
  return period === 'daily'
    ? t(l, `Relatório executivo diário — ${day}`, `Daily executive report — ${day}`)
    : t(l, `Relatório executivo semanal — semana até ${day}`, `Weekly executive report — week to ${day}`);
}

/** One line per department, every figure as the tool computed it. */
export function renderSections(f: ReportFigures, period: Period, l: Locale): string[] {
  const window = period === 'daily' ? t(l, '24 h', '24 h') : t(l, '7 dias', '7 days');
  const lines: string[] = [];
  const revenue = f.finance.revenue_summary;
  const failed = f.finance.failed_payments;
  // Every figure says its window: "agora"/"now", the standard 30 d and 90 d, or the report's period.
  lines.push(
    `💰 ${t(l, 'Financeiro', 'Finance')}: ` +
      (revenue
        ? `MRR ${money(revenue.mrrCents, l)}, ARR ${money(revenue.arrCents, l)}, ARPU ${money(revenue.arpuCents, l)} (${t(l, 'agora', 'now')})` +
          (revenue.ltvCents === null
            ? ''
            : `; LTV ${money(revenue.ltvCents, l)} (ARPU ÷ churn ${windowTag(revenue.ltvChurnWindowDays)} ÷ 3)`) +
          '.'
        : `${unavailable(l)}.`) +
      (failed
        ? ' ' +
          t(
            l,
            `Pagamentos falhos em ${window}: ${int(failed.failedPayments, l)} (${money(failed.failedAmountCents, l)}); em risco agora: ${money(failed.atRiskCents, l)}.`,
            `Failed payments in ${window}: ${int(failed.failedPayments, l)} (${money(failed.failedAmountCents, l)}); at risk now: ${money(failed.atRiskCents, l)}.`,
          )
        : ''),
  );
  const net = revenue?.netNewMrr;
  lines.push(
    `🧾 ${t(l, 'Assinaturas', 'Subscriptions')}: ` +
      (revenue
        ? t(
            l,
            `${int(revenue.payingCustomers, l)} clientes pagantes (agora); churn ${windowTag(revenue.churnWindowDays)}: ${pct(revenue.customerChurn30dPct, l)} dos clientes, ${pct(revenue.revenueChurn30dPct, l)} da receita`,
            `${int(revenue.payingCustomers, l)} paying customers (now); churn ${windowTag(revenue.churnWindowDays)}: ${pct(revenue.customerChurn30dPct, l)} of customers, ${pct(revenue.revenueChurn30dPct, l)} of revenue`,
          ) +
          (net
            ? t(
                l,
                `; MRR líquido novo em ${window}: ${money(net.netNewCents, l)} (novos ${money(net.newCents, l)}, expansão ${money(net.expansionCents, l)}, contração ${money(net.contractionCents, l)}, cancelados ${money(net.churnedCents, l)})`,
                `; net new MRR in ${window}: ${money(net.netNewCents, l)} (new ${money(net.newCents, l)}, expansion ${money(net.expansionCents, l)}, contraction ${money(net.contractionCents, l)}, churned ${money(net.churnedCents, l)})`,
              )
            : '') +
          (failed
            ? t(l, `; em atraso agora: ${int(failed.pastDueSubscriptions, l)}`, `; past due now: ${int(failed.pastDueSubscriptions, l)}`)
            : '') +
          '.'
        : `${unavailable(l)}.`),
  );
  const pnl = f.trading.trading_pnl;
  const risk = f.trading.risk_status;
  lines.push(
    `📈 Trading: ` +
      (pnl
        ? t(
            l,
            `${int(pnl.closedTrades, l)} operações fechadas em ${window}, ${int(pnl.wins, l)} com lucro (${pct(pnl.winRatePct, l)}), resultado ${usdt(pnl.profitQuote, l)}.`,
            `${int(pnl.closedTrades, l)} trades closed in ${window}, ${int(pnl.wins, l)} winners (${pct(pnl.winRatePct, l)}), result ${usdt(pnl.profitQuote, l)}.`,
          )
        : `${unavailable(l)}.`) +
      (risk
        ? ' ' +
          t(
            l,
            `${int(risk.runningBots, l)} robôs rodando, ${int(risk.attentionTotal, l)} precisam de atenção; resultado de hoje (desde 00:00 UTC) ${usdt(risk.todayProfitQuote, l)}.`,
            `${int(risk.runningBots, l)} bots running, ${int(risk.attentionTotal, l)} need attention; today's result (since 00:00 UTC) ${usdt(risk.todayProfitQuote, l)}.`,
          )
        : ''),
  );
  const events = f.security.recent_security_events;
  const anomalies = f.security.detect_anomalies;
  const byType = events
    ? Object.entries(events.byType)
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 4)
        .map(([type, n]) => `${type} ${int(n, l)}`)
        .join(', ')
    : '';
  const kinds = Object.entries(anomalyCounts(anomalies))
    .map(([kind, n]) => `${kind} ${int(n, l)}`)
    .join(', ');
  lines.push(
    `🛡️ ${t(l, 'Segurança', 'Security')}: ` +
      (events
        ? t(
            l,
            `${int(events.total, l)} eventos em ${window}${byType ? ` (${byType})` : ''}.`,
            `${int(events.total, l)} events in ${window}${byType ? ` (${byType})` : ''}.`,
          )
        : `${unavailable(l)}.`) +
      (anomalies
        ? ' ' +
          (anomalies.findings.length === 0
            ? t(l, 'Nenhuma anomalia.', 'No anomalies.')
            : t(l, `Anomalias: ${kinds}.`, `Anomalies: ${kinds}.`))
        : ''),
  );
  const tickets = f.support.open_tickets;
  lines.push(
    `🎧 ${t(l, 'SAC', 'Support')}: ` +
      (tickets
        ? t(
            l,
            `${int(tickets.total, l)} tickets abertos, ${int(tickets.overdue, l)} fora do SLA.`,
            `${int(tickets.total, l)} open tickets, ${int(tickets.overdue, l)} past SLA.`,
          )
        : `${unavailable(l)}.`),
  );
  const funnel = f.sales.sales_funnel;
  lines.push(
    `🤝 ${t(l, 'Vendas', 'Sales')}: ` +
      (funnel
        ? t(
            l,
            `${int(funnel.createdLeads, l)} leads novos em ${window}, conversão ${pct(funnel.conversionPct, l)}, ${int(funnel.wonInPeriod, l)} ganhos (${money(funnel.wonMonthlyValueCents, l)}/mês); em aberto ${int(funnel.openLeads, l)} leads (${money(funnel.openPipelineCents, l)}/mês).`,
            `${int(funnel.createdLeads, l)} new leads in ${window}, conversion ${pct(funnel.conversionPct, l)}, ${int(funnel.wonInPeriod, l)} won (${money(funnel.wonMonthlyValueCents, l)}/month); open ${int(funnel.openLeads, l)} leads (${money(funnel.openPipelineCents, l)}/month).`,
          )
        : `${unavailable(l)}.`),
  );
  const campaigns = f.marketing.campaign_performance;
  lines.push(
    `📣 Marketing: ` +
      (campaigns
        ? t(
            l,
            `${int(campaigns.totals.campaigns, l)} campanhas no período: gasto ${money(campaigns.totals.spentCents, l)}, ${int(campaigns.totals.leads, l)} leads, ${int(campaigns.totals.conversions, l)} conversões, custo por lead ${campaigns.totals.costPerLeadCents === null ? '–' : money(campaigns.totals.costPerLeadCents, l)}.`,
            `${int(campaigns.totals.campaigns, l)} campaigns in the period: spent ${money(campaigns.totals.spentCents, l)}, ${int(campaigns.totals.leads, l)} leads, ${int(campaigns.totals.conversions, l)} conversions, cost per lead ${campaigns.totals.costPerLeadCents === null ? '–' : money(campaigns.totals.costPerLeadCents, l)}.`,
          )
        : `${unavailable(l)}.`),
  );
  const chain = f.audit.verify_audit_chain;
  lines.push(
    `🔏 ${t(l, 'Auditoria', 'Audit')}: ` +
      (chain
        ? chain.ok
          ? t(
              l,
              `trilha íntegra, ${int(chain.rowsChecked, l)} registros verificados.`,
              `trail intact, ${int(chain.rowsChecked, l)} rows verified.`,
            )
          : t(
              l,
              `trilha QUEBRADA no registro ${chain.badRowId ?? '?'}: ${chain.message}`,
              `trail BROKEN at row ${chain.badRowId ?? '?'}: ${chain.message}`,
            )
        : `${unavailable(l)}.`),
  );
  const s = f.system;
  const model = {
    ready: t(l, 'pronto', 'ready'),
    missing: t(l, 'não instalado', 'not installed'),
    down: 'offline',
    'not checked': t(l, 'não consultado', 'not checked'),
  }[s.model];
  lines.push(
    `⚙️ ${t(l, 'Sistema', 'System')}: ` +
      t(
        l,
        `banco respondeu em ${int(s.databaseMs, l)} ms; ${int(s.pendingApprovals, l)} aprovações pendentes${s.oldestApprovalHours === null ? '' : ` (a mais antiga há ${int(s.oldestApprovalHours, l)} h)`}; notificações na fila ${int(s.outboxPending, l)}, com falha ${int(s.outboxFailed, l)}; modelo ${model}.`,
        `database answered in ${int(s.databaseMs, l)} ms; ${int(s.pendingApprovals, l)} pending approvals${s.oldestApprovalHours === null ? '' : ` (oldest ${int(s.oldestApprovalHours, l)} h)`}; notifications queued ${int(s.outboxPending, l)}, failed ${int(s.outboxFailed, l)}; model ${model}.`,
      ),
  );
  return lines;
}

/**
 * The summary without the model: the same few things a CEO looks at first, in plain
 * sentences, each figure straight from a tool.
 */
export function renderHighlights(f: ReportFigures, period: Period, l: Locale): string {
  const window = period === 'daily' ? t(l, 'nas últimas 24 h', 'in the last 24 h') : t(l, 'nos últimos 7 dias', 'in the last 7 days');
  const out: string[] = [];
  const revenue = f.finance.revenue_summary;
  if (revenue) {
    out.push(
      t(
        l,
        `O MRR está em ${money(revenue.mrrCents, l)}, com variação líquida de ${money(revenue.netNewMrr.netNewCents, l)} ${window}; churn ${windowTag(revenue.churnWindowDays)} de ${pct(revenue.customerChurn30dPct, l)} dos clientes.`,
        `MRR stands at ${money(revenue.mrrCents, l)}, a net change of ${money(revenue.netNewMrr.netNewCents, l)} ${window}; churn ${windowTag(revenue.churnWindowDays)} ${pct(revenue.customerChurn30dPct, l)} of customers.`,
      ),
    );
  }
  const failed = f.finance.failed_payments;
  if (failed && failed.failedPayments > 0)
    out.push(
      t(
        l,
        `${int(failed.failedPayments, l)} pagamentos falharam ${window}; em risco agora: ${money(failed.atRiskCents, l)}.`,
        `${int(failed.failedPayments, l)} payments failed ${window}; at risk now: ${money(failed.atRiskCents, l)}.`,
      ),
    );
  const pnl = f.trading.trading_pnl;
  if (pnl)
    out.push(
      t(
        l,
        `Os robôs fecharam ${int(pnl.closedTrades, l)} operações ${window}, resultado de ${usdt(pnl.profitQuote, l)}.`,
        `Bots closed ${int(pnl.closedTrades, l)} trades ${window}, a result of ${usdt(pnl.profitQuote, l)}.`,
      ),
    );
  const attention: string[] = [];
  const risk = f.trading.risk_status;
  if (risk && risk.attentionTotal > 0)
    attention.push(
      t(l, `${int(risk.attentionTotal, l)} robôs parados ou com erro`, `${int(risk.attentionTotal, l)} bots paused or failing`),
    );
  const findings = f.security.detect_anomalies?.findings.length ?? 0;
  if (findings > 0) attention.push(t(l, `${int(findings, l)} anomalias de segurança`, `${int(findings, l)} security anomalies`));
  const overdue = f.support.open_tickets?.overdue ?? 0;
  if (overdue > 0) attention.push(t(l, `${int(overdue, l)} tickets fora do SLA`, `${int(overdue, l)} tickets past SLA`));
  if (f.system.pendingApprovals > 0)
    attention.push(
      t(l, `${int(f.system.pendingApprovals, l)} aprovações pendentes`, `${int(f.system.pendingApprovals, l)} pending approvals`),
    );
  if (f.audit.verify_audit_chain && !f.audit.verify_audit_chain.ok)
    attention.push(t(l, 'a trilha de auditoria está quebrada', 'the audit trail is broken'));
  out.push(
    attention.length > 0
      ? t(l, `Pede atenção: ${attention.join(', ')}.`, `Needs attention: ${attention.join(', ')}.`)
      : t(l, 'Nada pede atenção imediata.', 'Nothing needs immediate attention.'),
  );
  return out.join(' ');
}

const NOTICE: Readonly<Record<'offline' | 'missing' | 'timed out' | 'not used' | 'unverified' | 'rejected', { pt: string; en: string }>> = {
  offline: { pt: '(modelo offline: resumo automático a partir dos números)', en: '(model offline: automatic summary from the figures)' },
  missing: { pt: '(modelo não instalado no Ollama: resumo automático)', en: '(model not installed in Ollama: automatic summary)' },
  'timed out': { pt: '(o modelo não respondeu a tempo: resumo automático)', en: '(the model timed out: automatic summary)' },
  'not used': { pt: '(resumo automático, sem o modelo, como pedido)', en: '(automatic summary, without the model, as asked)' },
  unverified: {
    pt: '(o texto do modelo citava números que as ferramentas não deram: resumo automático)',
    en: "(the model's text quoted figures no tool produced: automatic summary)",
  },
  rejected: {
    pt: '(o texto do modelo não passou na verificação de respostas: resumo automático)',
    en: "(the model's text failed the answer checks: automatic summary)",
  },
};
export type SummaryFallback = keyof typeof NOTICE;

/** The whole report: title, summary (the model's, or the highlights with a notice), then the figures. */
export function renderReport(options: {
  figures: ReportFigures;
  period: Period;
  asOf: Date;
  locale: Locale;
  summary: string;
  fallback?: SummaryFallback | undefined;
}): string {
  const { figures, period, asOf, locale: l } = options;
  const notice = options.fallback ? `${l === 'en' ? NOTICE[options.fallback].en : NOTICE[options.fallback].pt}\n` : '';
  return [`📊 ${reportTitle(period, asOf, l)}`, '', `${notice}${options.summary}`, '', ...renderSections(figures, period, l)].join('\n');
}
