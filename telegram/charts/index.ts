export {
  botEquityCurve,
  backtestEquityCurve,
  revenueMonths,
  renderEquityChart,
  renderRevenueChart,
  revenueChart,
  equityChart,
  renderChartRequest,
  type ChartRequest,
  ChartDataError,
  type EquityCurve,
  type RevenueMonth,
  type RenderedChart,
  type ChartOptions,
} from './charts.ts';
export { chartSvg, niceTicks, escapeXml, CHART_FONT_FAMILY, type ChartSpec, type Series, type Point } from './svg.ts';
export { svgToPng, svgToPngAsync, pngSize, fontSetup, type FontSetup, type RenderOptions } from './render.ts';
