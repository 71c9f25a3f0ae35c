import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';
import { roundTrip } from '../db/index.ts';
import { outboxCounts } from '../notifications/index.ts';
import { invokeTool, pendingApprovalsAt, TOOLS, type ToolName } from '../tools/index.ts';
import { writeCeoSummary } from './ceo-summary.ts';
import { toolContext, type WorkflowDeps } from './deps.ts';
import { companyPeople, notify } from './notify.ts';
import { renderHighlights, renderReport, type Locale, type Period, type ReportFigures, type SystemHealth } from './report-template.ts';

// executive-report: each department's figures from the tool layer, in parallel; the CEO
// agent's summary of those figures (grounded, or the template's); delivery to the CEO: the
// text, then the revenue and MRR chart (an outbox `chart` row the Telegram sender draws).
//
//   input ─┬─ finance ────┐
//          ├─ trading ────┤
//          ├─ security ───┤
//          ├─ support ────┼─ summarize ─ deliver
//          ├─ sales ──────┤
//          ├─ marketing ──┤
//          ├─ audit ──────┤
//          └─ system ─────┘
//
// The figures are computed as of `asOf` (fixed at the start), so a run restarted after a
// crash reports the same instant. Delivery is one outbox row per run (dedupe key), so a
// resumed run never sends twice.

export const EXECUTIVE_REPORT = 'executive-report';
/** How many calendar months the report's revenue/MRR chart covers (Telegram's photo and the dashboard's chart). */
export const REPORT_CHART_MONTHS = { daily: 6, weekly: 12 } as const;

export const reportInputSchema = z.object({
  period: z.enum(['daily', 'weekly']),
  /** The instant the figures describe (ISO). */
  asOf: z.string(),
  /** The report's language; the CEO's own when absent. */
  locale: z.enum(['pt-BR', 'en']).optional(),
  /** Queue it for the CEO (Telegram) once written. */
  send: z.boolean(),
  /** Ask the model for the summary (false: the template's). */
  useModel: z.boolean(),
});
export type ReportInput = z.infer<typeof reportInputSchema>;

/** The tool calls behind each department's figures, for a period. */
const DEPARTMENT_CALLS: Readonly<
  Record<Exclude<keyof ReportFigures, 'system'>, (period: Period) => Partial<Record<ToolName, Record<string, unknown>>>>
> = {
  // MRR, ARR, ARPU and paying customers now; churn over its standard 30 days and LTV over 90
  // (the same on both reports); net new MRR and failed payments over the report's period.
  finance: (p) => ({ revenue_summary: { months: 1, days: days(p) }, failed_payments: { days: days(p) } }),
  trading: (p) => ({ trading_pnl: { days: days(p) }, risk_status: {} }),
  security: (p) => ({ recent_security_events: { hours: days(p) * 24 }, detect_anomalies: { hours: days(p) * 24 } }),
  support: () => ({ open_tickets: { limit: 5 } }),
  sales: (p) => ({ sales_funnel: { days: days(p) } }),
  marketing: (p) => ({ campaign_performance: { days: days(p) } }),
  audit: () => ({ verify_audit_chain: {} }),
};

function days(period: Period): number {
  return period === 'daily' ? 1 : 7;
}

/** A department's step: its tools through the tool layer (audited as this workflow), results as the tools return them. */
function departmentStep<K extends keyof typeof DEPARTMENT_CALLS>(deps: WorkflowDeps, department: K) {
  const tools = Object.keys(DEPARTMENT_CALLS[department]('daily'));
  const outputSchema = z.object(Object.fromEntries(tools.map((tool) => [tool, TOOLS.get(tool)!.output.nullable()])));
  return createStep({
    id: department,
    description: `${department} figures from the tools ${tools.join(', ')}`,
    inputSchema: reportInputSchema,
    outputSchema,
    execute: async ({ inputData }) => {
      const ctx = toolContext(deps, EXECUTIVE_REPORT, new Date(inputData.asOf));
      const calls = Object.entries(DEPARTMENT_CALLS[department](inputData.period));
      const outcomes = await Promise.all(calls.map(([tool, args]) => invokeTool(TOOLS, ctx, tool, args)));
      const results: Record<string, unknown> = {};
      outcomes.forEach((outcome, i) => {
        const tool = calls[i]![0];
        if (outcome.ok && 'result' in outcome) results[tool] = outcome.result;
        else {
          results[tool] = null;
          deps.logger.warn(
            { tool, outcome: 'message' in outcome ? outcome.message : 'pending' },
            'executive report: a tool gave no figures; its section says so',
          );
        }
      });
      return results as z.infer<typeof outputSchema>;
    },
  });
}

const systemSchema = z.object({
  databaseMs: z.number(),
  pendingApprovals: z.number(),
  oldestApprovalHours: z.number().nullable(),
  outboxPending: z.number(),
  outboxFailed: z.number(),
  /** Not checked when the report was asked for without the model. */
  model: z.enum(['ready', 'missing', 'down', 'not checked']),
});

function systemStep(deps: WorkflowDeps) {
  return createStep({
    id: 'system',
    description: 'system health: database round trip, pending approvals, the notification outbox, the model',
    inputSchema: reportInputSchema,
    outputSchema: systemSchema,
    execute: async ({ inputData }): Promise<SystemHealth> => {
      const asOf = new Date(inputData.asOf);
      // The best of three round trips: the other departments' queries run at the same time.
      let databaseMs = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        await roundTrip(deps.db);
        databaseMs = Math.min(databaseMs, Math.round((performance.now() - started) * 10) / 10);
      }
      const pending = await pendingApprovalsAt(deps.db, asOf);
      const outbox = await outboxCounts(deps.db);
      const model = inputData.useModel ? (await deps.gateway.status()).state : ('not checked' as const);
      const oldest = pending.oldest;
      return {
        databaseMs,
        pendingApprovals: pending.count,
        oldestApprovalHours: oldest ? Math.max(0, Math.floor((asOf.getTime() - oldest.getTime()) / 3_600_000)) : null,
        outboxPending: Number(outbox?.pending ?? 0),
        outboxFailed: Number(outbox?.failed ?? 0),
        model,
      };
    },
  });
}

const summarySchema = z.object({
  text: z.string(),
  locale: z.enum(['pt-BR', 'en']),
  summaryFrom: z.enum(['model', 'template']),
  fallback: z.enum(['offline', 'missing', 'timed out', 'not used', 'unverified', 'rejected']).nullable(),
  grounded: z.boolean(),
  unsupported: z.array(z.string()),
  modelCalls: z.number(),
  modelMs: z.number(),
  figures: z.record(z.string(), z.unknown()),
});

export const reportOutputSchema = summarySchema.extend({
  period: z.enum(['daily', 'weekly']),
  asOf: z.string(),
  delivery: z.object({
    queued: z.boolean(),
    notificationId: z.string().nullable(),
    chartNotificationId: z.string().nullable(),
    duplicate: z.boolean(),
  }),
});
export type ReportOutput = z.infer<typeof reportOutputSchema>;

/** At most `max` characters, cut at a line. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  return `${cut.slice(0, Math.max(cut.lastIndexOf('\n'), 0) || cut.length)}…`;
}

export function createExecutiveReportWorkflow(deps: WorkflowDeps) {
  const departments = (['finance', 'trading', 'security', 'support', 'sales', 'marketing', 'audit'] as const).map((d) =>
    departmentStep(deps, d),
  );
  const figuresSchema = z.object(
    Object.fromEntries([...departments.map((step) => [step.id, step.outputSchema]), ['system', systemSchema]]),
  );

  const summarize = createStep({
    id: 'summarize',
    description: "the CEO agent's summary of the figures (grounding checked), or the template's",
    inputSchema: figuresSchema,
    outputSchema: summarySchema,
    execute: async ({ inputData, getInitData, mastra }) => {
      const input = getInitData<ReportInput>();
      const figures = inputData as unknown as ReportFigures;
      const asOf = new Date(input.asOf);
      const locale: Locale = input.locale ?? (await companyPeople(deps.db)).ceo?.locale ?? 'pt-BR';
      const summary = await writeCeoSummary(mastra, deps, {
        figures,
        period: input.period,
        asOf,
        locale,
        useModel: input.useModel,
        workflowId: EXECUTIVE_REPORT,
      });
      const text = renderReport({
        figures,
        period: input.period,
        asOf,
        locale,
        summary: summary.text ?? renderHighlights(figures, input.period, locale),
        fallback: summary.fallback,
      });
      return {
        text,
        locale,
        summaryFrom: summary.text ? ('model' as const) : ('template' as const),
        fallback: summary.fallback ?? null,
        grounded: summary.grounded,
        unsupported: [...summary.unsupported],
        modelCalls: summary.modelCalls,
        modelMs: summary.modelMs,
        figures: inputData as Record<string, unknown>,
      };
    },
  });

  const deliver = createStep({
    id: 'deliver',
    description: 'queue the report for the CEO (once per run)',
    inputSchema: summarySchema,
    outputSchema: reportOutputSchema,
    execute: async ({ inputData, getInitData, runId }) => {
      const input = getInitData<ReportInput>();
      let delivery: ReportOutput['delivery'] = { queued: false, notificationId: null, chartNotificationId: null, duplicate: false };
      if (input.send) {
        const { companyTenantId, ceo } = await companyPeople(deps.db);
        const queued = await notify(deps.db, {
          tenantId: companyTenantId,
          to: ceo ? { userId: ceo.userId } : { department: 'ceo' },
          type: 'executive_report',
          // The outbox writes its own title line above the body.
          payload: { period: input.period, body: clip(inputData.text.slice(inputData.text.indexOf('\n\n') + 2), 3_500), asOf: input.asOf },
          dedupeKey: `executive_report:${runId}`,
        });
        // Then the revenue and MRR chart, drawn by the outbox when it sends it.
        const chart = await notify(deps.db, {
          tenantId: companyTenantId,
          to: ceo ? { userId: ceo.userId } : { department: 'ceo' },
          type: 'chart',
          payload: { kind: 'revenue_mrr', months: REPORT_CHART_MONTHS[input.period], asOf: input.asOf },
          dedupeKey: `executive_report:${runId}:chart`,
        });
        delivery = { queued: true, notificationId: queued.id, chartNotificationId: chart.id, duplicate: !queued.created };
      }
      return { ...inputData, period: input.period, asOf: input.asOf, delivery };
    },
  });

  return createWorkflow({
    id: EXECUTIVE_REPORT,
    description: "Department figures → the CEO agent's summary → delivery to the CEO",
    inputSchema: reportInputSchema,
    outputSchema: reportOutputSchema,
  })
    .parallel([...departments, systemStep(deps)])
    .then(summarize)
    .then(deliver)
    .commit();
}
