import { bigint, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, instant } from './columns.ts';
import { department, tenantRef, users } from './tenancy.ts';

// Conversations and their messages live in Mastra's storage (same database); this module
// holds what the company itself decides on.

export const approvalStatuses = ['pending', 'approved', 'rejected', 'expired', 'executed', 'failed'] as const;
export type ApprovalStatus = (typeof approvalStatuses)[number];
export const approvalStatus = pgEnum('approval_status', approvalStatuses);

/** A side effect waiting for a human: the tool call is stored and run once, after approval. */
export const approvals = pgTable(
  'approvals',
  {
    id: id(),
    /** Whose data the action touches. */
    tenantId: tenantRef(),
    requestedByUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
    agent: text(),
    tool: text().notNull(),
    args: jsonb().$type<Record<string, unknown>>().notNull(),
    summary: text().notNull(),
    /** The department whose head (or the CEO) may decide. */
    approverDepartment: department().notNull(),
    status: approvalStatus().notNull().default('pending'),
    decidedByUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
    decidedAt: instant(),
    decisionNote: text(),
    executedAt: instant(),
    result: jsonb(),
    expiresAt: instant().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('approvals_status_idx').on(t.status, t.createdAt), index('approvals_tenant_idx').on(t.tenantId, t.createdAt)],
);

export const notificationStatuses = ['pending', 'sent', 'failed', 'skipped'] as const;
export const notificationStatus = pgEnum('notification_status', notificationStatuses);

/**
 * The notification outbox: every message to a person (trade closed, payment failed,
 * security alert, report) is written here in the same transaction as the event that caused
 * it, and delivered later (Telegram) with retries; nothing is lost when delivery is down.
 */
export const notifications = pgTable(
  'notifications',
  {
    id: id(),
    /** Whose event it is (the trader's tenant, or the company). */
    tenantId: tenantRef(),
    /** A single person, or everyone in a department when null. */
    recipientUserId: uuid().references(() => users.id, { onDelete: 'cascade' }),
    recipientDepartment: department(),
    /** payment_failed, trade_closed, stop_loss_hit, risk_refusal, security_alert, executive_report, ... */
    type: text().notNull(),
    payload: jsonb().$type<Record<string, unknown>>().notNull(),
    /** The channel this row goes out on (notifications/channel.ts: one row per channel of a notification). */
    channel: text().notNull().default('telegram'),
    /** Prevents the same event from being queued twice on a channel (e.g. a replayed webhook). */
    dedupeKey: text(),
    status: notificationStatus().notNull().default('pending'),
    attempts: integer().notNull().default(0),
    nextAttemptAt: instant(),
    lastError: text(),
    /** While a sender holds the row: another sender may take it over only after this instant. */
    claimedUntil: instant(),
    /** The channel's id of the message it became, once sent (Telegram's message id: for edits and audits). */
    channelMessageId: bigint({ mode: 'number' }),
    sentAt: instant(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('notifications_channel_dedupe_key_unique').on(t.channel, t.dedupeKey),
    index('notifications_pending_idx').on(t.status, t.channel, t.nextAttemptAt),
    index('notifications_tenant_idx').on(t.tenantId, t.createdAt),
    // The web events stream reads each channel's rows as they are queued (notifications/web-events.ts).
    index('notifications_channel_created_idx').on(t.channel, t.createdAt),
  ],
);

export const notificationLevels = ['on', 'silent', 'off'] as const;
export type NotificationLevel = (typeof notificationLevels)[number];
export const notificationLevel = pgEnum('notification_level', notificationLevels);

/** Per person and notification type: on, silent (no sound) or off. Absent means on. */
export const notificationPreferences = pgTable(
  'notification_preferences',
  {
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    type: text().notNull(),
    level: notificationLevel().notNull(),
    updatedAt: instant().notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.type] })],
);

// Mastra's conversation memory (db/mastra-memory.ts): one thread per person, channel and agent.

export const mastraThreads = pgTable(
  'mastra_threads',
  {
    id: text().primaryKey(),
    /** Whose conversation: a staff member's or trader's user id. */
    resourceId: text().notNull(),
    title: text(),
    metadata: jsonb().$type<Record<string, unknown>>(),
    createdAt: timestamp({ withTimezone: true, mode: 'date', precision: 3 }).notNull(),
    updatedAt: timestamp({ withTimezone: true, mode: 'date', precision: 3 }).notNull(),
  },
  (t) => [index().on(t.resourceId, t.updatedAt)],
);

export const mastraMessages = pgTable(
  'mastra_messages',
  {
    id: text().primaryKey(),
    threadId: text().notNull(),
    resourceId: text(),
    role: text().notNull(),
    type: text().notNull().default('text'),
    /** Mastra's message content (format 2: parts, tool invocations, metadata). */
    content: jsonb().notNull(),
    createdAt: timestamp({ withTimezone: true, mode: 'date', precision: 3 }).notNull(),
  },
  // (thread, time, id): a thread's newest or oldest messages in the order they are listed, read straight off the index.
  (t) => [index().on(t.threadId, t.createdAt, t.id), index().on(t.resourceId, t.createdAt)],
);

export const mastraResources = pgTable('mastra_resources', {
  id: text().primaryKey(),
  workingMemory: text(),
  metadata: jsonb().$type<Record<string, unknown>>(),
  createdAt: timestamp({ withTimezone: true, mode: 'date', precision: 3 }).notNull(),
  updatedAt: timestamp({ withTimezone: true, mode: 'date', precision: 3 }).notNull(),
});

/** Mastra workflow snapshots (db/mastra-workflows.ts): a run resumes from here after a crash. */
export const mastraWorkflowSnapshots = pgTable(
  'mastra_workflow_snapshots',
  {
    workflowName: text().notNull(),
    runId: text().notNull(),
    resourceId: text(),
    snapshot: jsonb().notNull(),
    createdAt: timestamp({ withTimezone: true, mode: 'date', precision: 3 }).notNull(),
    updatedAt: timestamp({ withTimezone: true, mode: 'date', precision: 3 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workflowName, t.runId] }), index().on(t.runId), index().on(t.createdAt)],
);
