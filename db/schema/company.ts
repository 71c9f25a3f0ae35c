import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgEnum, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core';
import { cents, createdAt, decimal, id, instant, updatedAt } from './columns.ts';
import { department, staff, tenantRef, tenants, users } from './tenancy.ts';

// --- Support (SAC) -------------------------------------------------------------------------

export const ticketStatuses = ['open', 'pending', 'escalated', 'resolved', 'closed'] as const;
export const ticketStatus = pgEnum('ticket_status', ticketStatuses);
export const ticketPriorities = ['low', 'normal', 'high', 'urgent'] as const;
export const ticketPriority = pgEnum('ticket_priority', ticketPriorities);

/** First-response SLA of each priority, in hours. */
export const TICKET_SLA_HOURS: Readonly<Record<(typeof ticketPriorities)[number], number>> = { urgent: 2, high: 8, normal: 24, low: 72 };

export const supportTickets = pgTable(
  'support_tickets',
  {
    id: id(),
    /** The customer's tenant: a trader only ever sees its own tickets. */
    tenantId: tenantRef(),
    requesterUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
    subject: text().notNull(),
    category: text().notNull().default('general'),
    status: ticketStatus().notNull().default('open'),
    priority: ticketPriority().notNull().default('normal'),
    channel: text().notNull().default('telegram'),
    assigneeStaffId: uuid().references(() => staff.id, { onDelete: 'set null' }),
    slaDueAt: instant().notNull(),
    firstResponseAt: instant(),
    resolvedAt: instant(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('support_tickets_tenant_time_idx').on(t.tenantId, t.createdAt),
    index('support_tickets_status_sla_idx').on(t.status, t.slaDueAt),
  ],
);

export const ticketAuthorKinds = ['customer', 'staff', 'agent'] as const;
export const ticketAuthorKind = pgEnum('ticket_author_kind', ticketAuthorKinds);

export const ticketMessages = pgTable(
  'ticket_messages',
  {
    id: id(),
    ticketId: uuid()
      .notNull()
      .references(() => supportTickets.id, { onDelete: 'cascade' }),
    tenantId: tenantRef(),
    authorKind: ticketAuthorKind().notNull(),
    authorUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
    body: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('ticket_messages_ticket_idx').on(t.ticketId, t.createdAt)],
);

// --- Sales (Vendas) ------------------------------------------------------------------------

export const leadStages = ['new', 'contacted', 'qualified', 'proposal', 'won', 'lost'] as const;
export const leadStage = pgEnum('lead_stage', leadStages);

export const leads = pgTable(
  'leads',
  {
    id: id(),
    name: text().notNull(),
    email: text().notNull(),
    company: text(),
    source: text().notNull(),
    stage: leadStage().notNull().default('new'),
    /** 0–100, higher is more likely to convert. */
    score: integer().notNull().default(0),
    interestedPlanId: text(),
    estimatedMonthlyValueCents: cents().notNull().default(0),
    ownerStaffId: uuid().references(() => staff.id, { onDelete: 'set null' }),
    nextFollowUpAt: instant(),
    notes: text(),
    convertedTenantId: uuid().references(() => tenants.id, { onDelete: 'set null' }),
    lostReason: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('leads_stage_idx').on(t.stage, t.updatedAt),
    index('leads_follow_up_idx').on(t.nextFollowUpAt),
    index('leads_created_idx').on(t.createdAt),
  ],
);

// --- Marketing -----------------------------------------------------------------------------

/** An influencer partner; each one is a tenant of kind `influencer` on the internal free plan. */
export const influencers = pgTable('influencers', {
  id: id(),
  tenantId: uuid()
    .notNull()
    .unique()
    .references(() => tenants.id, { onDelete: 'cascade' }),
  handle: text().notNull(),
  platform: text().notNull(),
  followers: integer().notNull(),
  commissionPct: decimal().notNull(),
  status: text().$type<'active' | 'paused' | 'ended'>().notNull().default('active'),
  createdAt: createdAt(),
});

export const campaignStatuses = ['draft', 'scheduled', 'active', 'paused', 'finished'] as const;
export const campaignStatus = pgEnum('campaign_status', campaignStatuses);

export const campaigns = pgTable(
  'campaigns',
  {
    id: id(),
    name: text().notNull(),
    channel: text().notNull(),
    status: campaignStatus().notNull().default('draft'),
    influencerId: uuid().references(() => influencers.id, { onDelete: 'set null' }),
    budgetCents: cents().notNull().default(0),
    spentCents: cents().notNull().default(0),
    impressions: integer().notNull().default(0),
    clicks: integer().notNull().default(0),
    signups: integer().notNull().default(0),
    conversions: integer().notNull().default(0),
    startsAt: instant(),
    endsAt: instant(),
    createdByStaffId: uuid().references(() => staff.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('campaigns_status_idx').on(t.status, t.startsAt)],
);

// --- Documents (Documentos) ----------------------------------------------------------------

export const documentStatuses = ['draft', 'published', 'archived'] as const;
export const documentStatus = pgEnum('document_status', documentStatuses);

export const documents = pgTable(
  'documents',
  {
    id: id(),
    slug: text().notNull().unique(),
    title: text().notNull(),
    /** policy, procedure, knowledge-base article, contract template, report. */
    category: text().notNull(),
    department: department(),
    status: documentStatus().notNull().default('draft'),
    currentVersion: integer().notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('documents_category_idx').on(t.category, t.status)],
);

export const documentVersions = pgTable(
  'document_versions',
  {
    id: id(),
    documentId: uuid()
      .notNull()
      .references(() => documents.id, { onDelete: 'cascade' }),
    version: integer().notNull(),
    title: text().notNull(),
    body: text().notNull(),
    /** SHA-256 of the body, to spot identical versions and tampering. */
    sha256: text().notNull(),
    authorStaffId: uuid().references(() => staff.id, { onDelete: 'set null' }),
    changeNote: text(),
    createdAt: createdAt(),
  },
  (t) => [
    unique('document_versions_document_version_unique').on(t.documentId, t.version),
    index('document_versions_search_idx').using('gin', sql`to_tsvector('simple', ${t.title} || ' ' || ${t.body})`),
  ],
);

// --- Settings (Configurações) --------------------------------------------------------------

/** Current value of each setting; every change also writes a row in `config_entry_versions`. */
export const configEntries = pgTable('config_entries', {
  key: text().primaryKey(),
  value: jsonb().notNull(),
  version: integer().notNull().default(1),
  description: text(),
  updatedByUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
  updatedAt: updatedAt(),
});

export const configEntryVersions = pgTable(
  'config_entry_versions',
  {
    key: text()
      .notNull()
      .references(() => configEntries.key, { onDelete: 'cascade' }),
    version: integer().notNull(),
    value: jsonb().notNull(),
    changedByUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
    reason: text(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ name: 'config_entry_versions_pk', columns: [t.key, t.version] })],
);

// --- Security (Segurança) ------------------------------------------------------------------

export const securitySeverities = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const securitySeverity = pgEnum('security_severity', securitySeverities);

export const securityEvents = pgTable(
  'security_events',
  {
    id: id(),
    tenantId: uuid().references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid().references(() => users.id, { onDelete: 'set null' }),
    /** login_failed, login_succeeded, api_key_used, new_ip, withdrawal_attempt, order_burst, permission_denied, ... */
    type: text().notNull(),
    severity: securitySeverity().notNull(),
    ip: text(),
    country: text(),
    details: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    occurredAt: instant().notNull(),
    resolvedAt: instant(),
  },
  (t) => [
    index('security_events_time_idx').on(t.occurredAt),
    index('security_events_tenant_time_idx').on(t.tenantId, t.occurredAt),
    index('security_events_type_time_idx').on(t.type, t.occurredAt),
    // A person's own history (where they logged in or used a key from before), for the anomaly scan.
    index('security_events_user_type_time_idx').on(t.userId, t.type, t.occurredAt),
  ],
);
