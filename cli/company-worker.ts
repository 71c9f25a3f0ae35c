import type { Mastra } from '@mastra/core';
import { runScheduledBackup } from '../backup/index.ts';
import { maintainEmbeddedDatabase } from '../db/index.ts';
import { runRetention } from '../privacy/index.ts';
import type { Metrics } from '../observability/index.ts';
import type { NotificationOutbox as OutboxSender } from '../notifications/index.ts';
import { notifyBotEvent, recoverStaleBacktests } from '../trading/index.ts';
import {
  BOT_REVIEW,
  DUNNING,
  EXECUTIVE_REPORT,
  INCIDENT_RESPONSE,
  dunningCheck,
  recoverInterruptedRuns,
  resumeDueRuns,
  runBotReview,
  runExecutiveReport,
  scanForIncidents,
  WORKFLOW_IDS,
  type RunOutcome,
} from '../workflows/index.ts';
import { createWorkerService, type ScheduledTask, type WorkerService } from '../workers/index.ts';
import type { AgentRuntime } from '../agents/index.ts';
import type { PaperMarkets } from '../trading/index.ts';
import type { Runtime } from './open-runtime.ts';
import { VERSION } from './version.ts';

/** The calendar date in a time zone (the report's run id: one report per period and day). */
export function localDate(at: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/**
 * The company's recurring work. Every worker declares the same schedules; each occurrence
 * runs once across them (BullMQ job schedulers, or the one in-process runner), and the work
 * itself is keyed (run ids, dedupe keys) so a repeated occurrence changes nothing.
 */
export function scheduledTasks(runtime: Runtime, agents: AgentRuntime, options: { outbox?: OutboxSender } = {}): ScheduledTask[] {
  const { config, database, logger } = runtime;
  const mastra: Mastra = agents.mastra;
  const timezone = config.jobs.timezone;
  const deps = { db: database.db, billing: runtime.billing, gateway: agents.gateway, logger, now: () => new Date() };
  // workflow_runs_total: how each run the schedules drive ended (or where it waits).
  const counted = (outcomes: readonly RunOutcome[], workflow?: string) => {
    for (const outcome of outcomes)
      agents.metrics?.workflowRuns.inc({
        workflow: workflow ?? WORKFLOW_IDS.find((id) => outcome.runId.startsWith(id)) ?? 'unknown',
        status: outcome.status,
      });
  };
  const report = (period: 'daily' | 'weekly') => async () => {
    const now = new Date();
    try {
      const { runId } = await runExecutiveReport(mastra, {
        period,
        send: true,
        asOf: now,
        runId: `executive-report:${period}:${localDate(now, timezone)}`,
      });
      counted([{ runId, status: 'success' }], EXECUTIVE_REPORT);
      logger.info({ runId }, `${period} executive report delivered to the outbox`);
    } catch (error) {
      counted([{ runId: '', status: 'failed' }], EXECUTIVE_REPORT);
      throw error;
    }
  };
  const tasks: ScheduledTask[] = [
    { queue: 'reports', key: 'executive-report-daily', repeat: { cron: '0 8 * * *', timezone }, handler: report('daily') },
    { queue: 'reports', key: 'executive-report-weekly', repeat: { cron: '0 8 * * 1', timezone }, handler: report('weekly') },
    {
      queue: 'webhooks',
      key: 'dunning-check',
      repeat: { everyMs: 15 * 60_000 },
      handler: async () => {
        const { started, resumed } = await dunningCheck(mastra, deps);
        counted([...started, ...resumed], DUNNING);
        if (started.length + resumed.length > 0)
          logger.info({ started: started.length, resumed: resumed.length }, 'dunning runs started or resumed');
      },
    },
    {
      queue: 'agent-tasks',
      key: 'anomaly-scan',
      repeat: { everyMs: 5 * 60_000 },
      handler: async () => {
        const { findings, runs, resumed } = await scanForIncidents(mastra, deps, { hours: 1 });
        counted([...runs, ...resumed], INCIDENT_RESPONSE);
        if (findings > 0) logger.warn({ findings, incidents: runs.length }, 'security anomalies found; incident response running');
      },
    },
    {
      // Runs abandoned by a crashed process are taken up again; waits that are over resume.
      queue: 'agent-tasks',
      key: 'workflow-recovery',
      repeat: { everyMs: 60_000 },
      handler: async () => {
        counted(await recoverInterruptedRuns(mastra, WORKFLOW_IDS));
        counted(await resumeDueRuns(mastra, deps, WORKFLOW_IDS));
      },
    },
  ];
  if (database.driver === 'pglite') {
    tasks.push({
      queue: 'agent-tasks',
      key: 'embedded-database-maintenance',
      repeat: { everyMs: 60 * 60_000 },
      handler: async () => {
        const ms = await maintainEmbeddedDatabase(database);
        logger.info({ ms }, 'embedded database vacuumed and analyzed');
      },
    });
  }
  // The daily backup: on a server from any worker (each occurrence runs once with Redis), on
  // the embedded database only in the process holding its folder (the others cannot copy it).
  const backupCron = config.backup.cron;
  if (backupCron && (config.database.url !== undefined || database.image)) {
    tasks.push({
      queue: 'agent-tasks',
      key: 'daily-backup',
      repeat: { cron: backupCron, timezone },
      handler: async () => {
        try {
          const backup = await runScheduledBackup({
            handle: database,
            url: config.database.url,
            outDir: config.backup.dir,
            retentionCount: config.backup.retentionCount,
            format: config.backup.format,
            productVersion: VERSION,
            actorId: 'scheduler',
          });
          agents.metrics?.backupRuns.inc({ outcome: 'ok' });
          logger.info(
            { dump: backup.dumpPath, bytes: backup.manifest.dump.bytes, rows: backup.manifest.totalRows, pruned: backup.pruned.length },
            'scheduled backup written',
          );
        } catch (error) {
          agents.metrics?.backupRuns.inc({ outcome: 'failed' });
          throw error;
        }
      },
    });
  }
  // Backtests queued over the API whose process stopped before running them (its job lived in
  // that process's memory) are run here; one left `running` is failed so its trader knows.
  tasks.push({
    queue: 'agent-tasks',
    key: 'backtest-recovery',
    repeat: { everyMs: 60_000 },
    handler: async () => {
      const { rerun, interrupted } = await recoverStaleBacktests(database.db, { now: () => new Date() });
      if (rerun + interrupted > 0) logger.warn({ rerun, interrupted }, 'backtests left behind by a stopped process recovered');
    },
  });
  // Personal data past its retention (RETENTION_*), once a day; money records are never touched.
  tasks.push({
    queue: 'agent-tasks',
    key: 'privacy-retention',
    repeat: { cron: '0 4 * * *', timezone },
    handler: async () => {
      const removed = await runRetention(database.db, config.retention, new Date(), agents.metrics);
      logger.info({ removed }, 'retention schedule applied');
    },
  });
  // The daily review of running bots (issue 22): one digest per trader, once per UTC day.
  tasks.push({
    queue: 'agent-tasks',
    key: 'bot-review-daily',
    repeat: { cron: '0 9 * * *', timezone },
    handler: async () => {
      const outcome = await runBotReview(mastra, new Date());
      counted([outcome], BOT_REVIEW);
      if (outcome.status !== 'success')
        throw new Error(`bot review ${outcome.runId} ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`);
      logger.info(outcome.result ?? {}, 'daily bot review queued its digests');
    },
  });
  if (options.outbox) {
    const outbox = options.outbox;
    tasks.push({
      queue: 'notifications',
      key: 'outbox-drain',
      repeat: { everyMs: 1_000 },
      handler: async () => void (await outbox.runOnce()),
    });
  }
  return tasks;
}

/**
 * This process as a worker (both `start` and `worker`): its share of the bot ticks, the
 * company's schedules, and trading events queued as notifications. With `outbox`, it also
 * delivers them (in `start`, the Telegram service does).
 */
export function companyWorker(
  runtime: Runtime,
  agents: AgentRuntime,
  metrics: Metrics,
  options: { paperMarkets: PaperMarkets; outbox?: OutboxSender },
): WorkerService {
  const { config, database, logger } = runtime;
  return createWorkerService({
    config,
    db: database.db,
    logger,
    metrics,
    secretBox: runtime.secretBox,
    paperMarkets: options.paperMarkets,
    tasks: scheduledTasks(runtime, agents, options),
    onBotEvent: (event) =>
      void notifyBotEvent(database.db, event).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not queue a trading notification'),
      ),
  });
}
