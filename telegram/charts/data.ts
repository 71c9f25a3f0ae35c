import { financeSummary, revenueMonths } from '../../billing/index.ts';
import { tenantScope, type Database, type TenantScope } from '../../db/index.ts';
import { backtestEquityCurve, botEquityCurve } from '../../trading/index.ts';
import { drawChart, renderEquityChart, renderRevenueChart, type ChartData, type ChartOptions, type RenderedChart } from './charts.ts';

// The door's charts: the data read through the domain functions (trading's equity curves
// under the trader's tenant scope, billing's finance summary for the company), then handed to
// the drawing code in ./charts.ts.

/** The CEO's chart from the finance figures (financeSummary over `months`). */
export async function revenueChart(db: Database, options: ChartOptions & { months?: number; asOf?: Date } = {}): Promise<RenderedChart> {
  const summary = await financeSummary(db, { months: options.months ?? 12, ...(options.asOf ? { asOf: options.asOf } : {}) });
  return renderRevenueChart(revenueMonths(summary), { ...options, asOf: new Date(summary.asOf) });
}

/** A trader's bot chart, scoped to that trader. */
export async function equityChart(db: Database, scope: TenantScope, botId: string, options: ChartOptions = {}): Promise<RenderedChart> {
  return renderEquityChart(await botEquityCurve(db, scope, botId), options);
}

/** What a `chart` notification asks for (see the notifications' `chart` type). */
export type ChartRequest =
  | { readonly kind: 'revenue_mrr'; readonly months?: number | undefined; readonly asOf?: string | undefined }
  | { readonly kind: 'bot_equity'; readonly botId: string }
  | { readonly kind: 'backtest_equity'; readonly backtestId: string };

/** The data a chart request names; bot and backtest charts read only `tenantId`'s data. */
export async function chartData(db: Database, tenantId: string, request: ChartRequest): Promise<ChartData> {
  if (request.kind === 'revenue_mrr') {
    const summary = await financeSummary(db, { months: request.months ?? 12, ...(request.asOf ? { asOf: new Date(request.asOf) } : {}) });
    return { kind: 'revenue', months: revenueMonths(summary), asOf: new Date(summary.asOf) };
  }
  if (request.kind === 'bot_equity') return { kind: 'equity', curve: await botEquityCurve(db, tenantScope(tenantId), request.botId) };
  return { kind: 'equity', curve: await backtestEquityCurve(db, tenantScope(tenantId), request.backtestId) };
}

/** A requested chart, drawn off the event loop (the Telegram channel sends it as a photo). */
export async function renderChartRequest(
  db: Database,
  tenantId: string,
  request: ChartRequest,
  options: ChartOptions = {},
): Promise<RenderedChart> {
  return drawChart(await chartData(db, tenantId, request), options);
}
