import { useEffect, useRef } from 'preact/hooks';
import type { Candles } from './api.ts';
import { drawEquityChart, drawPriceChart, drawProfitBars, type PriceLine, type TradeMark } from './chart.ts';
import { useI18n } from './i18n.ts';

// The charts as components: drawn into their box after render, drawn again when the data or the
// language/time zone change, removed with the component.

export function PriceChart(props: { data: Candles; marks: readonly TradeMark[]; lines?: readonly PriceLine[]; label: string }) {
  const i18n = useI18n();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    return drawPriceChart(box.current, i18n, props.data, props.marks, props.lines ?? []);
  }, [props.data, props.marks, props.lines, i18n.language, i18n.timeZone]);
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

export function ProfitBars(props: { rows: readonly { start: string; profitQuote: number }[]; label: string }) {
  const i18n = useI18n();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    return drawProfitBars(box.current, i18n, props.rows);
  }, [props.rows, i18n.language]);
  return <div class="chart profit-chart" ref={box} role="img" aria-label={props.label} />;
}
