import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBrlCents } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { invokeTool, TOOLS, type Actor } from '../../tools/index.ts';
import { EXECUTIVE_REPORT, recoverInterruptedRuns, runExecutiveReport, type ReportOutput } from '../../workflows/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { lastMessage, startFakeOllama, type FakeOllama, type OllamaChatRequest, type ScriptedReply } from '../support/fake-ollama.ts';
import {
  ceoActor,
  NOW,
  recordSnapshots,
  rewindBefore,
  seedDemo,
  workflowRuntime,
  type WorkflowRuntime,
} from '../support/workflow-fixture.ts';

const int = (n: number, locale: 'pt-BR' | 'en' = 'pt-BR') => new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'pt-BR').format(n);
const usdt = (n: number, locale: 'pt-BR' | 'en' = 'pt-BR') =>
  `${new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'pt-BR', { maximumFractionDigits: 2 }).format(n)} USDT`;

describe('executive-report workflow on the demo company', () => {
  let test: TestDatabase;
  let fake: FakeOllama;
  let ceo: Actor;
  let offline: WorkflowRuntime;
  let online: WorkflowRuntime;
  /** What the tools compute for the daily period, called directly as the CEO. */
  const expected: Record<string, unknown> = {};

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    await seedDemo(test.handle.db);
    fake = await startFakeOllama(() => ({ content: 'ok' }));
    offline = workflowRuntime(test.handle.db);
    online = workflowRuntime(test.handle.db, { ollamaUrl: fake.url });
    ceo = await ceoActor(test.handle.db);
    const calls: [string, Record<string, unknown>][] = [
      ['revenue_summary', { months: 1, days: 1 }],
      ['failed_payments', { days: 1 }],
      ['trading_pnl', { days: 1 }],
      ['risk_status', {}],
      ['recent_security_events', { hours: 24 }],
      ['detect_anomalies', { hours: 24 }],
      ['open_tickets', { limit: 5 }],
      ['sales_funnel', { days: 1 }],
      ['campaign_performance', { days: 1 }],
    ];
    for (const [tool, args] of calls) {
      const outcome = await invokeTool(TOOLS, offline.ctxFor(ceo), tool, args);
      expect(outcome.ok, tool).toBe(true);
      expected[tool] = (outcome as { result: unknown }).result;
    }
  }, 120_000);
  afterAll(async () => {
    await fake?.close();
    await test?.dispose();
  });

  it('offline: every department figure exactly as the tools computed it, in a complete template report', async () => {
    const report = await runExecutiveReport(offline.mastra, { period: 'daily', asOf: NOW });
    const f = report.figures as Record<string, Record<string, unknown>>;
    expect(f['finance']).toEqual({ revenue_summary: expected['revenue_summary'], failed_payments: expected['failed_payments'] });
    expect(f['trading']).toEqual({ trading_pnl: expected['trading_pnl'], risk_status: expected['risk_status'] });
    expect(f['security']).toEqual({
      recent_security_events: expected['recent_security_events'],
      detect_anomalies: expected['detect_anomalies'],
    });
    expect(f['support']).toEqual({ open_tickets: expected['open_tickets'] });
    expect(f['sales']).toEqual({ sales_funnel: expected['sales_funnel'] });
    expect(f['marketing']).toEqual({ campaign_performance: expected['campaign_performance'] });
    expect(f['audit']!['verify_audit_chain']).toMatchObject({ ok: true });
    expect(f['system']).toMatchObject({ model: 'down', pendingApprovals: 3 });
    expect(report).toMatchObject({
      summaryFrom: 'template',
      fallback: 'offline',
      grounded: true,
      modelCalls: 0,
      locale: 'pt-BR',
      delivery: { queued: false },
    });

    // The text states them as the tools computed them.
    const revenue = expected['revenue_summary'] as { mrrCents: number; arrCents: number; arpuCents: number; payingCustomers: number };
    const failed = expected['failed_payments'] as { failedPayments: number; atRiskCents: number; pastDueSubscriptions: number };
    const pnl = expected['trading_pnl'] as { closedTrades: number; profitQuote: number; wins: number };
    const risk = expected['risk_status'] as { runningBots: number; attentionTotal: number };
    const events = expected['recent_security_events'] as { total: number };
    const tickets = expected['open_tickets'] as { total: number; overdue: number };
    const funnel = expected['sales_funnel'] as { createdLeads: number; openLeads: number; openPipelineCents: number };
    const campaigns = expected['campaign_performance'] as { totals: { campaigns: number; spentCents: number; leads: number } };
    const text = report.text;
    for (const piece of [
      `MRR ${formatBrlCents(revenue.mrrCents)}`,
      `ARR ${formatBrlCents(revenue.arrCents)}`,
      `ARPU ${formatBrlCents(revenue.arpuCents)}`,
      `${int(revenue.payingCustomers)} clientes pagantes`,
      `Pagamentos falhos em 24 h: ${int(failed.failedPayments)}`,
      `em risco agora: ${formatBrlCents(failed.atRiskCents)}`,
      `em atraso agora: ${int(failed.pastDueSubscriptions)}`,
      `${int(pnl.closedTrades)} operações fechadas em 24 h, ${int(pnl.wins)} com lucro`,
      `resultado ${usdt(pnl.profitQuote)}`,
      `${int(risk.runningBots)} robôs rodando, ${int(risk.attentionTotal)} precisam de atenção`,
      `${int(events.total)} eventos em 24 h`,
      `${int(tickets.total)} tickets abertos, ${int(tickets.overdue)} fora do SLA`,
      `${int(funnel.createdLeads)} leads novos em 24 h`,
      `em aberto ${int(funnel.openLeads)} leads (${formatBrlCents(funnel.openPipelineCents)}/mês)`,
      `${int(campaigns.totals.campaigns)} campanhas no período: gasto ${formatBrlCents(campaigns.totals.spentCents)}, ${int(campaigns.totals.leads)} leads`,
      'trilha íntegra',
      '3 aprovações pendentes',
      'modelo offline',
    ])
      expect(text, piece).toContain(piece);
    expect(text).toMatch(
      /^📊 Relatório executivo diário — 01\/11\/2026\n\n\(modelo offline: resumo automático a partir dos números\)\nO MRR está em R\$/,
    );
    expect(text.length).toBeLessThan(3_500);
    // Every department tool ran once, through the tool layer, audited as the workflow.
    const audited = await test.handle.db
      .select({ tool: db.auditLog.tool })
      .from(db.auditLog)
      .where(and(eq(db.auditLog.actorId, 'system:workflow:executive-report'), eq(db.auditLog.action, 'tool.call')));
    expect(audited.map((a) => a.tool).sort()).toEqual([...Object.keys(expected), 'verify_audit_chain'].sort());
  });

  it('weekly, in English, sent: one executive_report notification to the CEO, however often the run is repeated', async () => {
    const report = await runExecutiveReport(offline.mastra, {
      period: 'weekly',
      asOf: NOW,
      locale: 'en',
      send: true,
      runId: 'weekly-test',
    });
    expect(report.text).toMatch(/^📊 Weekly executive report — week to 2026-11-01\n\n\(model offline/);
    expect(report.text).toContain('trades closed in 7 days');
    expect(report.delivery).toMatchObject({ queued: true, duplicate: false });
    const again = await runExecutiveReport(workflowRuntime(test.handle.db).mastra, {
      period: 'weekly',
      asOf: NOW,
      locale: 'en',
      send: true,
      runId: 'weekly-test',
    });
    expect(again.text).toBe(report.text);
    const rows = await test.handle.db.select().from(db.notifications).where(eq(db.notifications.type, 'executive_report'));
    expect(rows).toHaveLength(1);
    // The outbox writes the title itself: the body starts with the summary.
    expect(rows[0]).toMatchObject({
      recipientUserId: (ceo as { userId: string }).userId,
      payload: { period: 'weekly', body: report.text.split('\n\n').slice(1).join('\n\n'), asOf: NOW.toISOString() },
      dedupeKey: 'executive_report:weekly-test',
    });
    expect((rows[0]!.payload as { body: string }).body).toMatch(/^\(model offline: automatic summary from the figures\)\nMRR stands at/);
    const charts = await test.handle.db.select().from(db.notifications).where(eq(db.notifications.type, 'chart'));
    expect(charts).toMatchObject([
      {
        id: report.delivery.chartNotificationId,
        recipientUserId: (ceo as { userId: string }).userId,
        payload: { kind: 'revenue_mrr', months: 12, asOf: NOW.toISOString() },
        dedupeKey: 'executive_report:weekly-test:chart',
      },
    ]);
  });

  it('killed after queuing the report, before its snapshot was written: resumed, it queues nothing more', async () => {
    const runtime = workflowRuntime(test.handle.db);
    const recorded = await recordSnapshots(runtime.mastra);
    const report = await runExecutiveReport(runtime.mastra, { period: 'daily', asOf: NOW, send: true, runId: 'daily-crash' });
    expect(report.delivery).toMatchObject({ queued: true, duplicate: false });
    await rewindBefore(test.handle.db, recorded, EXECUTIVE_REPORT, 'daily-crash', 'deliver');
    const [recovered] = await recoverInterruptedRuns(workflowRuntime(test.handle.db).mastra, [EXECUTIVE_REPORT], { staleAfterMs: 0 });
    expect(recovered).toMatchObject({
      runId: 'daily-crash',
      status: 'success',
      result: { text: report.text, delivery: { queued: true, duplicate: true, notificationId: report.delivery.notificationId } },
    });
    expect(await test.handle.db.$count(db.notifications, eq(db.notifications.dedupeKey, 'executive_report:daily-crash'))).toBe(1);
    expect(await test.handle.db.$count(db.notifications, eq(db.notifications.dedupeKey, 'executive_report:daily-crash:chart'))).toBe(1);
  });

  it('with the model: the CEO agent writes the summary from the figures, with no tools offered', async () => {
    let request: OllamaChatRequest | undefined;
    fake.script = (r) => {
      request = r;
      const facts = JSON.parse(lastMessage(r).content) as Record<string, number>;
      return {
        content: `O MRR ficou em R$ ${facts['mrr_brl']!.toLocaleString('pt-BR', { minimumFractionDigits: 2 })} com ${facts['paying_customers']} clientes pagantes. Há ${facts['pending_approvals']} aprovações pendentes.`,
      };
    };
    const report = await runExecutiveReport(online.mastra, { period: 'daily', asOf: NOW });
    expect(report).toMatchObject({ summaryFrom: 'model', fallback: null, grounded: true, modelCalls: 1 });
    expect(report.text).toContain('O MRR ficou em R$');
    expect(report.text).toContain('💰 Financeiro: MRR');
    expect(request!.tools ?? []).toHaveLength(0);
    expect(request!.think).toBe(false);
    expect(request!.messages[0]!.content).toContain('relatório executivo diário');
  });

  it('a summary with an invented figure is discarded, audited and counted; the template writes it', async () => {
    fake.script = (): ScriptedReply => ({ content: 'A receita cresceu 37 % e temos 9999 clientes.' });
    const report = await runExecutiveReport(online.mastra, { period: 'daily', asOf: NOW });
    expect(report).toMatchObject({ summaryFrom: 'template', fallback: 'unverified', grounded: false });
    expect(report.unsupported).toEqual(expect.arrayContaining(['9999']));
    expect(report.text).not.toContain('9999');
    expect(report.text).toContain('(o texto do modelo citava números que as ferramentas não deram: resumo automático)');
    const [row] = await test.handle.db
      .select({ n: sql<number>`count(*)::int` })
      .from(db.auditLog)
      .where(eq(db.auditLog.action, 'agent.ungrounded_answer'));
    expect(row!.n).toBeGreaterThanOrEqual(1);
    expect(await online.metrics.registry.getSingleMetricAsString('agent_ungrounded_answers_total')).toContain('agent="ceo"');
  });

  it.each([
    ['a claim of an action', 'Pronto, pausei as campanhas e reembolsei os clientes atrasados.', 'unbacked_claim'],
    ['the wrong language', 'The business did well this week and the team should keep going with the current plan.', 'wrong_language'],
    ['raw JSON', '{"summary": "O negócio foi bem', 'markup'],
    ['a secret', 'Tudo certo; a chave do Stripe é sk_live_51ReportLeakAbCdEf.', 'secret'],
  ])('a summary with %s fails the answer gate: audited, counted, and the template writes it', async (_what, content, reason) => {
    fake.script = (): ScriptedReply => ({ content });
    const report = await runExecutiveReport(online.mastra, { period: 'daily', asOf: NOW });
    expect(report).toMatchObject({ summaryFrom: 'template', fallback: 'rejected', grounded: true });
    expect(report.text).not.toContain(content.slice(0, 20));
    expect(report.text).toContain('(o texto do modelo não passou na verificação de respostas: resumo automático)');
    const rows = await test.handle.db
      .select({ details: db.auditLog.details })
      .from(db.auditLog)
      .where(eq(db.auditLog.action, 'agent.rejected_answer'));
    expect(rows.at(-1)!.details).toMatchObject({ reason, workflow: 'executive-report' });
    expect(await online.metrics.registry.getSingleMetricAsString('agent_rejected_answers_total')).toContain(`reason="${reason}"`);
  });

  it('a model that does not answer in time: the template report, saying so', async () => {
    fake.script = () => new Promise<ScriptedReply>((resolve) => setTimeout(() => resolve({ content: 'tarde demais' }), 5_000));
    const slow = workflowRuntime(test.handle.db, { ollamaUrl: fake.url, timeoutMs: 300 });
    const report: ReportOutput = await runExecutiveReport(slow.mastra, { period: 'daily', asOf: NOW });
    expect(report).toMatchObject({ summaryFrom: 'template', fallback: 'timed out' });
    expect(report.text).toContain('(o modelo não respondeu a tempo: resumo automático)');
  });
});
