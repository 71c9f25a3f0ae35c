import { and, asc, eq, sql } from 'drizzle-orm';
import { arrCents, financeSummary, type FinanceSummary } from '../../billing/index.ts';
import { backtestResults, backtests, bots, getScoped, queryRows, assertTenantScope, tenantScope, type Database, type TenantScope } from '../../db/index.ts';
import { centsToDecimal, formatMoneyCents, formatPct, formatQuote, intlLocale, numberToDecimal, type Locale } from '../../i18n/index.ts';
import { splitPair } from '../outbox/format.ts';
import { svgToPng, svgToPngAsync, type RenderOptions } from './render.ts';
import { chartSvg } from './svg.ts';

export class ChartDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChartDataError';
  }
}

/** A bot's equity over time, in its quote currency, as exact decimal strings. */
export interface EquityCurve {
  readonly title: string;
  /** USDT for the default pairs. */
  readonly quote: string;
  readonly startQuote: string;
  readonly points: readonly { readonly at: Date; readonly equityQuote: string }[];
  readonly closedTrades: number;
  readonly openPositions: number;
  /** `realised`: stake plus the closed trades' profit (a live bot); `backtest`: marked at every close. */
  readonly basis: 'realised' | 'backtest';
}

/**
 * The equity curve of a trader's bot from its closed trades: the stake at the start, then
 * stake + cumulative net profit after each closed trade (summed in SQL numeric, exact). Only
 * the scope's own bot is found: another tenant's bot id is "not found".
 */
export async function botEquityCurve(db: Database, scope: TenantScope, botId: string): Promise<EquityCurve> {
  assertTenantScope(scope);
  const bot = await getScoped(db, scope, bots, botId);
  if (!bot) throw new ChartDataError(`bot ${botId} not found`);
  const rows = await queryRows<{ closed_at: string; opened_at: string; equity: string }>(
    db,
    sql`select closed_at::text as closed_at, opened_at::text as opened_at,
               (${bot.stakeQuote}::numeric + sum(profit_quote) over (order by closed_at, id))::text as equity
        from trades
        where tenant_id = ${scope.tenantId} and bot_id = ${bot.id} and status = 'closed' and closed_at is not null and profit_quote is not null
        order by closed_at, id`,
  );
  const [open] = await queryRows<{ n: string | number }>(db, sql`select count(*) as n from positions where tenant_id = ${scope.tenantId} and bot_id = ${bot.id}`);
  const start = rows[0] ? new Date(rows[0].opened_at) : (bot.startedAt ?? bot.createdAt);
  const stake = trimDecimal(bot.stakeQuote);
  return {
    title: bot.name,
    quote: splitPair(bot.symbols[0] ?? 'BTC/USDT').quote || 'USDT',
    startQuote: stake,
    points: [{ at: start, equityQuote: stake }, ...rows.map((row) => ({ at: new Date(row.closed_at), equityQuote: trimDecimal(row.equity) }))],
    closedTrades: rows.length,
    openPositions: Number(open?.n ?? 0),
    basis: 'realised',
  };
}

/** The equity curve a backtest recorded (marked at each close, thinned by the engine). */
export async function backtestEquityCurve(db: Database, scope: TenantScope, backtestId: string): Promise<EquityCurve> {
  assertTenantScope(scope);
  const [row] = await db
    .select({ strategy: backtests.strategyName, symbol: backtests.symbol, cash: backtests.startingCashQuote, curve: backtestResults.equityCurve, trades: backtestResults.closedTrades })
    .from(backtestResults)
    .innerJoin(backtests, eq(backtests.id, backtestResults.backtestId))
    .where(and(eq(backtestResults.backtestId, backtestId), eq(backtestResults.tenantId, scope.tenantId)))
    .orderBy(asc(backtestResults.createdAt))
    .limit(1);
  if (!row) throw new ChartDataError(`backtest ${backtestId} not found`);
  const points = (row.curve as { time: number; equity: number }[]).map((p) => ({ at: new Date(p.time), equityQuote: numberToDecimal(p.equity, 2) }));
  return { title: `${row.strategy} ${row.symbol} (backtest)`, quote: splitPair(row.symbol).quote || 'USDT', startQuote: trimDecimal(row.cash), points, closedTrades: row.trades, openPositions: 0, basis: 'backtest' };
}

/**
 * Per calendar month: MRR at the month's end (the current month: at the chart's instant) and
 * cash revenue collected in it, in integer cents, from the finance figures (billing/figures.ts).
 */
export interface RevenueMonth {
  readonly month: string;
  readonly mrrCents: number;
  readonly revenueCents: number;
}

export function revenueMonths(summary: FinanceSummary): RevenueMonth[] {
  const revenue = new Map<string, number>();
  for (const row of summary.revenue) revenue.set(row.month, (revenue.get(row.month) ?? 0) + row.revenueCents);
  return summary.months.map((m) => ({ month: m.month, mrrCents: m.endingMrrCents, revenueCents: revenue.get(m.month) ?? 0 }));
}

export interface RenderedChart {
  readonly png: Buffer;
  readonly svg: string;
  /** A caption for the photo (plain text, figures in the reader's format). */
  readonly caption: string;
}

export interface ChartOptions extends RenderOptions {
  readonly locale?: Locale;
  readonly width?: number;
  readonly height?: number;
}


function trimDecimal(value: string): string {
  return value.includes('.') ? value.replace(/\.?0+$/, '') || '0' : value;
}

/** (final − start) / start as a percentage with 2 decimals, from decimal strings (BigInt, exact). */
function returnPct(start: string, final: string): string | null {
  const scale = (value: string) => {
    const [int = '0', frac = ''] = value.replace('-', '').split('.');
    const n = BigInt(int + frac.padEnd(12, '0').slice(0, 12));
    return value.startsWith('-') ? -n : n;
  };
  const s = scale(start);
  if (s === 0n) return null;
  const basisPoints = ((scale(final) - s) * 1_000_000n) / s; // ten-thousandths of a percent
  const rounded = (basisPoints + (basisPoints >= 0n ? 50n : -50n)) / 100n; // hundredths of a percent
  return centsToDecimal(rounded);
}

export function renderEquityChart(curve: EquityCurve, options: ChartOptions = {}): RenderedChart {
  const { svg, caption } = equitySvg(curve, options);
  return { svg, caption, png: svgToPng(svg, options) };
}

function equitySvg(curve: EquityCurve, options: ChartOptions): { svg: string; caption: string } {
  const locale = options.locale ?? 'pt-BR';
  const en = locale === 'en';
  const final = curve.points.at(-1)?.equityQuote ?? curve.startQuote;
  const pct = returnPct(curve.startQuote, final);
  const dates = new Intl.DateTimeFormat(intlLocale(locale), { day: '2-digit', month: 'short', timeZone: 'America/Sao_Paulo' });
  const tick = new Intl.NumberFormat(intlLocale(locale), { maximumFractionDigits: 2 });
  const summary = `${formatQuote(curve.startQuote, curve.quote, locale)} → ${formatQuote(final, curve.quote, locale)}${pct !== null ? ` (${formatPct(pct, locale)})` : ''}`;
  const trades = en ? `${curve.closedTrades} closed trades` : `${curve.closedTrades} operações encerradas`;
  const gain = pct === null || !pct.startsWith('-');
  const svg = chartSvg({
    title: en ? `Equity curve — ${curve.title}` : `Curva de capital — ${curve.title}`,
    subtitle: `${summary} · ${trades}`,
    width: options.width ?? 960,
    height: options.height ?? 540,
    x: { kind: 'time', format: (ms) => dates.format(new Date(ms)) },
    y: { format: (value) => tick.format(value) },
    baseline: { y: Number(curve.startQuote) },
    series: [{ label: curve.quote, kind: 'line', color: gain ? '#059669' : '#dc2626', points: curve.points.map((p) => ({ x: p.at.getTime(), y: Number(p.equityQuote) })) }],
    footer:
      curve.basis === 'realised'
        ? en
          ? `${curve.quote}; stake plus net profit of closed trades${curve.openPositions ? `; ${curve.openPositions} open position(s) not included` : ''}`
          : `${curve.quote}; capital inicial mais o lucro líquido das operações encerradas${curve.openPositions ? `; ${curve.openPositions} posição(ões) aberta(s) fora da conta` : ''}`
        : en
          ? `${curve.quote}; backtest equity marked at each close`
          : `${curve.quote}; capital do backtest marcado a cada fechamento`,
    emptyText: en ? 'No closed trades yet' : 'Nenhuma operação encerrada ainda',
  });
  const caption = `${en ? 'Equity' : 'Capital'} — ${curve.title}: ${summary}, ${trades}`;
  return { svg, caption };
}

/** Monthly revenue (bars) and MRR at each month's end (line), in BRL, for the CEO. */
export function renderRevenueChart(months: readonly RevenueMonth[], options: ChartOptions & { currency?: string; asOf?: Date } = {}): RenderedChart {
  const { svg, caption } = revenueSvg(months, options);
  return { svg, caption, png: svgToPng(svg, options) };
}

function revenueSvg(months: readonly RevenueMonth[], options: ChartOptions & { currency?: string; asOf?: Date }): { svg: string; caption: string } {
  const locale = options.locale ?? 'pt-BR';
  const en = locale === 'en';
  const currency = options.currency ?? 'BRL';
  const compact = new Intl.NumberFormat(intlLocale(locale), { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 });
  const monthName = new Intl.DateTimeFormat(intlLocale(locale), { month: 'short', year: '2-digit', timeZone: 'UTC' });
  const labels = months.map((m) => monthName.format(new Date(`${m.month}-01T00:00:00Z`)).replace(' de ', '/').replace('.', ''));
  const last = months.at(-1);
  const totalRevenueCents = months.reduce((sum, m) => sum + m.revenueCents, 0);
  // MRR and ARR at the end of the last month shown (to date for the current one); revenue over all of them.
  const when = options.asOf ? (en ? options.asOf.toISOString().slice(0, 10) : options.asOf.toISOString().slice(0, 10).split('-').reverse().join('/')) : labels.at(-1);
  const subtitle = last
    ? en
      ? `MRR ${formatMoneyCents(last.mrrCents, currency, locale)} · ARR ${formatMoneyCents(arrCents(last.mrrCents), currency, locale)} (${when}) · cash revenue in ${months.length} months ${formatMoneyCents(totalRevenueCents, currency, locale)}`
      : `MRR ${formatMoneyCents(last.mrrCents, currency, locale)} · ARR ${formatMoneyCents(arrCents(last.mrrCents), currency, locale)} (${when}) · receita (caixa) em ${months.length} meses ${formatMoneyCents(totalRevenueCents, currency, locale)}`
    : '';
  const svg = chartSvg({
    title: en ? `Revenue and MRR — last ${months.length} months` : `Receita e MRR — últimos ${months.length} meses`,
    subtitle,
    width: options.width ?? 960,
    height: options.height ?? 540,
    x: { kind: 'category', labels },
    // Plotted in cents; each round tick is shown from its exact decimal.
    y: { format: (cents) => compact.format(centsToDecimal(Math.round(cents)) as unknown as number), includeZero: true },
    series: [
      { label: en ? 'Revenue (cash)' : 'Receita (caixa)', kind: 'bar', color: '#2563eb', points: months.map((m, i) => ({ x: i, y: m.revenueCents })) },
      { label: 'MRR', kind: 'line', color: '#059669', points: months.map((m, i) => ({ x: i, y: m.mrrCents })) },
    ],
    footer: en ? `${currency}; MRR at each month's end, this month's to date (yearly plans ÷ 12); revenue = invoices paid in the month` : `${currency}; MRR no fim de cada mês, o deste mês até agora (planos anuais ÷ 12); receita = faturas pagas no mês`,
    emptyText: en ? 'No data' : 'Sem dados',
  });
  const caption = last ? `${en ? 'Revenue and MRR' : 'Receita e MRR'}: ${subtitle}` : en ? 'Revenue and MRR' : 'Receita e MRR';
  return { svg, caption };
}

/** The CEO's chart straight from the billing mirror (financeSummary over `months`). */
export async function revenueChart(db: Database, options: ChartOptions & { months?: number; asOf?: Date } = {}): Promise<RenderedChart> {
  const summary = await financeSummary(db, { months: options.months ?? 12, ...(options.asOf ? { asOf: options.asOf } : {}) });
  return renderRevenueChart(revenueMonths(summary), { ...options, asOf: new Date(summary.asOf) });
}

/** A trader's bot chart, scoped to that trader. */
export async function equityChart(db: Database, scope: TenantScope, botId: string, options: ChartOptions = {}): Promise<RenderedChart> {
  return renderEquityChart(await botEquityCurve(db, scope, botId), options);
}

/** What a `chart` notification asks for (see the outbox's `chart` type). */
export type ChartRequest =
  | { readonly kind: 'revenue_mrr'; readonly months?: number | undefined; readonly asOf?: string | undefined }
  | { readonly kind: 'bot_equity'; readonly botId: string }
  | { readonly kind: 'backtest_equity'; readonly backtestId: string };

/**
 * Renders a requested chart with the rasterising off the event loop (the outbox uses this so
 * a chart never delays the messages around it). Bot and backtest charts read only
 * `tenantId`'s data.
 */
export async function renderChartRequest(db: Database, tenantId: string, request: ChartRequest, options: ChartOptions = {}): Promise<RenderedChart> {
  let built: { svg: string; caption: string };
  if (request.kind === 'revenue_mrr') {
    const summary = await financeSummary(db, { months: request.months ?? 12, ...(request.asOf ? { asOf: new Date(request.asOf) } : {}) });
    built = revenueSvg(revenueMonths(summary), { ...options, asOf: new Date(summary.asOf) });
  } else if (request.kind === 'bot_equity') {
    built = equitySvg(await botEquityCurve(db, tenantScope(tenantId), request.botId), options);
  } else {
    built = equitySvg(await backtestEquityCurve(db, tenantScope(tenantId), request.backtestId), options);
  }
  return { ...built, png: await svgToPngAsync(built.svg, options) };
}
