import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ModelGateway } from '../../agents/index.ts';
import { BillingService } from '../../billing/index.ts';
import { scheduledTasks } from '../../cli/company-worker.ts';
import type { Runtime } from '../../cli/open-runtime.ts';
import { loadConfig } from '../../config/index.ts';
import * as db from '../../db/index.ts';
import { seedDemoCompany } from '../../demo/index.ts';
import { createMastra } from '../../mastra.config.ts';
import { createLogger, createMetrics } from '../../observability/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

// The schedules the workers declare, run once each by hand on the demo company (the model is
// down here: the report comes from the template).

let test: TestDatabase;
const silent = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);

beforeAll(async () => {
  test = await createTestDatabase('pglite');
  await seedDemoCompany(test.handle.db, { secretBox: createSecretBox(crypto.randomBytes(32)), traders: 40 });
}, 120_000);
afterAll(async () => {
  await test?.dispose();
});

it('declares the company schedules and each runs: reports queued once per day, anomalies answered, runs counted', async () => {
  const config = loadConfig({ OLLAMA_HOST: 'http://127.0.0.1:9', SCHEDULE_TIMEZONE: 'America/Sao_Paulo' });
  const billing = new BillingService(test.handle.db, undefined);
  const runtime = {
    config,
    logger: silent,
    database: test.handle,
    billing,
    secretBox: createSecretBox(crypto.randomBytes(32)),
  } as unknown as Runtime;
  const metrics = createMetrics({ defaultMetrics: false });
  const gateway = new ModelGateway(config.ollama);
  const agents = {
    mastra: createMastra({ db: test.handle.db, gateway, logger: silent, billing, metrics }),
    gateway,
    logger: silent,
    metrics,
  };
  const tasks = scheduledTasks(runtime, agents);
  expect(tasks.map((t) => `${t.queue}/${t.key}`)).toEqual([
    'reports/executive-report-daily',
    'reports/executive-report-weekly',
    'webhooks/dunning-check',
    'agent-tasks/anomaly-scan',
    'agent-tasks/workflow-recovery',
    'agent-tasks/embedded-database-maintenance',
    'agent-tasks/daily-backup',
    'agent-tasks/backtest-recovery',
    'agent-tasks/privacy-retention',
    'agent-tasks/bot-review-daily',
  ]);
  expect(tasks[0]!.repeat).toEqual({ cron: '0 8 * * *', timezone: 'America/Sao_Paulo' });
  expect(tasks[1]!.repeat).toEqual({ cron: '0 8 * * 1', timezone: 'America/Sao_Paulo' });

  const run = (key: string) => tasks.find((t) => t.key === key)!.handler({ id: key, queue: 'reports', name: key, data: {}, attempt: 1 });
  await run('executive-report-daily');
  await run('executive-report-daily'); // a second firing the same day changes nothing
  const reports = await test.handle.db.select().from(db.notifications).where(eq(db.notifications.type, 'executive_report'));
  expect(reports).toHaveLength(1);
  await run('anomaly-scan');
  await run('dunning-check');
  await run('workflow-recovery');
  await run('embedded-database-maintenance');
  await run('backtest-recovery');
  // Retention: the demo's year-old security events go; the counts reach the metrics.
  const oldEvents = await db.queryRows<{ n: number }>(
    test.handle.db,
    sql`select count(*)::int as n from security_events where occurred_at < now() - interval '365 days'`,
  );
  await run('privacy-retention');
  const removed = (await metrics.privacyRetentionRemoved.get()).values;
  expect(removed.find((v) => v.labels.kind === 'security_events')?.value).toBe(oldEvents[0]!.n);
  expect(removed.map((v) => v.labels.kind).sort()).toEqual(['agent_messages', 'agent_threads', 'security_events', 'unconverted_leads']);
  // The daily bot review: one digest per trader with running bots, however often it fires that day.
  await run('bot-review-daily');
  await run('bot-review-daily');
  const digests = await test.handle.db.select().from(db.notifications).where(eq(db.notifications.type, 'bot_review'));
  expect(new Set(digests.map((d) => d.dedupeKey)).size).toBe(digests.length / new Set(digests.map((d) => d.channel)).size);
  const runs = (await metrics.workflowRuns.get()).values;
  expect(runs.find((v) => v.labels.workflow === 'executive-report' && v.labels.status === 'success')?.value).toBe(2);
  expect(runs.find((v) => v.labels.workflow === 'bot-review' && v.labels.status === 'success')?.value).toBe(2);
  const scans = await test.handle.db.select().from(db.auditLog).where(eq(db.auditLog.tool, 'detect_anomalies'));
  expect(scans.at(-1)).toMatchObject({ actorId: 'system:workflow:incident-response', outcome: 'ok' });
}, 120_000);
