import { tenantScope } from '../db/index.ts';
import { formatPct, formatQuote, intlLocale, type Locale } from '../i18n/index.ts';
import { backtestBesideBuyAndHold, type BacktestBesideBuyAndHold } from '../trading/index.ts';
import { svgToPngAsync } from './charts/index.ts';
import { chartSvg } from './charts/index.ts';
import { t } from './texts.ts';
import type { UpdateContext } from './update-context.ts';

// A draft's backtest as a picture (issue 22): the strategy's equity and the coin held, from the
// same starting cash over the same candles, drawn by ./charts (the chart code draws what it is
// handed; the data is read by trading's backtestBesideBuyAndHold under the trader's scope).

const pctOf = (start: number, end: number) => (start > 0 ? (((end - start) / start) * 100).toFixed(2) : '0');

/** The PNG and its caption; the backtest must be the trader's own (another's reads as not found). */
export async function assistantChart(
  ctx: UpdateContext,
  backtestId: string,
  title: string,
): Promise<{ png: Buffer; caption: string; botPct: string; buyAndHoldPct: string }> {
  if (ctx.tools.actor.kind !== 'trader') throw new Error("a draft's chart is its trader's");
  const data = await backtestBesideBuyAndHold(ctx.tools.db, tenantScope(ctx.tools.actor.tenantId), backtestId);
  return drawBacktestBesideBuyAndHold(data, title, ctx.locale);
}

/** Draws what it is handed: the strategy's equity and the coin held, one chart (rasterised off the event loop). */
export async function drawBacktestBesideBuyAndHold(
  data: BacktestBesideBuyAndHold,
  title: string,
  l: Locale,
): Promise<{ png: Buffer; caption: string; botPct: string; buyAndHoldPct: string }> {
  const start = Number(data.strategy.startQuote);
  const botEnd = Number(data.strategy.points.at(-1)?.equityQuote ?? start);
  const holdEnd = data.buyAndHold.at(-1)?.equityQuote ?? start;
  const dates = new Intl.DateTimeFormat(intlLocale(l), { day: '2-digit', month: 'short', year: '2-digit', timeZone: 'UTC' });
  const tick = new Intl.NumberFormat(intlLocale(l), { maximumFractionDigits: 0 });
  const botPct = formatPct(pctOf(start, botEnd), l);
  const buyAndHoldPct = formatPct(pctOf(start, holdEnd), l);
  const bot = `${t(l, 'Robô', 'Bot')} ${botPct}`;
  const hold = `Buy-and-hold ${buyAndHoldPct}`;
  const svg = chartSvg({
    title: t(l, `Backtest de 1 ano — ${title}`, `1-year backtest — ${title}`),
    subtitle: `${data.symbol} ${data.timeframe} · ${formatQuote(String(start), data.strategy.quote, l)} → ${formatQuote(botEnd.toFixed(2), data.strategy.quote, l)} · ${data.strategy.closedTrades} ${t(l, 'operações', 'trades')}`,
    width: 960,
    height: 540,
    x: { kind: 'time', format: (ms) => dates.format(new Date(ms)) },
    y: { format: (value) => tick.format(value) },
    baseline: { y: start },
    series: [
      { label: hold, kind: 'line', color: '#9ca3af', points: data.buyAndHold.map((p) => ({ x: p.at.getTime(), y: p.equityQuote })) },
      {
        label: bot,
        kind: 'line',
        color: botEnd >= start ? '#059669' : '#dc2626',
        points: data.strategy.points.map((p) => ({ x: p.at.getTime(), y: Number(p.equityQuote) })),
      },
    ],
    footer: t(
      l,
      `${data.strategy.quote}; capital do backtest a cada fechamento, ao lado de segurar a moeda desde o primeiro candle (sem taxas)`,
      `${data.strategy.quote}; backtest equity at each close, beside holding the coin from the first candle (no fees)`,
    ),
    emptyText: t(l, 'Sem dados', 'No data'),
  });
  return {
    png: await svgToPngAsync(svg),
    caption: `${t(l, 'Backtest', 'Backtest')} — ${title} (${data.symbol}): ${bot} · ${hold}`,
    botPct,
    buyAndHoldPct,
  };
}
