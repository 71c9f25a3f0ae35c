import { useEffect, useRef } from 'preact/hooks';
import type { Candles } from './api.ts';
import {
  drawEquityBesideHold,
  drawEquityChart,
  drawPriceChart,
  drawProfitBars,
  drawRevenueChart,
  type PriceChartHandle,
  type PriceLine,
  type TradeMark,
} from './chart.ts';
import { AsyncView, ErrorBox, type Async } from './components.tsx';
import { useI18n } from './i18n.ts';

// The charts as components: drawn into their box after render, drawn again when the data or the
// language/time zone change (a price chart's trade markers alone are replaced in place), removed
// with the component.

export function PriceChart(props: { data: Candles; marks: readonly TradeMark[]; lines?: readonly PriceLine[]; label: string }) {
  const i18n = useI18n();
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<PriceChartHandle | null>(null);
  const marks = useRef(props.marks);
  marks.current = props.marks;
  useEffect(() => {
    if (!box.current) return;
    const drawn = drawPriceChart(box.current, i18n, props.data, marks.current, props.lines ?? []);
    chart.current = drawn;
    return () => {
      chart.current = null;
      drawn.dispose();
    };
  }, [props.data, props.lines, i18n.language, i18n.timeZone]);
  // New trades on the same candles (a live trade event): only the markers change, at once.
  useEffect(() => chart.current?.setMarks(props.marks), [props.marks]);
  return <div class="chart price-chart" ref={box} role="img" aria-label={props.label} data-markers={props.marks.length} />;
}

export function EquityChart(props: { curve: readonly { time: string; equity: number }[]; label: string }) {
  const i18n = useI18n();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    return drawEquityChart(box.current, i18n, props.curve, { equity: i18n.t('equity'), drawdown: i18n.t('drawdown') });
  }, [props.curve, i18n.language, i18n.timeZone]);
  return <div class="chart equity-chart" ref={box} role="img" aria-label={props.label} />;
}

/** A backtest's equity (solid) beside buy-and-hold (dashed) from the same starting cash. */
export function EquityBesideHoldChart(props: {
  strategy: readonly { time: string; equityQuote: number }[];
  hold: readonly { time: string; equityQuote: number }[];
  label: string;
}) {
  const i18n = useI18n();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    return drawEquityBesideHold(box.current, i18n, props.strategy, props.hold, {
      strategy: i18n.t('assistantChartBot'),
      hold: i18n.t('assistantChartHold'),
    });
  }, [props.strategy, props.hold, i18n.language, i18n.timeZone]);
  return (
    <div
      class="chart equity-chart beside-hold-chart"
      ref={box}
      role="img"
      aria-label={props.label}
      data-points={props.strategy.length + props.hold.length}
    />
  );
}

export function ProfitBars(props: { rows: readonly { start: string; profitQuote: number }[]; label: string }) {
  const i18n = useI18n();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    return drawProfitBars(box.current, i18n, props.rows);
  }, [props.rows, i18n.language]);
  return <div class="chart profit-chart" ref={box} role="img" aria-label={props.label} />;
}

/** The executive report's revenue/MRR chart (MRR line over monthly revenue bars). */
export function RevenueChart(props: { months: readonly { month: string; mrrCents: number; revenueCents: number }[]; label: string }) {
  const i18n = useI18n();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    return drawRevenueChart(box.current, i18n, props.months, { mrr: i18n.t('kMrr'), revenue: i18n.t('revenueBars') });
  }, [props.months, i18n.language]);
  return <div class="chart revenue-chart" ref={box} role="img" aria-label={props.label} />;
}

/** A symbol's candle chart under its caption: loading, the API's error (with a retry) or "no candles" in words. */
export function CandleFigure(props: {
  candles: Async<Candles>;
  reload: () => void;
  symbol: string;
  timeframe: string;
  marks: readonly TradeMark[];
  lines?: readonly PriceLine[];
}) {
  const { t } = useI18n();
  const names = { symbol: props.symbol, timeframe: props.timeframe };
  return (
    <figure class="chart-figure">
      <figcaption>{t('chartTitle', names)}</figcaption>
      {props.candles.state === 'error' ? (
        <ErrorBox error={props.candles.error} retry={props.reload} />
      ) : (
        <AsyncView value={props.candles}>
          {(data) =>
            data.candles.length === 0 ? (
              <p class="empty">{t('chartEmpty', names)}</p>
            ) : (
              <PriceChart data={data} marks={props.marks} {...(props.lines ? { lines: props.lines } : {})} label={t('chartLabel')} />
            )
          }
        </AsyncView>
      )}
    </figure>
  );
}
