import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { appendAudit } from '../audit/index.ts';
import { queryRows, type Database } from '../db/index.ts';
import type { Metrics } from '../observability/index.ts';

// How long personal data is kept when nothing else requires it. Invoices, payments, refunds,
// subscriptions, orders and trades are never touched here: tax and financial law keep them.

const days = (what: string, fallback: number) =>
  z.coerce
    .number({ error: `expected a number of days for ${what}` })
    .int({ error: 'expected whole days' })
    .min(1, { error: 'expected at least 1 day' })
    .max(36_500, { error: 'expected at most 36500 days' })
    .default(fallback);

/** The retention schedule: days each kind of personal data is kept. */
export const retentionScheduleSchema = z.strictObject({
  /** Messages with agents (Mastra memory) and conversations left with none. */
  agentConversationsDays: days('agent conversations', 180),
  securityEventsDays: days('security events', 365),
  /** Leads that never became a customer, counted from their last change. */
  unconvertedLeadsDays: days('leads not converted', 730),
});
export type RetentionSchedule = z.output<typeof retentionScheduleSchema>;
export const DEFAULT_RETENTION: RetentionSchedule = retentionScheduleSchema.parse({});

/** What one retention run removed, per kind. */
export interface RetentionCounts {
  readonly agentMessages: number;
  readonly agentThreads: number;
  readonly securityEvents: number;
  readonly unconvertedLeads: number;
}

const DAY_MS = 86_400_000;

/** Removes what is older than the schedule allows, as of `now`, and audits the counts. */
export async function applyRetention(db: Database, schedule: RetentionSchedule, now: Date): Promise<RetentionCounts> {
  const before = (d: number) => new Date(now.getTime() - d * DAY_MS).toISOString();
  const conversations = before(schedule.agentConversationsDays);
  const counts = await db.transaction(async (tx) => {
    const run = async (statement: ReturnType<typeof sql>) => {
      const [row] = await queryRows<{ n: number }>(tx, sql`with gone as (${statement} returning 1) select count(*)::int as n from gone`);
      return Number(row?.n ?? 0);
    };
    const agentMessages = await run(sql`delete from mastra_messages where created_at < ${conversations}::timestamptz`);
    const agentThreads = await run(
      sql`delete from mastra_threads t where t.updated_at < ${conversations}::timestamptz
          and not exists (select 1 from mastra_messages m where m.thread_id = t.id)`,
    );
    const securityEvents = await run(
      sql`delete from security_events where occurred_at < ${before(schedule.securityEventsDays)}::timestamptz`,
    );
    const unconvertedLeads = await run(
      sql`delete from leads where converted_tenant_id is null and stage <> 'won' and updated_at < ${before(schedule.unconvertedLeadsDays)}::timestamptz`,
    );
    return { agentMessages, agentThreads, securityEvents, unconvertedLeads };
  });
  await appendAudit(db, {
    occurredAt: now,
    actorKind: 'system',
    actorId: 'system:retention',
    action: 'privacy.retention',
    outcome: 'ok',
    details: { schedule, removed: counts },
  });
  return counts;
}

/** The scheduled job's work: the schedule from configuration, validated, applied, and its counts in metrics. */
export async function runRetention(
  db: Database,
  configured: unknown,
  now: Date,
  metrics?: Pick<Metrics, 'privacyRetentionRemoved'>,
): Promise<RetentionCounts> {
  const removed = await applyRetention(db, retentionScheduleSchema.parse(configured), now);
  metrics?.privacyRetentionRemoved.inc({ kind: 'agent_messages' }, removed.agentMessages);
  metrics?.privacyRetentionRemoved.inc({ kind: 'agent_threads' }, removed.agentThreads);
  metrics?.privacyRetentionRemoved.inc({ kind: 'security_events' }, removed.securityEvents);
  metrics?.privacyRetentionRemoved.inc({ kind: 'unconverted_leads' }, removed.unconvertedLeads);
  return removed;
}
