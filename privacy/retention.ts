import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { appendAudit } from '../audit/index.ts';
import { SECURITY_EVENTS_RETENTION_FLOOR } from '../config/index.ts';
import { queryRows, type Database } from '../db/index.ts';
import { ProductError } from '../errors/index.ts';
import type { Metrics } from '../observability/index.ts';

// How long personal data is kept when nothing else requires it. Invoices, payments, refunds,
// subscriptions, orders and trades are never touched here: tax and financial law keep them.

/** Each field of the schedule and the setting it comes from (config/env.ts), for errors that name it. */
const SETTINGS = {
  agentConversationsDays: 'RETENTION_AGENT_CONVERSATIONS_DAYS',
  securityEventsDays: 'RETENTION_SECURITY_EVENTS_DAYS',
  unconvertedLeadsDays: 'RETENTION_UNCONVERTED_LEADS_DAYS',
} as const;

const days = (what: string, fallback: number, floor: { readonly days: number; readonly why: string } = { days: 1, why: '' }) =>
  z.coerce
    .number({ error: `expected a number of days for ${what}` })
    .int({ error: 'expected whole days' })
    .min(floor.days, { error: `expected at least ${floor.days} day${floor.days === 1 ? '' : 's'}${floor.why}` })
    .max(36_500, { error: 'expected at most 36500 days' })
    .default(fallback);

/**
 * The retention schedule: days each kind of personal data is kept. The floors are the
 * configuration's (config/env.ts), so a schedule handed here directly — not read from the
 * environment — cannot go below what the law requires either.
 */
export const retentionScheduleSchema = z.strictObject({
  /** Messages with agents (Mastra memory) and conversations left with none. */
  agentConversationsDays: days('agent conversations', 180),
  securityEventsDays: days('security events', 365, SECURITY_EVENTS_RETENTION_FLOOR),
  /** Leads that never became a customer, counted from their last change. */
  unconvertedLeadsDays: days('leads not converted', 730),
});
export type RetentionSchedule = z.output<typeof retentionScheduleSchema>;
export const DEFAULT_RETENTION: RetentionSchedule = retentionScheduleSchema.parse({});

/** A retention schedule the product refuses (one line naming the setting, the value and what it must be). */
export class RetentionScheduleError extends ProductError {
  readonly category = 'config' as const;
  constructor(message: string) {
    super(message);
    this.name = 'RetentionScheduleError';
  }
}

/** The schedule, validated: a value out of range is a RetentionScheduleError naming its setting. */
export function parseRetentionSchedule(value: unknown): RetentionSchedule {
  const parsed = retentionScheduleSchema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  const setting = field in SETTINGS ? `${SETTINGS[field as keyof typeof SETTINGS]} (${field})` : field || 'the retention schedule';
  const given = field && value && typeof value === 'object' ? (value as Record<string, unknown>)[field] : undefined;
  throw new RetentionScheduleError(
    `Invalid retention schedule: ${setting}${given === undefined ? '' : `=${JSON.stringify(given)}`}: ${issue.message}`,
  );
}

/** What one retention run removed, per kind. */
export interface RetentionCounts {
  readonly agentMessages: number;
  readonly agentThreads: number;
  readonly securityEvents: number;
  readonly unconvertedLeads: number;
}

const DAY_MS = 86_400_000;

/** Removes what is older than the schedule allows, as of `now`, and audits the counts. */
export async function applyRetention(db: Database, given: RetentionSchedule, now: Date): Promise<RetentionCounts> {
  // Checked here too: a schedule built in code never goes below the floors.
  const schedule = parseRetentionSchedule(given);
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
  const removed = await applyRetention(db, parseRetentionSchedule(configured), now);
  metrics?.privacyRetentionRemoved.inc({ kind: 'agent_messages' }, removed.agentMessages);
  metrics?.privacyRetentionRemoved.inc({ kind: 'agent_threads' }, removed.agentThreads);
  metrics?.privacyRetentionRemoved.inc({ kind: 'security_events' }, removed.securityEvents);
  metrics?.privacyRetentionRemoved.inc({ kind: 'unconverted_leads' }, removed.unconvertedLeads);
  return removed;
}
