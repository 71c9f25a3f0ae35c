import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOffline } from '../agents/index.ts';
import {
  FINANCE_FIGURES,
  formatBrlCents,
  financeSummary,
  lastDays,
  mrrMovements,
  paymentRisk,
  type FinanceSummary,
} from '../billing/index.ts';
import { renderFinanceSummary } from '../cli/commands/billing.ts';
import { openDatabase, queryRows, runMigrations } from '../db/index.ts';
import { COMPANY_FIGURES, tradingPnl, TRADING_FIGURES } from '../figures/index.ts';
import type { UpdateContext } from '../telegram/update-context.ts';
import { reportCommand } from '../telegram/staff.ts';
import { invokeTool, TOOLS, type Actor, type ToolContext } from '../tools/index.ts';
import { runExecutiveReport } from '../workflows/index.ts';
import { runCli, runCliHere } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/databases.ts';
import { ceoActor, DEMO_AS_OF, seedDemo, workflowRuntime, type WorkflowRuntime } from './support/workflow-fixture.ts';

// One figure, one value per window, on every surface (the issue: customer churn was 0 % in the
// daily report, 2.58 % in the weekly one, 3.35 % from `ask ceo` and 5.11 % from `billing mrr`;
// LTV R$ 7,668.63 in one place and R$ 3.875,75 in another). On the seeded demo company, each
// surface is asked for each figure and must give the one value billing/figures.ts and
// figures/trading.ts compute for that window, and print the window next to it.
//
// The instant asked about is two days after the demo's date: the demo closes some trades up
// to 36 h after it, and at a real "now" nothing has closed later than now.
const NOW = new Date(DEMO_AS_OF.getTime() + 2 * 86_400_000);

const brl = (cents: number) => formatBrlCents(cents, 'pt-BR');
/** A percentage as the pt-BR templates write it ("5,26 %"). */
const ptPct = (value: number | null) =>
  value === null ? '–' : `${new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 2 }).format(value)} %`;
const usdt = (value: number) => `${new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 2 }).format(value)} USDT`;

async function tool<T = Record<string, unknown>>(ctx: ToolContext, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const outcome = await invokeTool(TOOLS, ctx, name, args);
  if (!outcome.ok || !('result' in outcome)) throw new Error(`${name}: ${JSON.stringify(outcome)}`);
  return outcome.result as T;
}

type RevenueSummary = {
  asOf: string;
  mrrCents: number;
  arrCents: number;
  payingCustomers: number;
  arpuCents: number;
  churnWindowDays: number;
  ltvChurnWindowDays: number;
  customerChurn30dPct: number | null;
  customersLost30d: number;
  payingCustomers30dAgo: number;
  revenueChurn30dPct: number | null;
  monthlyChurn90dPct: number | null;
  ltvCents: number | null;
  netNewMrr: {
    days: number;
    netNewCents: number;
    newCents: number;
    expansionCents: number;
    contractionCents: number;
    churnedCents: number;
  };
};
type CompanyKpis = {
  finance: {
    mrrCents: number;
    arrCents: number;
    payingCustomers: number;
    customerChurn30dPct: number | null;
    netNewMrr30dCents: number;
    failedPayments30d: number;
    atRiskCents: number;
  };
  trading: { runningBots: number; closedTrades30d: number; profit30dQuote: number; winRate30dPct: number | null };
};

/** The figures every surface must show for the standard windows, from a finance summary. */
function standardFigures(
  s: Pick<
    FinanceSummary,
    'mrrCents' | 'arrCents' | 'payingCustomers' | 'arpuCents' | 'customerChurnPct' | 'revenueChurnPct' | 'monthlyChurn90dPct' | 'ltvCents'
  >,
) {
  return {
    mrrCents: s.mrrCents,
    arrCents: s.arrCents,
    payingCustomers: s.payingCustomers,
    arpuCents: s.arpuCents,
    customerChurn30dPct: s.customerChurnPct,
    revenueChurn30dPct: s.revenueChurnPct,
    monthlyChurn90dPct: s.monthlyChurn90dPct,
    ltvCents: s.ltvCents,
  };
}

describe('the definitions', () => {
  it('name every company figure once, each with a formula and a window', () => {
    const ids = COMPANY_FIGURES.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining([
        'mrr',
        'arr',
        'paying_customers',
        'arpu',
        'customer_churn',
        'revenue_churn',
        'ltv',
        'net_new_mrr',
        'failed_payments',
        'trading_pnl',
        'win_rate',
        'closed_trades',
      ]),
    );
    for (const f of COMPANY_FIGURES)
      for (const field of [f.label, f.formula, f.window, f.source]) expect(field.length, f.id).toBeGreaterThan(1);
    expect(COMPANY_FIGURES).toEqual([...FINANCE_FIGURES, ...TRADING_FIGURES]);
  });
});

describe('one value per figure and window on every surface (demo company)', () => {
  let test: TestDatabase;
  let runtime: WorkflowRuntime;
  let ceo: Actor;
  let ctx: ToolContext;
  /** What `billing mrr --json` prints (the function the command calls), at the tests' instant. */
  let summary: FinanceSummary;

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    await seedDemo(test.handle.db, 120);
    runtime = workflowRuntime(test.handle.db, { now: () => NOW });
    const [latest] = await queryRows<{ closed: string | null }>(test.handle.db, sql`select max(closed_at)::text as closed from trades`);
    expect(new Date(latest!.closed!).getTime()).toBeLessThan(NOW.getTime());
    ceo = await ceoActor(test.handle.db);
    ctx = runtime.ctxFor(ceo);
    summary = await financeSummary(test.handle.db, { asOf: NOW, months: 12 });
    // The demo has churn in both windows, so the figures below are not trivially equal.
    expect(summary.last30d.customersLost).toBeGreaterThan(0);
    expect(summary.ltvCents).not.toBeNull();
  }, 120_000);
  afterAll(async () => {
    await test?.dispose();
  });

  it('billing mrr: JSON and text give each figure with its window', async () => {
    const text = renderFinanceSummary(summary);
    for (const piece of [
      `Now: MRR ${brl(summary.mrrCents)} · ARR ${brl(summary.arrCents)} · ${summary.payingCustomers} paying customers · ARPU ${brl(summary.arpuCents)}`,
      `Last 30 d: customer churn ${summary.customerChurnPct!.toFixed(2)} % (${summary.last30d.customersLost} of ${summary.last30d.payingAtStart} paying 30 d ago) · revenue churn ${summary.revenueChurnPct!.toFixed(2)} % · net new MRR ${brl(summary.netNewMrrCents)}`,
      `LTV ${brl(summary.ltvCents!)} = ARPU ÷ monthly churn ${summary.monthlyChurn90dPct!.toFixed(2)} % (churn 90 d ${summary.last90d.customerChurnPct!.toFixed(2)} % ÷ 3`,
      `Failed payments, last 30 d: ${summary.payments.failedPayments}`,
      'Definitions (billing/figures.ts):',
      ...FINANCE_FIGURES.map((f) => `${f.label}: ${f.formula}. Window: ${f.window}.`),
    ])
      expect(text, piece).toContain(piece);
    // The months option lists more or fewer calendar months; the headline figures do not move.
    for (const months of [1, 2, 3, 24])
      expect(standardFigures(await financeSummary(test.handle.db, { asOf: NOW, months })), `--months ${months}`).toEqual(
        standardFigures(summary),
      );
  });

  it("the agents' tools as the CEO: revenue_summary (any months), company_kpis, failed_payments, trading_pnl", async () => {
    for (const months of [1, 2, 3, 12]) {
      const revenue = await tool<RevenueSummary>(ctx, 'revenue_summary', { months });
      expect(revenue, `months ${months}`).toMatchObject({
        ...standardFigures(summary),
        churnWindowDays: 30,
        ltvChurnWindowDays: 90,
        customersLost30d: summary.last30d.customersLost,
        payingCustomers30dAgo: summary.last30d.payingAtStart,
      });
      expect(revenue.netNewMrr).toMatchObject({ days: 30, netNewCents: summary.netNewMrrCents });
    }
    const kpis = await tool<CompanyKpis>(ctx, 'company_kpis');
    expect(kpis.finance).toEqual({
      mrrCents: summary.mrrCents,
      arrCents: summary.arrCents,
      payingCustomers: summary.payingCustomers,
      customerChurn30dPct: summary.customerChurnPct,
      netNewMrr30dCents: summary.netNewMrrCents,
      failedPayments30d: summary.payments.failedPayments,
      atRiskCents: summary.payments.atRiskCents,
    });
    expect(await tool(ctx, 'failed_payments', { days: 30 })).toMatchObject({
      failedPayments: summary.payments.failedPayments,
      failedAmountCents: summary.payments.failedAmountCents,
      atRiskCents: summary.payments.atRiskCents,
    });
    const pnl30 = await tradingPnl(test.handle.db, lastDays(NOW, 30));
    expect(pnl30.closedTrades).toBeGreaterThan(0);
    expect(kpis.trading).toMatchObject({
      closedTrades30d: pnl30.closedTrades,
      profit30dQuote: pnl30.profitQuote,
      winRate30dPct: pnl30.winRatePct,
    });
    for (const days of [1, 7, 30])
      expect(await tool(ctx, 'trading_pnl', { days }), `trading_pnl ${days} d`).toEqual({
        days,
        ...(await tradingPnl(test.handle.db, lastDays(NOW, days))),
      });
  });

  it('ask ceo (offline): churn, LTV and the company KPIs, each with its window', async () => {
    const churn = await answerOffline(ctx, 'ceo', 'qual o churn?');
    expect(churn.toolCalls.map((c) => c.tool)).toEqual(['revenue_summary']);
    for (const piece of [
      `MRR ${brl(summary.mrrCents)} (agora)`,
      `ARPU ${brl(summary.arpuCents)}`,
      `Churn 30 d: ${ptPct(summary.customerChurnPct)} dos clientes (${summary.last30d.customersLost} de ${summary.last30d.payingAtStart}), ${ptPct(summary.revenueChurnPct)} da receita`,
      `MRR líquido novo nos últimos 30 dias: ${brl(summary.netNewMrrCents)}`,
      `LTV ${brl(summary.ltvCents!)} (ARPU ÷ churn 90 d ÷ 3 = ${ptPct(summary.monthlyChurn90dPct)} ao mês)`,
    ])
      expect(churn.answer, piece).toContain(piece);
    // The same figures when the question names a window of months (it only lengthens the movements list).
    const semester = await answerOffline(ctx, 'ceo', 'qual o churn dos últimos 6 meses?');
    expect(semester.toolCalls).toMatchObject([{ tool: 'revenue_summary', ok: true }]);
    expect(semester.answer).toContain(`Churn 30 d: ${ptPct(summary.customerChurnPct)} dos clientes`);
    const overview = await answerOffline(ctx, 'ceo', 'Como está a empresa hoje?');
    expect(overview.toolCalls.map((c) => c.tool)).toEqual(['company_kpis']);
    const pnl30 = await tradingPnl(test.handle.db, lastDays(NOW, 30));
    for (const piece of [
      `MRR ${brl(summary.mrrCents)} (agora)`,
      `churn 30 d ${ptPct(summary.customerChurnPct)}`,
      `MRR líquido novo nos últimos 30 dias ${brl(summary.netNewMrrCents)}`,
      `${summary.payments.failedPayments} pagamentos falhos em 30 dias`,
      `operações fechadas em 30 dias (acerto ${ptPct(pnl30.winRatePct)}), resultado ${usdt(pnl30.profitQuote)}`,
    ])
      expect(overview.answer, piece).toContain(piece);
  });

  it('the executive reports: the same churn and LTV daily and weekly; the period figures through the same functions over 24 h and 7 days', async () => {
    for (const [period, days, window] of [
      ['daily', 1, '24 h'],
      ['weekly', 7, '7 dias'],
    ] as const) {
      const report = await runExecutiveReport(runtime.mastra, { period, asOf: NOW, locale: 'pt-BR' });
      const figures = report.figures as {
        finance: { revenue_summary: RevenueSummary; failed_payments: Record<string, number> };
        trading: { trading_pnl: Record<string, number> };
      };
      const revenue = figures.finance.revenue_summary;
      expect(revenue, period).toMatchObject(standardFigures(summary));
      const [movement] = await mrrMovements(test.handle.db, [lastDays(NOW, days)]);
      expect(revenue.netNewMrr).toEqual({
        days,
        newCents: movement!.newCents,
        expansionCents: movement!.expansionCents,
        contractionCents: movement!.contractionCents,
        churnedCents: movement!.churnedCents,
        netNewCents: movement!.netNewCents,
      });
      const risk = await paymentRisk(test.handle.db, lastDays(NOW, days));
      expect(figures.finance.failed_payments).toMatchObject({
        days,
        failedPayments: risk.failedPayments,
        failedAmountCents: risk.failedAmountCents,
        atRiskCents: risk.atRiskCents,
      });
      const pnl = await tradingPnl(test.handle.db, lastDays(NOW, days));
      expect(figures.trading.trading_pnl).toEqual({ days, ...pnl });
      for (const piece of [
        `💰 Financeiro: MRR ${brl(summary.mrrCents)}, ARR ${brl(summary.arrCents)}, ARPU ${brl(summary.arpuCents)} (agora); LTV ${brl(summary.ltvCents!)} (ARPU ÷ churn 90 d ÷ 3).`,
        `Pagamentos falhos em ${window}: ${risk.failedPayments} (${brl(risk.failedAmountCents)})`,
        `${summary.payingCustomers} clientes pagantes (agora); churn 30 d: ${ptPct(summary.customerChurnPct)} dos clientes, ${ptPct(summary.revenueChurnPct)} da receita`,
        `MRR líquido novo em ${window}: ${brl(movement!.netNewCents)}`,
        `${pnl.closedTrades} operações fechadas em ${window}`,
      ])
        expect(report.text, `${period}: ${piece}`).toContain(piece);
    }
  });

  it('Telegram /report: the company KPIs and the revenue chart as of the same instant, with their windows', async () => {
    const replies: string[] = [];
    const photos: string[] = [];
    const session = {
      person: { actor: ceo, userId: (ceo as { userId: string }).userId, email: 'ceo', locale: 'pt-BR', chatId: 1, telegramUserId: 1 },
      locale: 'pt-BR',
      chatId: 1,
      tools: ctx,
      reply: async (markdown: string) => {
        replies.push(markdown);
        return [replies.length];
      },
      photo: async (_png: Buffer, caption: string) => void photos.push(caption),
      typing: <T>(work: () => Promise<T>) => work(),
    } as unknown as UpdateContext;
    await reportCommand(session);
    const text = replies.join('\n').replace(/\\/g, '');
    for (const piece of [
      `MRR ${brl(summary.mrrCents)} (agora)`,
      `churn 30 d ${ptPct(summary.customerChurnPct)}`,
      `${summary.payments.failedPayments} pagamentos falhos em 30 dias`,
    ])
      expect(text, piece).toContain(piece);
    expect(photos).toHaveLength(1);
    expect(photos[0]).toContain(`MRR ${brl(summary.mrrCents)} · ARR ${brl(summary.arrCents)} (03/11/2026)`);
  });
});

describe('trading figures at a past instant', () => {
  // The trading tools count only trades closed before their instant, like every figure: at
  // a past instant (a report resumed after a crash, or the demo's own date) too.
  it('trading_pnl at the demo date agrees with tradingPnl over [asOf − 1 d, asOf)', async () => {
    const test = await createTestDatabase('pglite');
    try {
      await seedDemo(test.handle.db, 40);
      const at = new Date(DEMO_AS_OF.getTime() + 12 * 3_600_000);
      const rt = workflowRuntime(test.handle.db, { now: () => at });
      const ctxAt = rt.ctxFor(await ceoActor(test.handle.db));
      expect(await tool(ctxAt, 'trading_pnl', { days: 1 })).toEqual({ days: 1, ...(await tradingPnl(test.handle.db, lastDays(at, 1))) });
    } finally {
      await test.dispose();
    }
  });
});

describe('the real `botcriptofy billing mrr` agrees with the tools at its instant', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-figures-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('--json and the text, then revenue_summary and company_kpis over the same database and instant', async () => {
    const seeded = await runCli(['seed', '--demo', '--traders', '60', '--as-of', new Date().toISOString().slice(0, 10)], {
      DATA_DIR: dataDir,
    });
    expect(seeded.code, seeded.stderr).toBe(0);
    const json = await runCliHere(['billing', 'mrr', '--json'], { DATA_DIR: dataDir });
    expect(json.code, json.stderr).toBe(0);
    const cli = JSON.parse(json.stdout) as FinanceSummary & { definitions: unknown };
    expect(cli.definitions).toEqual(FINANCE_FIGURES);
    const text = await runCliHere(['billing', 'mrr'], { DATA_DIR: dataDir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`Now: MRR ${brl(cli.mrrCents)} · ARR ${brl(cli.arrCents)} · ${cli.payingCustomers} paying customers`);
    expect(text.stdout).toContain(
      `Last 30 d: customer churn ${cli.customerChurnPct === null ? '–' : `${cli.customerChurnPct.toFixed(2)} %`}`,
    );
    expect(text.stdout).toContain(`LTV ${cli.ltvCents === null ? '–' : brl(cli.ltvCents)} = ARPU ÷ monthly churn`);

    const handle = await openDatabase({ dataDir, inMemory: false });
    try {
      await runMigrations(handle);
      const at = new Date(cli.asOf);
      const rt = workflowRuntime(handle.db, { now: () => at });
      const ctxAt = rt.ctxFor(await ceoActor(handle.db));
      expect(await tool(ctxAt, 'revenue_summary', { months: 2 })).toMatchObject({
        asOf: cli.asOf,
        ...standardFigures(cli),
        netNewMrr: { days: 30, netNewCents: cli.netNewMrrCents },
      });
      expect((await tool<CompanyKpis>(ctxAt, 'company_kpis')).finance).toMatchObject({
        mrrCents: cli.mrrCents,
        customerChurn30dPct: cli.customerChurnPct,
        netNewMrr30dCents: cli.netNewMrrCents,
        failedPayments30d: cli.payments.failedPayments,
      });
    } finally {
      await handle.close();
    }
  }, 240_000);
});
