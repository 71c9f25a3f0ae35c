import { arrCents, type RevenueMonth } from '../../billing/index.ts';
import { centsToDecimal, formatMoneyCents, formatPct, formatQuote, intlLocale, type Locale } from '../../i18n/index.ts';
import type { EquityCurve } from '../../trading/index.ts';
import { svgToPng, svgToPngAsync, type RenderOptions } from './render.ts';
import { chartSvg } from './svg.ts';

// Charts are drawn from the series handed to them: an equity curve (trading's botEquityCurve,
// backtestEquityCurve) or revenue months (billing's revenueMonths of financeSummary). Nothing
// here reads the database; ./data.ts is the door's reading, through those domain functions.

export type { EquityCurve, RevenueMonth };

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
    series: [
      {
        label: curve.quote,
        kind: 'line',
        color: gain ? '#059669' : '#dc2626',
        points: curve.points.map((p) => ({ x: p.at.getTime(), y: Number(p.equityQuote) })),
      },
    ],
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
export function renderRevenueChart(
  months: readonly RevenueMonth[],
  options: ChartOptions & { currency?: string; asOf?: Date } = {},
): RenderedChart {
  const { svg, caption } = revenueSvg(months, options);
  return { svg, caption, png: svgToPng(svg, options) };
}

function revenueSvg(
  months: readonly RevenueMonth[],
  options: ChartOptions & { currency?: string; asOf?: Date },
): { svg: string; caption: string } {
  const locale = options.locale ?? 'pt-BR';
  const en = locale === 'en';
  const currency = options.currency ?? 'BRL';
  const compact = new Intl.NumberFormat(intlLocale(locale), { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 });
  const monthName = new Intl.DateTimeFormat(intlLocale(locale), { month: 'short', year: '2-digit', timeZone: 'UTC' });
  const labels = months.map((m) =>
    monthName
      .format(new Date(`${m.month}-01T00:00:00Z`))
      .replace(' de ', '/')
      .replace('.', ''),
  );
  const last = months.at(-1);
  const totalRevenueCents = months.reduce((sum, m) => sum + m.revenueCents, 0);
  // MRR and ARR at the end of the last month shown (to date for the current one); revenue over all of them.
  const when = options.asOf
    ? en
      ? options.asOf.toISOString().slice(0, 10)
      : options.asOf.toISOString().slice(0, 10).split('-').reverse().join('/')
    : labels.at(-1);
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
      {
        label: en ? 'Revenue (cash)' : 'Receita (caixa)',
        kind: 'bar',
        color: '#2563eb',
        points: months.map((m, i) => ({ x: i, y: m.revenueCents })),
      },
      { label: 'MRR', kind: 'line', color: '#059669', points: months.map((m, i) => ({ x: i, y: m.mrrCents })) },
    ],
    footer: en
      ? `${currency}; MRR at each month's end, this month's to date (yearly plans ÷ 12); revenue = invoices paid in the month`
      : `${currency}; MRR no fim de cada mês, o deste mês até agora (planos anuais ÷ 12); receita = faturas pagas no mês`,
    emptyText: en ? 'No data' : 'Sem dados',
  });
  const caption = last ? `${en ? 'Revenue and MRR' : 'Receita e MRR'}: ${subtitle}` : en ? 'Revenue and MRR' : 'Receita e MRR';
  return { svg, caption };
}

/** The data of one chart: what a caller read (through the domain functions) and hands over. */
export type ChartData =
  | { readonly kind: 'equity'; readonly curve: EquityCurve }
  | { readonly kind: 'revenue'; readonly months: readonly RevenueMonth[]; readonly asOf?: Date | undefined };

/** Draws a chart with the rasterising off the event loop (so a chart never delays the messages around it). */
export async function drawChart(data: ChartData, options: ChartOptions = {}): Promise<RenderedChart> {
  const built =
    data.kind === 'equity'
      ? equitySvg(data.curve, options)
      : revenueSvg(data.months, { ...options, ...(data.asOf ? { asOf: data.asOf } : {}) });
  return { ...built, png: await svgToPngAsync(built.svg, options) };
}
