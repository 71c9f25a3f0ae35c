import type { Mastra } from '@mastra/core';
import type { WorkflowDeps } from './deps.ts';
import { BOT_ONBOARDING, createBotOnboardingWorkflow } from './bot-onboarding.ts';
import { BOT_REVIEW, createBotReviewWorkflow } from './bot-review.ts';
import { createDunningWorkflow, DUNNING } from './dunning.ts';
import { createExecutiveReportWorkflow, EXECUTIVE_REPORT, type ReportOutput } from './executive-report.ts';
import { createIncidentResponseWorkflow, INCIDENT_RESPONSE } from './incident-response.ts';
import { runOnce, type RunOutcome } from './runs.ts';
import { ProductError } from '../errors/index.ts';

// The company's workflows: typed graphs of Mastra steps over the tool layer, resumable from
// their snapshots (db/mastra-workflows.ts) after a crash, with side effects keyed so that a
// resumed run never repeats them. `createMastra` (mastra.config.ts) registers them; the job
// layer schedules them (executive reports, dunning checks, anomaly scans) and calls
// `recoverInterruptedRuns` / `resumeDueRuns`.

export type { WorkflowDeps } from './deps.ts';
export {
  BOT_ONBOARDING,
  MAX_BACKTEST_DRAWDOWN_PCT,
  MIN_LIVE_BACKTEST_RETURN_PCT,
  onboardBot,
  onboardingRequestSchema,
  resumeDecidedOnboardings,
  type OnboardingRequest,
} from './bot-onboarding.ts';
export { BOT_REVIEW, runBotReview, type BotReviewOutput } from './bot-review.ts';
export { DUNNING, dunningCheck, startDunning } from './dunning.ts';
export { findingSchema, incidentKey, INCIDENT_RESPONSE, respondToIncident, scanForIncidents, type Finding } from './incident-response.ts';
export {
  EXECUTIVE_REPORT,
  REPORT_CHART_MONTHS,
  reportInputSchema,
  reportOutputSchema,
  type ReportInput,
  type ReportOutput,
} from './executive-report.ts';
export { renderReport, type ReportFigures } from './report-template.ts';
export { DEFAULT_STALE_MS, recoverInterruptedRuns, resumeDueRuns, runOnce, type RunOutcome, type Wake } from './runs.ts';

/** Every workflow, by id, built over the runtime's services. */
export function createWorkflows(deps: WorkflowDeps) {
  return {
    [EXECUTIVE_REPORT]: createExecutiveReportWorkflow(deps),
    [DUNNING]: createDunningWorkflow(deps),
    [INCIDENT_RESPONSE]: createIncidentResponseWorkflow(deps),
    [BOT_ONBOARDING]: createBotOnboardingWorkflow(deps),
    [BOT_REVIEW]: createBotReviewWorkflow(deps),
  };
}

export const WORKFLOW_IDS = [EXECUTIVE_REPORT, DUNNING, INCIDENT_RESPONSE, BOT_ONBOARDING, BOT_REVIEW] as const;

/** A workflow run that did not succeed (failed, or suspended where it should not be): nothing to retry at once. */
export class WorkflowRunError extends ProductError {
  readonly category = 'unavailable' as const;
  readonly outcome: RunOutcome;
  constructor(message: string, outcome: RunOutcome) {
    super(message);
    this.name = 'WorkflowRunError';
    this.outcome = outcome;
  }
}

/**
 * Writes (and with `send`, queues for the CEO) the executive report. `runId` makes it happen
 * once: the job layer passes one per period and day (`executive-report:daily:2026-11-01`), so
 * several workers firing the same schedule deliver one report.
 */
export async function runExecutiveReport(
  mastra: Mastra,
  options: { period: 'daily' | 'weekly'; asOf?: Date; locale?: 'pt-BR' | 'en'; send?: boolean; useModel?: boolean; runId?: string },
): Promise<ReportOutput & { runId: string }> {
  const asOf = options.asOf ?? new Date();
  const runId = options.runId ?? `${EXECUTIVE_REPORT}:${options.period}:${asOf.toISOString()}:${crypto.randomUUID().slice(0, 8)}`;
  const outcome = await runOnce<ReportOutput>(mastra, EXECUTIVE_REPORT, {
    runId,
    resourceId: 'ceo',
    inputData: {
      period: options.period,
      asOf: asOf.toISOString(),
      ...(options.locale ? { locale: options.locale } : {}),
      send: options.send ?? false,
      useModel: options.useModel ?? true,
    },
  });
  if (outcome.status !== 'success' || !outcome.result)
    throw new WorkflowRunError(`executive report ${runId} ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`, outcome);
  return { ...outcome.result, runId };
}
