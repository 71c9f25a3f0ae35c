import type { Mastra } from '@mastra/core';
import { RequestContext } from '@mastra/core/request-context';
import { checkGrounding, gateAnswer, TURN_KEY, type GateReason, type TurnState } from '../agents/index.ts';
import { auditAgentEvent } from '../tools/index.ts';
import type { WorkflowDeps } from './deps.ts';
import { toolContext } from './deps.ts';
import { anomalyCounts, type Locale, type Period, type ReportFigures, type SummaryFallback } from './report-template.ts';

// The CEO agent writes the report's summary in one model call, from a small set of figures
// the workflow hands it (no tools: the numbers are already there). Every number it writes is
// checked against those figures; one it cannot account for discards the text, and the
// deterministic highlights take its place.

/** Longest summary kept from the model (the whole report must fit one Telegram message). */
const MAX_SUMMARY_CHARS = 900;

export interface CeoSummary {
  /** The model's text, when it was used. */
  readonly text?: string | undefined;
  readonly fallback?: SummaryFallback | undefined;
  readonly grounded: boolean;
  readonly unsupported: readonly string[];
  /** The answer gate's rule the model's text failed, when it did (the template took its place). */
  readonly rejectedBecause?: GateReason | undefined;
  readonly modelCalls: number;
  readonly modelMs: number;
}

/** The few figures the model sees, in the units a reader uses (reais, USDT, percent). */
export function summaryFacts(f: ReportFigures, period: Period, asOf: Date): Record<string, unknown> {
  const revenue = f.finance.revenue_summary;
  const reais = (cents: number | null | undefined) => (cents == null ? null : Math.round(cents) / 100);
  return {
    period,
    date: asOf.toISOString().slice(0, 10),
    mrr_brl: reais(revenue?.mrrCents),
    arr_brl: reais(revenue?.arrCents),
    paying_customers: revenue?.payingCustomers ?? null,
    // The report's period (1 or 7 days), as every flow below; churn over the standard 30 days.
    window_days: period === 'daily' ? 1 : 7,
    net_new_mrr_in_window_brl: reais(revenue?.netNewMrr.netNewCents),
    churn_window_days: revenue?.churnWindowDays ?? null,
    customer_churn_30d_pct: revenue?.customerChurn30dPct ?? null,
    failed_payments_in_window: f.finance.failed_payments?.failedPayments ?? null,
    at_risk_brl: reais(f.finance.failed_payments?.atRiskCents),
    closed_trades_in_window: f.trading.trading_pnl?.closedTrades ?? null,
    trading_result_in_window_usdt: f.trading.trading_pnl?.profitQuote ?? null,
    win_rate_in_window_pct: f.trading.trading_pnl?.winRatePct ?? null,
    running_bots: f.trading.risk_status?.runningBots ?? null,
    bots_needing_attention: f.trading.risk_status?.attentionTotal ?? null,
    security_events: f.security.recent_security_events?.total ?? null,
    anomalies: anomalyCounts(f.security.detect_anomalies),
    open_tickets: f.support.open_tickets?.total ?? null,
    tickets_past_sla: f.support.open_tickets?.overdue ?? null,
    new_leads: f.sales.sales_funnel?.createdLeads ?? null,
    leads_won: f.sales.sales_funnel?.wonInPeriod ?? null,
    campaign_spend_brl: reais(f.marketing.campaign_performance?.totals.spentCents),
    audit_trail_intact: f.audit.verify_audit_chain?.ok ?? null,
    pending_approvals: f.system.pendingApprovals,
  };
}

function instructionsFor(period: Period, locale: Locale): string {
  const pt = period === 'daily' ? 'diário' : 'semanal';
  const windowEn = period === 'daily' ? 'the last 24 h' : 'the last 7 days';
  const windowPt = period === 'daily' ? 'as últimas 24 h' : 'os últimos 7 dias';
  return locale === 'en'
    ? `You write the summary of BotCriptoFy's ${period} executive report for the CEO. Use only the figures in the JSON, written as they are (money in reais, R$). Say each figure's window: MRR, ARR and paying customers are now; the *_in_window figures cover ${windowEn}; churn covers 30 days. 3 to 5 short sentences: how the business did and what needs attention. No title, no list, no other numbers.`
    : `Você escreve o resumo do relatório executivo ${pt} da BotCriptoFy para o CEO. Use só os números do JSON, escritos como estão (dinheiro em reais, R$). Diga a janela de cada número: MRR, ARR e clientes pagantes são de agora; os *_in_window cobrem ${windowPt}; o churn cobre 30 dias. De 3 a 5 frases curtas: como foi o negócio e o que pede atenção. Sem título, sem lista, sem outros números.`;
}

function describeError(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  if (cause?.code) return cause.code;
  if ((error as Error).name === 'TimeoutError') return 'timed out';
  return (error as Error).message ?? String(error);
}

function trimSummary(text: string): string {
  const clean = text.replace(/<think>[\s\S]*?<\/think>/g, '').trim();
  if (clean.length <= MAX_SUMMARY_CHARS) return clean;
  const cut = clean.slice(0, MAX_SUMMARY_CHARS);
  const end = Math.max(cut.lastIndexOf('. '), cut.lastIndexOf('.\n'));
  return end > 200 ? cut.slice(0, end + 1) : `${cut.trimEnd()}…`;
}

/** One model call through the CEO agent (no tools), checked for grounding. */
export async function writeCeoSummary(
  mastra: Mastra,
  deps: WorkflowDeps,
  options: { figures: ReportFigures; period: Period; asOf: Date; locale: Locale; useModel: boolean; workflowId: string },
): Promise<CeoSummary> {
  const none = (fallback: SummaryFallback, meter = { calls: 0, ms: 0 }): CeoSummary => ({
    fallback,
    grounded: true,
    unsupported: [],
    modelCalls: meter.calls,
    modelMs: Math.round(meter.ms),
  });
  if (!options.useModel) return none('not used');
  const status = await deps.gateway.status();
  if (status.state !== 'ready') {
    deps.logger.warn({ reason: status.message }, 'executive report: model unavailable; the summary is written from the figures');
    return none(status.state === 'missing' ? 'missing' : 'offline');
  }
  const facts = summaryFacts(options.figures, options.period, options.asOf);
  const meter = { calls: 0, ms: 0 };
  const state: TurnState = {
    meter,
    callTool: async (name) => ({
      ok: false,
      tool: name,
      error: 'forbidden',
      message: 'No tools while writing the report summary.',
      durationMs: 0,
    }),
    delegate: async () => ({ error: 'No delegation while writing the report summary.' }),
  };
  const requestContext = new RequestContext();
  requestContext.set(TURN_KEY, state);
  const timeoutMs = deps.gateway.settings.timeoutMs;
  let text: string;
  try {
    const output = await mastra.getAgentById('ceo').generate([{ role: 'user', content: JSON.stringify(facts) }], {
      instructions: instructionsFor(options.period, options.locale),
      toolChoice: 'none',
      activeTools: [],
      maxSteps: 1,
      requestContext,
      modelSettings: { temperature: 0, maxRetries: 0, timeout: { stepMs: timeoutMs, totalMs: timeoutMs } },
      providerOptions: { ollama: { think: false } },
    });
    if (output.error) throw output.error;
    text = trimSummary(output.text ?? '');
  } catch (error) {
    deps.gateway.forgetStatus();
    const reason = describeError(error);
    deps.logger.warn({ reason }, 'executive report: the model call failed; the summary is written from the figures');
    return none(/tim(ed|e)\s?out/i.test(reason) ? 'timed out' : 'offline', meter);
  }
  if (!text) return none('unverified', meter);
  const verdict = checkGrounding(text, [facts, options.figures], [options.asOf.toISOString().slice(0, 10)]);
  if (!verdict.grounded) {
    deps.metrics?.agentUngroundedAnswers.inc({ agent: 'ceo' });
    deps.metrics?.agentRejectedAnswers.inc({ agent: 'ceo', reason: 'ungrounded' });
    deps.logger.warn(
      { unsupported: verdict.unsupported },
      'executive report: the summary stated figures no tool produced; replaced by the template',
    );
    await auditAgentEvent({ ...toolContext(deps, options.workflowId, options.asOf), agent: 'ceo' }, 'agent.ungrounded_answer', {
      unsupported: verdict.unsupported,
      workflow: options.workflowId,
    });
    return {
      fallback: 'unverified',
      grounded: false,
      unsupported: verdict.unsupported,
      modelCalls: meter.calls,
      modelMs: Math.round(meter.ms),
    };
  }
  // No tools ran: any claim of an action is unbacked; the language is the report's.
  const gate = gateAnswer({ answer: text, locale: options.locale, outcomes: [], secrets: deps.secrets });
  if (!gate.ok) {
    deps.metrics?.agentRejectedAnswers.inc({ agent: 'ceo', reason: gate.reason });
    deps.logger.warn(
      { reason: gate.reason, detail: gate.detail },
      'executive report: the summary failed the answer gate; replaced by the template',
    );
    await auditAgentEvent({ ...toolContext(deps, options.workflowId, options.asOf), agent: 'ceo' }, 'agent.rejected_answer', {
      reason: gate.reason,
      detail: gate.detail,
      workflow: options.workflowId,
    });
    return {
      fallback: 'rejected',
      grounded: true,
      unsupported: [],
      rejectedBecause: gate.reason,
      modelCalls: meter.calls,
      modelMs: Math.round(meter.ms),
    };
  }
  return { text, grounded: true, unsupported: [], modelCalls: meter.calls, modelMs: Math.round(meter.ms) };
}
