import { formatBrlCents } from '../billing/index.ts';
import { intlLocale, statusWord, type Locale } from '../i18n/index.ts';

// Deterministic answers from tool results: what staff get when the model is offline, and
// the fallback when a model's answer states a number no tool produced.

type Result = Record<string, unknown>;

const money = formatBrlCents;
const quote = (value: number, locale: Locale) =>
  `${new Intl.NumberFormat(intlLocale(locale), { maximumFractionDigits: 2 }).format(value)} USDT`;
const pct = (value: number | null, locale: Locale) =>
  value === null ? '–' : `${new Intl.NumberFormat(intlLocale(locale), { maximumFractionDigits: 2 }).format(value)} %`;
const int = (value: number, locale: Locale) => new Intl.NumberFormat(intlLocale(locale)).format(value);
const t = (locale: Locale, pt: string, en: string) => (locale === 'en' ? en : pt);
/**
 * The window a result covers, as a phrase: "nas últimas 24 h", "nos últimos 7 dias", "no último
 * dia" / "in the last 24 h", "in the last 7 days". Whole days from 48 h on.
 */
function lastWindow(value: unknown, unit: 'h' | 'd', l: Locale): string {
  if (typeof value !== 'number') return t(l, 'no período', 'in the period');
  const days = unit === 'd' ? value : value % 24 === 0 && value >= 48 ? value / 24 : undefined;
  if (days === undefined) return t(l, `nas últimas ${value} h`, `in the last ${value} h`);
  return days === 1 ? t(l, 'no último dia', 'in the last day') : t(l, `nos últimos ${days} dias`, `in the last ${days} days`);
}
const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

const STAGE_PT: Readonly<Record<string, string>> = {
  new: 'novo',
  contacted: 'contatado',
  qualified: 'qualificado',
  proposal: 'proposta',
  won: 'ganho',
  lost: 'perdido',
};
/** A sales lead's stage in the person's language. */
export const leadStageName = (value: unknown, l: Locale) => (l === 'en' ? String(value) : (STAGE_PT[String(value)] ?? String(value)));
const day = (iso: unknown) => (typeof iso === 'string' ? iso.slice(0, 10) : '–');
const cents = (value: unknown, l: Locale) => (typeof value === 'number' ? money(value, l) : '–');
const shown = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

const configChange = (r: Result, l: Locale) =>
  t(
    l,
    `${r['key']}: ${shown(r['previousValue'])} → ${shown(r['value'])} (versão ${r['version']}).`,
    `${r['key']}: ${shown(r['previousValue'])} → ${shown(r['value'])} (version ${r['version']}).`,
  );

/** Sales, marketing, documents and settings. */
const DOMAIN_TEMPLATES: Record<string, (r: Result, l: Locale) => string> = {
  sales_funnel: (r, l) => {
    const s = r['byStage'] as Record<string, number>;
    const stages = (['new', 'contacted', 'qualified', 'proposal', 'won', 'lost'] as const)
      .map((k) => `${leadStageName(k, l)} ${int(s[k] ?? 0, l)}`)
      .join(', ');
    const sources = (r['bySource'] as Result[])
      .slice(0, 3)
      .map((x) => `${x['source']} ${int(x['leads'] as number, l)}`)
      .join(', ');
    return [
      t(
        l,
        `Funil dos últimos ${int(r['days'] as number, l)} dias: ${int(r['createdLeads'] as number, l)} leads (${stages}).`,
        `Funnel of the last ${int(r['days'] as number, l)} days: ${int(r['createdLeads'] as number, l)} leads (${stages}).`,
      ),
      t(
        l,
        `Conversão ${pct(r['conversionPct'] as number | null, l)}, taxa de ganho ${pct(r['winRatePct'] as number | null, l)}. Ganhos no período: ${int(r['wonInPeriod'] as number, l)} (${money(r['wonMonthlyValueCents'] as number, l)}/mês).`,
        `Conversion ${pct(r['conversionPct'] as number | null, l)}, win rate ${pct(r['winRatePct'] as number | null, l)}. Won in the period: ${int(r['wonInPeriod'] as number, l)} (${money(r['wonMonthlyValueCents'] as number, l)}/month).`,
      ),
      t(
        l,
        `Em aberto: ${int(r['openLeads'] as number, l)} leads, ${money(r['openPipelineCents'] as number, l)}/mês.${sources ? ` Principais origens: ${sources}.` : ''}`,
        `Open: ${int(r['openLeads'] as number, l)} leads, ${money(r['openPipelineCents'] as number, l)}/month.${sources ? ` Top sources: ${sources}.` : ''}`,
      ),
    ].join('\n');
  },
  list_leads: (r, l) => {
    const leads = r['leads'] as Result[];
    const head = t(l, `${int(r['total'] as number, l)} leads encontrados.`, `${int(r['total'] as number, l)} leads found.`);
    return [
      head,
      ...leads.map(
        (x) =>
          `- ${x['name']} <${x['email']}> (${leadStageName(x['stage'], l)}, score ${int(x['score'] as number, l)}, ${money(x['estimatedMonthlyValueCents'] as number, l)}${t(l, '/mês', '/month')}${x['nextFollowUpAt'] ? `, follow-up ${day(x['nextFollowUpAt'])}` : ''}${x['owner'] ? `, ${x['owner']}` : ''})`,
      ),
    ].join('\n');
  },
  update_lead_stage: (r, l) =>
    t(
      l,
      `Lead ${r['email']}: ${leadStageName(r['from'], l)} → ${leadStageName(r['to'], l)}.`,
      `Lead ${r['email']}: ${leadStageName(r['from'], l)} → ${leadStageName(r['to'], l)}.`,
    ),
  schedule_follow_up: (r, l) =>
    t(
      l,
      `Follow-up com ${r['email']} agendado para ${day(r['nextFollowUpAt'])}.`,
      `Follow-up with ${r['email']} scheduled for ${day(r['nextFollowUpAt'])}.`,
    ),
  campaign_performance: (r, l) => {
    const total = r['totals'] as Result;
    const head = t(
      l,
      `${int(total['campaigns'] as number, l)} campanhas nos últimos ${int(r['days'] as number, l)} dias: gasto ${money(total['spentCents'] as number, l)}, ${int(total['leads'] as number, l)} leads, ${int(total['conversions'] as number, l)} conversões, custo por lead ${cents(total['costPerLeadCents'], l)}.`,
      `${int(total['campaigns'] as number, l)} campaigns in the last ${int(r['days'] as number, l)} days: spent ${money(total['spentCents'] as number, l)}, ${int(total['leads'] as number, l)} leads, ${int(total['conversions'] as number, l)} conversions, cost per lead ${cents(total['costPerLeadCents'], l)}.`,
    );
    return [
      head,
      ...(r['campaigns'] as Result[]).map(
        (c) =>
          `- ${c['name']} (${c['channel']}, ${c['status']}): ${money(c['spentCents'] as number, l)}, ${int(c['leads'] as number, l)} leads, ${int(c['conversions'] as number, l)} ${t(l, 'conversões', 'conversions')}, CPL ${cents(c['costPerLeadCents'], l)}`,
      ),
    ].join('\n');
  },
  list_influencers: (r, l) => {
    const list = r['influencers'] as Result[];
    if (list.length === 0) return t(l, 'Nenhum influenciador encontrado.', 'No influencers found.');
    return [
      t(l, `${int(r['total'] as number, l)} influenciadores.`, `${int(r['total'] as number, l)} influencers.`),
      ...list.map(
        (i) =>
          `- ${i['handle']} (${i['platform']}, ${int(i['followers'] as number, l)} ${t(l, 'seguidores', 'followers')}, ${pct(i['commissionPct'] as number, l)}, ${i['status']}): ${int(i['campaigns'] as number, l)} ${t(l, 'campanhas', 'campaigns')}, ${money(i['spentCents'] as number, l)}, ${int(i['conversions'] as number, l)} ${t(l, 'conversões', 'conversions')}`,
      ),
    ].join('\n');
  },
  pause_campaign: (r, l) =>
    t(
      l,
      `Campanha ${r['name']} pausada (estava ${r['previousStatus']}); gasto ${money(r['spentCents'] as number, l)} de ${money(r['budgetCents'] as number, l)}.`,
      `Campaign ${r['name']} paused (was ${r['previousStatus']}); spent ${money(r['spentCents'] as number, l)} of ${money(r['budgetCents'] as number, l)}.`,
    ),
  search_documents: (r, l) => {
    const docs = r['documents'] as Result[];
    return docs.length === 0
      ? t(l, 'Nenhum documento encontrado.', 'No documents found.')
      : docs.map((d) => `- ${d['title']} [${d['slug']}] v${d['version']}: ${d['excerpt']}`).join('\n');
  },
  get_document: (r, l) =>
    `${r['title']} [${r['slug']}] ${t(l, 'versão', 'version')} ${r['version']}/${r['currentVersion']} (${day(r['createdAt'])}):\n${r['body']}`,
  document_history: (r, l) =>
    [
      t(
        l,
        `${r['title']} [${r['slug']}]: versão atual ${r['currentVersion']}.`,
        `${r['title']} [${r['slug']}]: current version ${r['currentVersion']}.`,
      ),
      ...(r['versions'] as Result[]).map(
        (v) =>
          `- v${v['version']} ${day(v['createdAt'])}${v['author'] ? ` ${v['author']}` : ''}${v['changeNote'] ? `: ${v['changeNote']}` : ''}`,
      ),
    ].join('\n'),
  publish_document: (r, l) =>
    r['created']
      ? t(l, `Documento ${r['slug']} criado e publicado (versão 1).`, `Document ${r['slug']} created and published (version 1).`)
      : t(l, `Publicada a versão ${r['version']} de ${r['slug']}.`, `Published version ${r['version']} of ${r['slug']}.`),
  get_config: (r, l) => {
    const entries = r['entries'] as Result[];
    return entries.length === 0
      ? t(l, 'Nenhuma configuração encontrada.', 'No settings found.')
      : entries
          .map(
            (e) =>
              `- ${e['key']} = ${e['secret'] ? t(l, '[oculto]', '[hidden]') : shown(e['value'])} (v${e['version']}, ${day(e['updatedAt'])})`,
          )
          .join('\n');
  },
  config_history: (r, l) =>
    [
      t(l, `${r['key']}: versão atual ${r['currentVersion']}.`, `${r['key']}: current version ${r['currentVersion']}.`),
      ...(r['versions'] as Result[]).map(
        (v) =>
          `- v${v['version']} ${day(v['at'])}: ${shown(v['value'])}${v['changedBy'] ? ` (${v['changedBy']}${v['reason'] ? `: ${v['reason']}` : ''})` : ''}`,
      ),
    ].join('\n'),
  // Actions: what changed, in words (the approval and refusal lines come from agents/actions.ts).
  stop_bot: (r, l) => t(l, `Robô ${r['botId']} parado (status: ${r['status']}).`, `Bot ${r['botId']} stopped (status: ${r['status']}).`),
  start_bot: (r, l) => t(l, `Robô ${r['botId']} iniciado (status: ${r['status']}).`, `Bot ${r['botId']} started (status: ${r['status']}).`),
  answer_ticket: (r, l) =>
    t(
      l,
      `Resposta enviada no ticket ${r['ticketId']} (status: ${r['status']}).`,
      `Reply sent on ticket ${r['ticketId']} (status: ${r['status']}).`,
    ),
  escalate_ticket: (r, l) =>
    t(
      l,
      `Ticket ${r['ticketId']} escalado (status: ${r['status']}, prioridade ${r['priority']}).`,
      `Ticket ${r['ticketId']} escalated (status: ${r['status']}, priority ${r['priority']}).`,
    ),
  open_ticket: (r, l) =>
    t(
      l,
      `Ticket ${r['ticketId']} aberto; prazo de resposta ${String(r['slaDueAt']).slice(0, 16).replace('T', ' ')} UTC.`,
      `Ticket ${r['ticketId']} opened; reply due ${String(r['slaDueAt']).slice(0, 16).replace('T', ' ')} UTC.`,
    ),
  freeze_api_key: (r, l) =>
    t(
      l,
      `Chaves congeladas: ${int(r['frozenAccounts'] as number, l)} contas de corretora, ${int(r['frozenBots'] as number, l)} robôs parados.`,
      `Keys frozen: ${int(r['frozenAccounts'] as number, l)} exchange accounts, ${int(r['frozenBots'] as number, l)} bots stopped.`,
    ),
  refund_payment: (r, l) =>
    t(
      l,
      `Reembolso ${r['refundId']} de ${cents(r['amountCents'], l)} feito.`,
      `Refund ${r['refundId']} of ${cents(r['amountCents'], l)} made.`,
    ),
  change_plan: (r, l) => t(l, `${r['email']} agora está no plano ${r['planId']}.`, `${r['email']} is now on the ${r['planId']} plan.`),
  run_backtest: (r, l) =>
    t(
      l,
      `Backtest ${r['strategy']} em ${r['symbol']} (${int(r['candles'] as number, l)} candles): ${int(r['trades'] as number, l)} operações, retorno ${pct(r['totalReturnPct'] as number, l)}, rebaixamento máximo ${pct(r['maxDrawdownPct'] as number, l)}, acerto ${pct(r['winRatePct'] as number | null, l)}.`,
      `Backtest ${r['strategy']} on ${r['symbol']} (${int(r['candles'] as number, l)} candles): ${int(r['trades'] as number, l)} trades, return ${pct(r['totalReturnPct'] as number, l)}, max drawdown ${pct(r['maxDrawdownPct'] as number, l)}, win rate ${pct(r['winRatePct'] as number | null, l)}.`,
    ),
  force_exit: (r, l) =>
    [
      t(l, `Saídas do robô ${r['botId']}:`, `Exits of bot ${r['botId']}:`),
      ...(r['exits'] as Result[]).map(
        (e) =>
          `- ${e['symbol']}: ${e['outcome']} ${e['amountBase']}${e['priceQuote'] ? ` @ ${e['priceQuote']}` : ''}${e['reason'] ? ` (${e['reason']})` : ''}`,
      ),
    ].join('\n'),
  pnl_by_period: (r, l) =>
    [
      t(
        l,
        `Resultado por ${r['period'] === 'day' ? 'dia' : r['period'] === 'week' ? 'semana' : 'mês'}: total ${quote(r['totalProfitQuote'] as number, l)}.`,
        `Result per ${r['period']}: total ${quote(r['totalProfitQuote'] as number, l)}.`,
      ),
      ...(r['rows'] as Result[]).map(
        (row) =>
          `- ${row['start']}: ${int(row['closedTrades'] as number, l)} ${t(l, 'operações', 'trades')}, ${quote(row['profitQuote'] as number, l)}`,
      ),
    ].join('\n'),
  bot_balances: (r, l) =>
    (r['bots'] as Result[])
      .map(
        (b) =>
          `- ${b['name']} (${b['mode']}, ${b['status']}): ${
            b['assets']
              ? Object.entries(b['assets'] as Record<string, number>)
                  .map(([asset, n]) => `${new Intl.NumberFormat(intlLocale(l), { maximumFractionDigits: 8 }).format(n)} ${asset}`)
                  .join(', ')
              : (b['note'] ?? '–')
          }`,
      )
      .join('\n') || t(l, 'Nenhum robô.', 'No bots.'),
  set_config: (r, l) => configChange(r, l),
  rollback_config: (r, l) => configChange(r, l),
  // The export's own summary is in English (it is the document's); the counts say what it holds.
  privacy_export: (r, l) => {
    const counts = r['counts'] as Record<string, number>;
    const rows = int(
      Object.values(counts).reduce((a, b) => a + b, 0),
      l,
    );
    const tables = int(Object.keys(counts).length, l);
    return t(
      l,
      `Dados de ${r['email']} exportados: ${rows} registros em ${tables} tabelas.`,
      `Data of ${r['email']} exported: ${rows} rows in ${tables} tables.`,
    );
  },
  privacy_erase: (r, l) =>
    t(
      l,
      `Dados pessoais apagados: agora ${r['pseudonym']}; ${int(r['stoppedBots'] as number, l)} robôs parados, ${int(r['deletedExchangeKeys'] as number, l)} chaves apagadas, faturas e operações mantidas.`,
      `Personal data erased: now ${r['pseudonym']}; ${int(r['stoppedBots'] as number, l)} bots stopped, ${int(r['deletedExchangeKeys'] as number, l)} keys deleted, invoices and trades kept.`,
    ),
};

const TEMPLATES: Record<string, (r: Result, l: Locale) => string> = {
  company_kpis: (r, l) => {
    const f = r['finance'] as Result,
      tr = r['trading'] as Result,
      s = r['support'] as Result,
      sa = r['sales'] as Result,
      se = r['security'] as Result,
      a = r['approvals'] as Result;
    return [
      t(
        l,
        `Financeiro: MRR ${money(f['mrrCents'] as number, l)} (agora), ARR ${money(f['arrCents'] as number, l)}, ${int(f['payingCustomers'] as number, l)} clientes pagantes; churn 30 d ${pct(f['customerChurn30dPct'] as number | null, l)}; MRR líquido novo nos últimos 30 dias ${money(f['netNewMrr30dCents'] as number, l)}; ${int(f['failedPayments30d'] as number, l)} pagamentos falhos em 30 dias.`,
        `Finance: MRR ${money(f['mrrCents'] as number, l)} (now), ARR ${money(f['arrCents'] as number, l)}, ${int(f['payingCustomers'] as number, l)} paying customers; churn 30 d ${pct(f['customerChurn30dPct'] as number | null, l)}; net new MRR in the last 30 days ${money(f['netNewMrr30dCents'] as number, l)}; ${int(f['failedPayments30d'] as number, l)} failed payments in 30 days.`,
      ),
      t(
        l,
        `Trading: ${int(tr['runningBots'] as number, l)} robôs rodando, ${int(tr['closedTrades30d'] as number, l)} operações fechadas em 30 dias (acerto ${pct(tr['winRate30dPct'] as number | null, l)}), resultado ${quote(tr['profit30dQuote'] as number, l)}.`,
        `Trading: ${int(tr['runningBots'] as number, l)} bots running, ${int(tr['closedTrades30d'] as number, l)} trades closed in 30 days (win rate ${pct(tr['winRate30dPct'] as number | null, l)}), result ${quote(tr['profit30dQuote'] as number, l)}.`,
      ),
      t(
        l,
        `SAC: ${int(s['openTickets'] as number, l)} tickets abertos, ${int(s['overdueTickets'] as number, l)} fora do SLA. Vendas: ${int(sa['openLeads'] as number, l)} leads em aberto, ${int(sa['won30d'] as number, l)} ganhos em 30 dias.`,
        `Support: ${int(s['openTickets'] as number, l)} open tickets, ${int(s['overdueTickets'] as number, l)} past SLA. Sales: ${int(sa['openLeads'] as number, l)} open leads, ${int(sa['won30d'] as number, l)} won in 30 days.`,
      ),
      t(
        l,
        `Segurança: ${int(se['highSeverityEvents24h'] as number, l)} eventos graves em 24 h. Aprovações pendentes: ${int(a['pending'] as number, l)}.`,
        `Security: ${int(se['highSeverityEvents24h'] as number, l)} high-severity events in 24 h. Pending approvals: ${int(a['pending'] as number, l)}.`,
      ),
    ].join('\n');
  },
  revenue_summary: (r, l) => {
    // Every figure with its window (billing/figures.ts): now, churn 30 d, LTV's churn 90 d, net new MRR over `days`.
    const net = r['netNewMrr'] as Result;
    const churnWindow = `${r['churnWindowDays']} d`;
    const ltvWindow = `${r['ltvChurnWindowDays']} d`;
    const ltv =
      r['ltvCents'] === null
        ? t(l, `LTV – (ninguém cancelou em ${ltvWindow})`, `LTV – (nobody churned in ${ltvWindow})`)
        : t(
            l,
            `LTV ${money(r['ltvCents'] as number, l)} (ARPU ÷ churn ${ltvWindow} ÷ 3 = ${pct(r['monthlyChurn90dPct'] as number | null, l)} ao mês)`,
            `LTV ${money(r['ltvCents'] as number, l)} (ARPU ÷ churn ${ltvWindow} ÷ 3 = ${pct(r['monthlyChurn90dPct'] as number | null, l)} a month)`,
          );
    return t(
      l,
      `MRR ${money(r['mrrCents'] as number, l)} (agora), ARR ${money(r['arrCents'] as number, l)}, ${int(r['payingCustomers'] as number, l)} clientes pagantes, ARPU ${money(r['arpuCents'] as number, l)}. Churn ${churnWindow}: ${pct(r['customerChurn30dPct'] as number | null, l)} dos clientes (${int(r['customersLost30d'] as number, l)} de ${int(r['payingCustomers30dAgo'] as number, l)}), ${pct(r['revenueChurn30dPct'] as number | null, l)} da receita. MRR líquido novo ${lastWindow(net['days'], 'd', l)}: ${money(net['netNewCents'] as number, l)}. ${ltv}.`,
      `MRR ${money(r['mrrCents'] as number, l)} (now), ARR ${money(r['arrCents'] as number, l)}, ${int(r['payingCustomers'] as number, l)} paying customers, ARPU ${money(r['arpuCents'] as number, l)}. Churn ${churnWindow}: ${pct(r['customerChurn30dPct'] as number | null, l)} of customers (${int(r['customersLost30d'] as number, l)} of ${int(r['payingCustomers30dAgo'] as number, l)}), ${pct(r['revenueChurn30dPct'] as number | null, l)} of revenue. Net new MRR ${lastWindow(net['days'], 'd', l)}: ${money(net['netNewCents'] as number, l)}. ${ltv}.`,
    );
  },
  failed_payments: (r, l) =>
    t(
      l,
      `${capitalized(lastWindow(r['days'], 'd', l))}: ${int(r['failedPayments'] as number, l)} pagamentos falharam (${money(r['failedAmountCents'] as number, l)}); agora, em risco: ${money(r['atRiskCents'] as number, l)}; assinaturas em atraso: ${int(r['pastDueSubscriptions'] as number, l)}.`,
      `${capitalized(lastWindow(r['days'], 'd', l))}: ${int(r['failedPayments'] as number, l)} payments failed (${money(r['failedAmountCents'] as number, l)}); now at risk: ${money(r['atRiskCents'] as number, l)}; past-due subscriptions: ${int(r['pastDueSubscriptions'] as number, l)}.`,
    ),
  list_plans: (r, l) =>
    (r['plans'] as Result[])
      .map(
        (p) =>
          `${p['name']}: ${money(p['monthlyPriceCents'] as number, l)}${t(l, '/mês', '/month')}, ${int(p['botsAllowed'] as number, l)} ${t(l, 'robôs', 'bots')}, ${p['liveTradingAllowed'] ? t(l, 'operação real', 'live trading') : t(l, 'só simulado', 'paper only')}`,
      )
      .join('\n'),
  subscription_status: (r, l) =>
    t(
      l,
      `Plano ${r['plan']}, assinatura ${r['status'] ?? 'nenhuma'}, ${money(r['amountCents'] as number, l)}${r['cancelAtPeriodEnd'] ? ', cancela no fim do período' : ''}.`,
      `Plan ${r['plan']}, subscription ${r['status'] ?? 'none'}, ${money(r['amountCents'] as number, l)}${r['cancelAtPeriodEnd'] ? ', cancels at period end' : ''}.`,
    ),
  bots_overview: (r, l) => {
    const bots = r['bots'] as Result[];
    return [
      t(
        l,
        `${int(bots.length, l)} robôs, ${int(r['running'] as number, l)} rodando.`,
        `${int(bots.length, l)} bots, ${int(r['running'] as number, l)} running.`,
      ),
      ...bots.map((b) => `- ${b['name']} (${b['strategy']}, ${(b['symbols'] as string[]).join(', ')}, ${b['mode']}): ${b['status']}`),
    ].join('\n');
  },
  trading_pnl: (r, l) =>
    t(
      l,
      `${capitalized(lastWindow(r['days'], 'd', l))}: ${int(r['closedTrades'] as number, l)} operações fechadas, ${int(r['wins'] as number, l)} com lucro (${pct(r['winRatePct'] as number | null, l)}), resultado ${quote(r['profitQuote'] as number, l)}.`,
      `${capitalized(lastWindow(r['days'], 'd', l))}: ${int(r['closedTrades'] as number, l)} trades closed, ${int(r['wins'] as number, l)} winners (${pct(r['winRatePct'] as number | null, l)}), result ${quote(r['profitQuote'] as number, l)}.`,
    ),
  list_bots: (r, l) => {
    const listed = r['bots'] as Result[];
    const byStatus = Object.entries(r['byStatus'] as Record<string, number>)
      .map(([status, n]) => `${int(n, l)} ${status}`)
      .join(', ');
    return [
      t(
        l,
        `${int(r['total'] as number, l)} robôs (${byStatus || 'nenhum'}).`,
        `${int(r['total'] as number, l)} bots (${byStatus || 'none'}).`,
      ),
      ...listed.map(
        (b) =>
          `- ${b['name']} (${b['strategy']}, ${(b['symbols'] as string[]).join(', ')}, ${b['timeframe']}, ${b['mode']}): ${b['status']}${b['owner'] ? ` — ${b['owner']}` : ''}`,
      ),
    ].join('\n');
  },
  bot_details: (r, l) => {
    const bot = r['bot'] as Result;
    const held = r['trades'] as Result;
    return t(
      l,
      `${bot['name']} (${bot['strategy']}, ${(bot['symbols'] as string[]).join(', ')}, ${bot['mode']}): ${bot['status']}. Operações: ${int(held['open'] as number, l)} abertas, ${int(held['closed'] as number, l)} fechadas, ${int(held['wins'] as number, l)} com lucro, resultado ${quote(held['profitQuote'] as number, l)}.`,
      `${bot['name']} (${bot['strategy']}, ${(bot['symbols'] as string[]).join(', ')}, ${bot['mode']}): ${bot['status']}. Trades: ${int(held['open'] as number, l)} open, ${int(held['closed'] as number, l)} closed, ${int(held['wins'] as number, l)} winners, result ${quote(held['profitQuote'] as number, l)}.`,
    );
  },
  list_bot_trades: (r, l) => {
    const listed = r['trades'] as Result[];
    return [
      t(l, `Operações do robô ${r['botId']}: ${int(listed.length, l)}.`, `Trades of bot ${r['botId']}: ${int(listed.length, l)}.`),
      ...listed.map(
        (trade) =>
          `- ${trade['openedAt']} ${trade['symbol']} ${trade['status']} ${trade['amountBase']} @ ${trade['openPriceQuote']}${trade['profitQuote'] === null ? '' : ` → ${quote(Number(trade['profitQuote']), l)}`}`,
      ),
    ].join('\n');
  },
  submit_backtest: (r, l) =>
    t(
      l,
      `Backtest ${r['backtestId']} na fila (${int(r['candles'] as number, l)} candles).`,
      `Backtest ${r['backtestId']} queued (${int(r['candles'] as number, l)} candles).`,
    ),
  market_candles: (r, l) => {
    const listed = r['candles'] as Result[];
    const last = listed.at(-1);
    return t(
      l,
      `${r['symbol']} ${r['timeframe']}: ${int(listed.length, l)} candles${last ? `, último fechamento ${last['close']} em ${last['time']}` : ''}.`,
      `${r['symbol']} ${r['timeframe']}: ${int(listed.length, l)} candles${last ? `, last close ${last['close']} at ${last['time']}` : ''}.`,
    );
  },
  backtest_result: (r, l) => {
    const backtest = r['backtest'] as Result;
    const metrics = r['metrics'] as Result | null;
    const head = `${backtest['strategy']} ${backtest['symbol']} ${backtest['timeframe']}: ${backtest['status']}`;
    if (!metrics) return backtest['error'] ? `${head} (${backtest['error']})` : head;
    return t(
      l,
      `${head}, ${int(metrics['trades'] as number, l)} operações, retorno ${pct(metrics['totalReturnPct'] as number, l)}, rebaixamento máximo ${pct(metrics['maxDrawdownPct'] as number, l)}.`,
      `${head}, ${int(metrics['trades'] as number, l)} trades, return ${pct(metrics['totalReturnPct'] as number, l)}, max drawdown ${pct(metrics['maxDrawdownPct'] as number, l)}.`,
    );
  },
  create_bot: (r, l) => {
    const bot = r['bot'] as Result;
    return t(
      l,
      `Robô ${bot['name']} criado (${bot['id']}), parado até ser iniciado.`,
      `Bot ${bot['name']} created (${bot['id']}), stopped until started.`,
    );
  },
  open_positions: (r, l) => {
    const positions = r['positions'] as Result[];
    return positions.length === 0
      ? t(l, 'Nenhuma posição aberta.', 'No open positions.')
      : positions.map((p) => `- ${p['symbol']}: ${p['amountBase']} @ ${p['entryPriceQuote']}`).join('\n');
  },
  risk_status: (r, l) => {
    const attention = r['attention'] as Result[];
    const total = (r['attentionTotal'] as number | undefined) ?? attention.length;
    const head = t(
      l,
      `Resultado de hoje: ${quote(r['todayProfitQuote'] as number, l)}; ${int((r['runningBots'] as number | undefined) ?? 0, l)} robôs rodando.`,
      `Today's result: ${quote(r['todayProfitQuote'] as number, l)}; ${int((r['runningBots'] as number | undefined) ?? 0, l)} bots running.`,
    );
    if (total === 0) return `${head} ${t(l, 'Nenhum robô precisa de atenção.', 'No bot needs attention.')}`;
    const more =
      total > attention.length
        ? [t(l, `… e mais ${int(total - attention.length, l)}.`, `… and ${int(total - attention.length, l)} more.`)]
        : [];
    return [
      head,
      t(l, `${int(total, l)} robôs precisam de atenção:`, `${int(total, l)} bots need attention:`),
      ...attention.map((b) => `- ${b['name']}: ${b['status']}${b['reason'] ? ` (${b['reason']})` : ''}`),
      ...more,
    ].join('\n');
  },
  search_knowledge_base: (r, l) => {
    const articles = r['articles'] as Result[];
    return articles.length === 0
      ? t(l, 'Nada encontrado na base de conhecimento.', 'Nothing found in the knowledge base.')
      : articles.map((a) => `- ${a['title']}: ${a['excerpt']}`).join('\n');
  },
  open_tickets: (r, l) => {
    const tickets = r['tickets'] as Result[];
    const head = t(
      l,
      `${int(r['total'] as number, l)} tickets abertos, ${int(r['overdue'] as number, l)} fora do SLA.`,
      `${int(r['total'] as number, l)} open tickets, ${int(r['overdue'] as number, l)} past SLA.`,
    );
    return [
      head,
      ...tickets.map(
        (tk) =>
          `- #${String(tk['id']).slice(0, 8)} [${statusWord(String(tk['priority']), l)}] ${tk['subject']} (${statusWord(String(tk['status']), l)}${tk['overdue'] ? t(l, ', atrasado', ', overdue') : ''})`,
      ),
    ].join('\n');
  },
  recent_security_events: (r, l) => {
    const byType = Object.entries(r['byType'] as Record<string, number>)
      .map(([type, n]) => `${type} ${int(n, l)}`)
      .join(', ');
    return t(
      l,
      `${int(r['total'] as number, l)} eventos de segurança ${lastWindow(r['hours'], 'h', l)}${byType ? `: ${byType}` : ''}.`,
      `${int(r['total'] as number, l)} security events ${lastWindow(r['hours'], 'h', l)}${byType ? `: ${byType}` : ''}.`,
    );
  },
  detect_anomalies: (r, l) => {
    const findings = r['findings'] as Result[];
    const period = lastWindow(r['hours'], 'h', l);
    if (findings.length === 0)
      return t(l, `Nenhuma anomalia ${period} (só esse período foi verificado).`, `No anomalies ${period} (only that period was checked).`);
    return [
      `${capitalized(period)}:`,
      ...findings.map((f) =>
        f['kind'] === 'order_burst'
          ? `- order_burst: ${f['email'] ?? '?'}, ${t(l, 'robô', 'bot')} ${f['botId'] ?? '?'} (${int(f['count'] as number, l)} ${t(l, 'ordens', 'orders')})`
          : `- ${f['kind']}: ${f['email'] ?? '?'} ${t(l, 'de', 'from')} ${f['ip'] ?? '?'} (${int(f['count'] as number, l)}×)`,
      ),
    ].join('\n');
  },
  verify_audit_chain: (r, l) =>
    r['ok']
      ? t(
          l,
          `Trilha de auditoria íntegra: ${int(r['rowsChecked'] as number, l)} registros verificados.`,
          `Audit trail intact: ${int(r['rowsChecked'] as number, l)} rows verified.`,
        )
      : t(
          l,
          `Trilha de auditoria QUEBRADA no registro ${r['badRowId']}: ${r['message']}`,
          `Audit trail BROKEN at row ${r['badRowId']}: ${r['message']}`,
        ),
  query_audit_log: (r, l) => {
    const entries = r['entries'] as Result[];
    return entries.length === 0
      ? t(l, `Nenhum registro ${lastWindow(r['hours'], 'h', l)}.`, `No entries ${lastWindow(r['hours'], 'h', l)}.`)
      : entries
          .map((e) => `#${e['id']} ${String(e['at']).slice(0, 16).replace('T', ' ')} ${e['tool'] ?? e['action']} → ${e['outcome']}`)
          .join('\n');
  },
  system_status: (r, l) => {
    const workers = r['workers'] as Result[];
    const bots = Object.entries(r['bots'] as Record<string, number>)
      .map(([status, n]) => `${int(n, l)} ${status}`)
      .join(', ');
    const alive = workers.filter((w) => w['alive']).length;
    const notTicked = r['runningBotsNotTicked'] as number;
    return [
      t(
        l,
        `Workers: ${int(alive, l)} ativos de ${int(workers.length, l)}; filas: ${r['jobs'] === 'bullmq' ? 'BullMQ' : 'no processo'}.`,
        `Workers: ${int(alive, l)} alive of ${int(workers.length, l)}; queues: ${r['jobs'] === 'bullmq' ? 'BullMQ' : 'in-process'}.`,
      ),
      t(l, `Robôs: ${bots || 'nenhum'}`, `Bots: ${bots || 'none'}`) +
        (notTicked > 0 ? t(l, ` (${int(notTicked, l)} rodando sem tick)`, ` (${int(notTicked, l)} running, not ticked)`) : '') +
        '.',
      t(l, `Feeds de mercado parados: ${int(r['staleFeeds'] as number, l)}.`, `Stale market feeds: ${int(r['staleFeeds'] as number, l)}.`),
    ].join('\n');
  },
  ...DOMAIN_TEMPLATES,
};

/** A plain rendering of a tool result in the staff member's language (every catalogue tool has a template). */
export function renderToolResult(tool: string, result: unknown, locale: Locale): string {
  const template = TEMPLATES[tool];
  if (template && result && typeof result === 'object') return template(result as Result, locale);
  return t(locale, `${tool}: concluído.`, `${tool}: done.`);
}

/** Tools that have a template (a test keeps it equal to the catalogue). */
export const TEMPLATED_TOOLS: readonly string[] = Object.keys(TEMPLATES);
