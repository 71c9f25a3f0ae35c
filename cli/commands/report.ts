import { runExecutiveReport, WorkflowRunError } from '../../workflows/index.ts';
import { openAgents } from '../open-agents.ts';
import { withRuntime } from '../open-runtime.ts';
import { UsageError } from '../../errors/index.ts';

/**
 * The executive report on demand: the executive-report workflow (department figures from the
 * tools, the CEO agent's grounded summary or the template's), printed; with --send also
 * queued for the CEO on Telegram.
 */
export async function reportCommand(options: {
  period?: string;
  send?: boolean;
  json?: boolean;
  offline?: boolean;
  lang?: string;
}): Promise<void> {
  const period = options.period ?? 'daily';
  if (period !== 'daily' && period !== 'weekly') throw new UsageError(`--period must be daily or weekly, got "${period}"`);
  const locale = options.lang;
  if (locale !== undefined && locale !== 'pt-BR' && locale !== 'en') throw new UsageError(`--lang must be pt-BR or en, got "${locale}"`);
  await withRuntime(async (runtime) => {
    const started = performance.now();
    try {
      const report = await runExecutiveReport(openAgents(runtime).mastra, {
        period,
        send: options.send ?? false,
        useModel: !options.offline,
        ...(locale ? { locale } : {}),
      });
      const elapsedMs = Math.round(performance.now() - started);
      if (options.json) {
        const { runId, asOf, text, figures, summaryFrom, fallback, grounded, unsupported, modelCalls, modelMs, delivery } = report;
        console.log(
          JSON.stringify({
            period,
            asOf,
            runId,
            text,
            figures,
            summaryFrom,
            fallback,
            grounded,
            unsupported,
            modelCalls,
            modelMs,
            delivery,
            elapsedMs,
          }),
        );
        return;
      }
      console.log(report.text);
      if (report.delivery.queued) console.error(`\nQueued for the CEO (notification ${report.delivery.notificationId}).`);
    } catch (error) {
      if (!(error instanceof WorkflowRunError)) throw error;
      console.error(`Error: ${error.message}`);
      process.exitCode = 1;
    }
  });
}
