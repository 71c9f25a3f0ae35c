import {
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  LineSeries,
  LineStyle,
  type IChartApi,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import type { Candles } from './api.ts';
import type { Locale } from './i18n.ts';

// Charts with TradingView's lightweight-charts (canvas, ~45 KB gzip): a price chart with
// candles and volume, RSI and MACD in panes below it and the trades as markers; a line chart
// for equity (and its drawdown) and profit bars. Times are drawn in the person's time zone.

export const COLORS = {
  up: '#16a34a',
  down: '#dc2626',
  buy: '#2563eb',
  sell: '#ea580c',
  line: '#7c3aed',
  signal: '#f59e0b',
  grid: 'rgba(127, 127, 127, 0.15)',
  text: '#6b7280',
};

export const toTime = (iso: string | number): UTCTimestamp => Math.floor(new Date(iso).getTime() / 1000) as UTCTimestamp;

/**
 * A chart's time axis speaks one of two kinds of time: moments (Unix seconds, drawn in the
 * person's time zone) or calendar days ('YYYY-MM-DD' strings or business days, drawn as the
 * day itself, never shifted by a zone). Each formatter takes either kind, so a chart whose
 * data are days can never hand a day string to a moments-only formatter (`new Date(NaN)`).
 */
export function timeFormatters(locale: Locale): { crosshair: (t: Time) => string; tick: (t: Time, type: number) => string } {
  const zoned = { timeZone: locale.timeZone };
  const utc = { timeZone: 'UTC' };
  const time = new Intl.DateTimeFormat(locale.language, { ...zoned, dateStyle: 'short', timeStyle: 'short' });
  const day = new Intl.DateTimeFormat(locale.language, { ...zoned, day: '2-digit', month: 'short' });
  const hour = new Intl.DateTimeFormat(locale.language, { ...zoned, hour: '2-digit', minute: '2-digit' });
  const calendarDate = new Intl.DateTimeFormat(locale.language, { ...utc, dateStyle: 'medium' });
  const calendarDay = new Intl.DateTimeFormat(locale.language, { ...utc, day: '2-digit', month: 'short' });
  const calendarMonth = new Intl.DateTimeFormat(locale.language, { ...utc, month: 'short', year: 'numeric' });
  const dayOf = (t: Exclude<Time, number>): Date =>
    typeof t === 'string' ? new Date(`${t.slice(0, 10)}T00:00:00Z`) : new Date(Date.UTC(t.year, t.month - 1, t.day));
  return {
    crosshair: (t) => (typeof t === 'number' ? time.format(new Date(t * 1000)) : calendarDate.format(dayOf(t))),
    // TickMarkType: 0 year, 1 month, 2 day of month, 3 time, 4 time with seconds.
    tick: (t, type) => {
      if (typeof t !== 'number') return type <= 1 ? calendarMonth.format(dayOf(t)) : calendarDay.format(dayOf(t));
      const date = new Date(t * 1000);
      return type <= 2 ? day.format(date) : hour.format(date);
    },
  };
}

/** A series' own number format (with the chart-level formatter left out, each series formats its scale). */
export function localFormat(
  locale: Locale,
  digits: number,
  suffix = '',
): { type: 'custom'; minMove: number; formatter: (p: number) => string } {
  const number = new Intl.NumberFormat(locale.language, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return { type: 'custom', minMove: 10 ** -digits, formatter: (p: number) => `${number.format(p)}${suffix}` };
}

/**
 * A chart in the person's language and time zone. Its prices are formatted by `priceFormatter`
 * (default: up to 4 decimals in the language's separators) for every series, or, with `null`,
 * by each series' own `priceFormat` (a chart whose panes have different units).
 */
function baseChart(
  container: HTMLElement,
  locale: Locale,
  height: number,
  priceFormatter: ((p: number) => string) | null = new Intl.NumberFormat(locale.language, { maximumFractionDigits: 4 }).format,
): IChartApi {
  const formatters = timeFormatters(locale);
  return createChart(container, {
    height,
    autoSize: true,
    layout: {
      background: { type: ColorType.Solid, color: 'transparent' },
      textColor: COLORS.text,
      fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      attributionLogo: false,
      panes: { separatorColor: COLORS.grid },
    },
    grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
    localization: {
      locale: locale.language,
      timeFormatter: formatters.crosshair,
      ...(priceFormatter ? { priceFormatter } : {}),
    },
    timeScale: {
      timeVisible: true,
      secondsVisible: false,
      // Tick marks in the person's time zone too: a day's mark shows the date, others the hour.
      tickMarkFormatter: formatters.tick,
    },
  });
}

export interface TradeMark {
  readonly time: string;
  readonly side: 'buy' | 'sell';
  readonly price: number;
  readonly text: string;
}

export interface PriceLine {
  readonly price: number;
  readonly title: string;
  readonly color: string;
}

/** The bar a moment falls in (a marker must sit on a bar's time). */
function barTimeOf(times: readonly number[], at: number): number | undefined {
  let lo = 0;
  let hi = times.length - 1;
  if (hi < 0 || at < times[0]!) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return times[lo];
}

/** A drawn price chart: its markers can change (a trade arrives) without drawing the candles again. */
export interface PriceChartHandle {
  setMarks(marks: readonly TradeMark[]): void;
  dispose(): void;
}

/** Candles + volume, then RSI and MACD panes; trade markers and price lines on the candles. */
export function drawPriceChart(
  container: HTMLElement,
  locale: Locale,
  data: Candles,
  marks: readonly TradeMark[],
  lines: readonly PriceLine[] = [],
): PriceChartHandle {
  const chart = baseChart(container, locale, 560);
  const candles = chart.addSeries(CandlestickSeries, {
    upColor: COLORS.up,
    downColor: COLORS.down,
    wickUpColor: COLORS.up,
    wickDownColor: COLORS.down,
    borderVisible: false,
  });
  const times = data.candles.map((c) => toTime(c.time));
  candles.setData(data.candles.map((c, i) => ({ time: times[i]!, open: c.open, high: c.high, low: c.low, close: c.close })));
  const volume = chart.addSeries(HistogramSeries, { priceScaleId: 'volume', priceFormat: { type: 'volume' }, lastValueVisible: false });
  chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  volume.setData(
    data.candles.map((c, i) => ({
      time: times[i]!,
      value: c.volume,
      color: c.close >= c.open ? 'rgba(22,163,74,0.35)' : 'rgba(220,38,38,0.35)',
    })),
  );

  // A trade outside the drawn bars gets no marker (it would sit on the first or last bar), except
  // one made in the bar after the last drawn one: a running bot trades when a bar has closed, so
  // its newest trade falls in the bar still forming, which gets an empty slot to carry the marker.
  const step = times.length > 1 ? times[1]! - times[0]! : 0;
  const lastBar = times[times.length - 1] ?? 0;
  const forming = lastBar + step;
  let formingSlot = false;
  const markerLayer = createSeriesMarkers(candles, []);
  const setMarks = (next: readonly TradeMark[]) => {
    const markers: SeriesMarker<Time>[] = [];
    for (const mark of next) {
      const time = toTime(mark.time);
      let at = barTimeOf(times, time);
      if (at === undefined) continue;
      if (time >= forming) {
        if (step === 0 || time >= forming + step) continue;
        if (!formingSlot) candles.update({ time: forming as UTCTimestamp });
        formingSlot = true;
        at = forming;
      }
      markers.push({
        time: at as UTCTimestamp,
        position: mark.side === 'buy' ? 'belowBar' : 'aboveBar',
        shape: mark.side === 'buy' ? 'arrowUp' : 'arrowDown',
        color: mark.side === 'buy' ? COLORS.buy : COLORS.sell,
        text: mark.text,
      });
    }
    markers.sort((a, b) => (a.time as number) - (b.time as number));
    markerLayer.setMarkers(markers);
    // What was drawn, for a person's tools and the browser tests: bars and markers on them.
    container.dataset.candles = String(times.length);
    container.dataset.markersDrawn = String(markers.length);
  };
  setMarks(marks);
  for (const line of lines) {
    candles.createPriceLine({
      price: line.price,
      color: line.color,
      lineWidth: 1,
      lineStyle: LineStyle.Dashed,
      axisLabelVisible: true,
      title: line.title,
    });
  }

  const rsi = data.indicators.rsi;
  if (rsi) {
    const series = chart.addSeries(
      LineSeries,
      { color: COLORS.line, lineWidth: 1, title: `RSI(${rsi.period})`, priceLineVisible: false },
      1,
    );
    series.setData(rsi.values.flatMap((v, i) => (v === null ? [] : [{ time: times[i]!, value: v }])));
    for (const level of [30, 70])
      series.createPriceLine({
        price: level,
        color: COLORS.text,
        lineWidth: 1,
        lineStyle: LineStyle.Dotted,
        axisLabelVisible: false,
        title: '',
      });
  }
  const macd = data.indicators.macd;
  if (macd) {
    const pane = rsi ? 2 : 1;
    const histogram = chart.addSeries(HistogramSeries, { priceLineVisible: false, lastValueVisible: false }, pane);
    const line = chart.addSeries(
      LineSeries,
      { color: COLORS.buy, lineWidth: 1, title: `MACD(${macd.fast}, ${macd.slow}, ${macd.signal})`, priceLineVisible: false },
      pane,
    );
    const signal = chart.addSeries(
      LineSeries,
      { color: COLORS.signal, lineWidth: 1, priceLineVisible: false, lastValueVisible: false },
      pane,
    );
    const points = macd.values.flatMap((v, i) => (v === null ? [] : [{ time: times[i]!, v }]));
    histogram.setData(
      points.map(({ time, v }) => ({ time, value: v.histogram, color: v.histogram >= 0 ? 'rgba(22,163,74,0.6)' : 'rgba(220,38,38,0.6)' })),
    );
    line.setData(points.map(({ time, v }) => ({ time, value: v.macd })));
    signal.setData(points.map(({ time, v }) => ({ time, value: v.signal })));
  }
  // Shares of the height (pixel heights set before the first layout do not hold): price 3, each indicator 1.
  const panes = chart.panes();
  panes[0]?.setStretchFactor(3);
  for (const pane of panes.slice(1)) pane.setStretchFactor(1);
  chart.timeScale().fitContent();
  return { setMarks, dispose: () => chart.remove() };
}

/** Equity over time, and in a pane below it the drawdown from the running peak (in percent, ≤ 0). */
export function drawEquityChart(
  container: HTMLElement,
  locale: Locale,
  curve: readonly { time: string; equity: number }[],
  labels: { equity: string; drawdown: string },
): () => void {
  // Two units: equity in USDT (2 decimals) and the drawdown in percent, each pane its own format.
  const chart = baseChart(container, locale, 300, null);
  const equity = chart.addSeries(LineSeries, {
    color: COLORS.buy,
    lineWidth: 2,
    title: labels.equity,
    priceFormat: localFormat(locale, 2),
  });
  const drawdown = chart.addSeries(
    LineSeries,
    { color: COLORS.down, lineWidth: 1, title: labels.drawdown, priceFormat: localFormat(locale, 2, ' %') },
    1,
  );
  const points: { time: UTCTimestamp; value: number }[] = [];
  const dd: { time: UTCTimestamp; value: number }[] = [];
  let peak = Number.NEGATIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const p of curve) {
    const time = toTime(p.time);
    if (time <= last) continue; // one point per second at most, in order
    last = time;
    peak = Math.max(peak, p.equity);
    points.push({ time, value: p.equity });
    dd.push({ time, value: peak > 0 ? ((p.equity - peak) / peak) * 100 : 0 });
  }
  equity.setData(points);
  drawdown.setData(dd);
  chart.panes()[0]?.setStretchFactor(2);
  chart.panes()[1]?.setStretchFactor(1);
  chart.timeScale().fitContent();
  return () => chart.remove();
}

/** A backtest's equity beside holding the coin from the same cash (the trader's assistant's draft backtest). */
export function drawEquityBesideHold(
  container: HTMLElement,
  locale: Locale,
  strategy: readonly { time: string; equityQuote: number }[],
  hold: readonly { time: string; equityQuote: number }[],
  labels: { strategy: string; hold: string },
): () => void {
  const chart = baseChart(container, locale, 300);
  const line = (points: readonly { time: string; equityQuote: number }[]) => {
    const data: { time: UTCTimestamp; value: number }[] = [];
    for (const p of points) {
      const time = toTime(p.time);
      if (data.length > 0 && time <= data[data.length - 1]!.time) continue; // in order, one point per second
      data.push({ time, value: p.equityQuote });
    }
    return data;
  };
  chart.addSeries(LineSeries, { color: COLORS.text, lineWidth: 1, lineStyle: LineStyle.Dashed, title: labels.hold }).setData(line(hold));
  chart.addSeries(LineSeries, { color: COLORS.buy, lineWidth: 2, title: labels.strategy }).setData(line(strategy));
  chart.timeScale().fitContent();
  return () => chart.remove();
}

/** Profit per period as bars (days as calendar days, not shifted by the time zone). */
export function drawProfitBars(
  container: HTMLElement,
  locale: Locale,
  rows: readonly { start: string; profitQuote: number }[],
): () => void {
  const chart = baseChart(container, locale, 220, new Intl.NumberFormat(locale.language, { maximumFractionDigits: 2 }).format);
  chart.applyOptions({ timeScale: { timeVisible: false } });
  const bars = chart.addSeries(HistogramSeries, { priceLineVisible: false });
  bars.setData(
    [...rows]
      .sort((a, b) => a.start.localeCompare(b.start))
      .map((r) => ({
        time: r.start.slice(0, 10) as Time,
        value: r.profitQuote,
        color: r.profitQuote >= 0 ? COLORS.up : COLORS.down,
      })),
  );
  chart.timeScale().fitContent();
  // What was drawn, for a person's tools and the browser tests.
  container.dataset.bars = String(rows.length);
  return () => chart.remove();
}

/**
 * The executive report's revenue/MRR chart: MRR at each month's end as a line over the cash
 * revenue collected in the month as bars, both in reais (the API's revenue_months series).
 */
export function drawRevenueChart(
  container: HTMLElement,
  locale: Locale,
  months: readonly { month: string; mrrCents: number; revenueCents: number }[],
  labels: { mrr: string; revenue: string },
): () => void {
  const brl = new Intl.NumberFormat(locale.language, { style: 'currency', currency: 'BRL', maximumFractionDigits: 0 });
  const chart = baseChart(container, locale, 260, (p) => brl.format(p));
  chart.applyOptions({ timeScale: { timeVisible: false } });
  // A month is drawn on its first day (a calendar day: never shifted by the time zone).
  const time = (month: string) => `${month}-01` as Time;
  const sorted = [...months].sort((a, b) => a.month.localeCompare(b.month));
  chart
    .addSeries(HistogramSeries, { color: 'rgba(37,99,235,0.35)', title: labels.revenue, priceLineVisible: false, lastValueVisible: false })
    .setData(sorted.map((m) => ({ time: time(m.month), value: m.revenueCents / 100 })));
  chart
    .addSeries(LineSeries, { color: COLORS.line, lineWidth: 2, title: labels.mrr, priceLineVisible: false })
    .setData(sorted.map((m) => ({ time: time(m.month), value: m.mrrCents / 100 })));
  chart.timeScale().fitContent();
  // What was drawn, for a person's tools and the browser tests.
  container.dataset.months = String(sorted.length);
  return () => chart.remove();
}
