export {
  renderEquityChart,
  renderRevenueChart,
  drawChart,
  type ChartData,
  type EquityCurve,
  type RevenueMonth,
  type RenderedChart,
  type ChartOptions,
} from './charts.ts';
export { revenueChart, equityChart, chartData, renderChartRequest, type ChartRequest } from './data.ts';
export { ChartDataError } from '../../trading/index.ts';
export { chartSvg, niceTicks, escapeXml, CHART_FONT_FAMILY, type ChartSpec, type Series, type Point } from './svg.ts';
export { svgToPng, svgToPngAsync, pngSize, fontSetup, type FontSetup, type RenderOptions } from './render.ts';
