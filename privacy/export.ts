import { sql, type SQL } from 'drizzle-orm';
import { auditRowsNaming } from '../audit/index.ts';
import { queryRows, type Database } from '../db/index.ts';
import { formatMoneyCents } from '../i18n/index.ts';
import { findDataSubject, type DataSubject } from './subject.ts';

// Everything the product holds about one person, table by table. Each source says which of
// its rows are the person's and which columns are left out (secrets: credentials, key
// ciphertexts, token hashes). test/privacy/export-completeness.test.ts lists every table with a
// column that names a person and fails when it is neither here nor in EXPORT_EXCLUDED.

interface ExportSource {
  readonly table: string;
  /** The person's rows (a condition on the table aliased `t`); null when the person can have none. */
  readonly where: (subject: DataSubject) => SQL | null;
  /** Columns never exported, and why. */
  readonly omit?: readonly string[];
  readonly order?: string;
}

const byUser = (column: string) => (s: DataSubject) => (s.userId ? sql`t.${sql.identifier(column)} = ${s.userId}::uuid` : null);
const byTenant = (s: DataSubject) => (s.ownTenantId ? sql`t.tenant_id = ${s.ownTenantId}::uuid` : null);
const either =
  (...parts: ((s: DataSubject) => SQL | null)[]) =>
  (s: DataSubject) => {
    const conditions = parts.map((part) => part(s)).filter((c): c is SQL => c !== null);
    return conditions.length === 0 ? null : sql`(${sql.join(conditions, sql` or `)})`;
  };
const byEmail = (column: string) => (s: DataSubject) => sql`lower(t.${sql.identifier(column)}) = ${s.email}`;

/** Every table holding the person's rows, in the order the document lists them. */
export const EXPORT_SOURCES: readonly ExportSource[] = [
  { table: 'users', where: byUser('id') },
  { table: 'tenants', where: (s) => (s.ownTenantId ? sql`t.id = ${s.ownTenantId}::uuid` : null) },
  { table: 'staff', where: byUser('user_id') },
  { table: 'consents', where: byUser('user_id'), order: 'recorded_at' },
  { table: 'customers', where: either(byTenant, byEmail('email')) },
  { table: 'subscriptions', where: byTenant, order: 'started_at' },
  { table: 'subscription_changes', where: byTenant, order: 'occurred_at' },
  { table: 'invoices', where: byTenant, order: 'period_start' },
  { table: 'payments', where: byTenant, order: 'created_at' },
  { table: 'refunds', where: byTenant, order: 'created_at' },
  // Key and secret are ciphertexts: never part of an export (the last four characters of the key are).
  {
    table: 'exchange_accounts',
    where: byTenant,
    omit: ['api_key_encrypted', 'api_secret_encrypted', 'passphrase_encrypted'],
  },
  { table: 'strategies', where: byTenant },
  { table: 'bots', where: byTenant, order: 'created_at' },
  { table: 'orders', where: byTenant, order: 'created_at' },
  { table: 'trades', where: byTenant, order: 'opened_at' },
  { table: 'positions', where: byTenant },
  { table: 'paper_orders', where: byTenant, order: 'created_at' },
  { table: 'paper_balances', where: byTenant },
  { table: 'backtests', where: either(byTenant, byUser('requested_by_user_id')), order: 'created_at' },
  // The trade list and equity curve are the engine's output on public candles, not about the person.
  { table: 'backtest_results', where: byTenant, omit: ['trade_list', 'equity_curve'] },
  // Candles the person uploaded for a backtest: market data, named by file, size and SHA-256 (the CSV itself left out).
  { table: 'backtest_uploads', where: byTenant, omit: ['csv'], order: 'created_at' },
  // Bots the trader's assistant drafted from the person's own words (the description is theirs).
  { table: 'bot_drafts', where: either(byTenant, byUser('created_by_user_id')), order: 'created_at' },
  // Each set of parameters a bot traded with, and who changed them.
  { table: 'bot_versions', where: either(byTenant, byUser('created_by_user_id')), order: 'created_at' },
  // Pairs the trader (or the engine's stop-loss cooldown) held from new entries.
  { table: 'pair_locks', where: byTenant, order: 'locked_at' },
  { table: 'support_tickets', where: either(byTenant, byUser('requester_user_id')), order: 'created_at' },
  { table: 'ticket_messages', where: either(byTenant, byUser('author_user_id')), order: 'created_at' },
  {
    table: 'leads',
    where: (s) => either(byEmail('email'), (x) => (x.ownTenantId ? sql`t.converted_tenant_id = ${x.ownTenantId}::uuid` : null))(s),
  },
  { table: 'influencers', where: byTenant },
  { table: 'telegram_links', where: byUser('user_id'), order: 'linked_at' },
  // Only the SHA-256 of a link code is stored; it is a credential for a few minutes, not data about the person.
  { table: 'telegram_link_codes', where: byUser('user_id'), omit: ['code_hash'] },
  { table: 'security_events', where: either(byUser('user_id'), byTenant), order: 'occurred_at' },
  { table: 'approvals', where: either(byTenant, byUser('requested_by_user_id'), byUser('decided_by_user_id')), order: 'created_at' },
  { table: 'notifications', where: either(byUser('recipient_user_id'), byTenant), order: 'created_at' },
  { table: 'notification_preferences', where: byUser('user_id') },
  { table: 'mastra_threads', where: (s) => (s.userId ? sql`t.resource_id = ${s.userId}` : null), order: 'created_at' },
  {
    table: 'mastra_messages',
    where: (s) =>
      s.userId
        ? sql`(t.resource_id = ${s.userId} or t.thread_id in (select id from mastra_threads where resource_id = ${s.userId}))`
        : null,
    order: 'created_at',
  },
  { table: 'mastra_resources', where: (s) => (s.userId ? sql`t.id = ${s.userId}` : null) },
  { table: 'mastra_workflow_snapshots', where: (s) => (s.userId ? sql`t.resource_id = ${s.userId}` : null), order: 'created_at' },
  { table: 'config_entries', where: byUser('updated_by_user_id'), omit: ['value'] },
  { table: 'config_entry_versions', where: byUser('changed_by_user_id'), omit: ['value'] },
  { table: 'document_versions', where: (s) => (s.staffId ? sql`t.author_staff_id = ${s.staffId}::uuid` : null), omit: ['body'] },
  { table: 'campaigns', where: (s) => (s.staffId ? sql`t.created_by_staff_id = ${s.staffId}::uuid` : null) },
  // Sessions and sign-in methods without their tokens and password hash.
  { table: 'auth_sessions', where: byUser('user_id'), omit: ['token'], order: 'created_at' },
  { table: 'auth_accounts', where: byUser('user_id'), omit: ['password', 'access_token', 'refresh_token', 'id_token'] },
  { table: 'auth_verifications', where: (s) => sql`lower(t.identifier) = ${s.email}`, omit: ['value'] },
  { table: 'auth_two_factors', where: byUser('user_id'), omit: ['secret', 'backup_codes'] },
  { table: 'api_keys', where: byUser('user_id'), omit: ['key_hash'] },
  // The API's answers kept 24 hours for retried requests: which keys the person sent, not the answers again.
  { table: 'idempotency_keys', where: (s) => (s.userId ? sql`t.principal = ${s.userId}` : null), omit: ['response_body'] },
  // Stripe's events about the person's customer (they carry the email Stripe was given).
  { table: 'webhook_events', where: (s) => sql`strpos(lower(t.payload::text), ${s.email}) > 0`, order: 'received_at' },
];

/**
 * Tables with a column that could name a person, left out of the export on purpose, and why.
 * The completeness test accepts nothing else.
 */
export const EXPORT_EXCLUDED: Readonly<Record<string, string>> = {
  plans: "the product's plan catalogue: `name` is a plan's name",
  documents: "the company's documents: `name`-like columns are titles; a staff author's versions are exported from document_versions",
  telegram_groups: "company group chats registered for a department, not a person's",
  auth_rate_limits: 'sign-in throttle counters keyed by client address for a few minutes; not linkable to one person',
  audit_redactions: 'which audit rows an erasure changed: ids and digests only',
  candles: 'market data',
  bot_ticks: "which worker ticked a bot when: operational, the bot's own rows are exported",
};

export interface PersonExport {
  readonly format: 'botcriptofy.person-export/1';
  readonly generatedAt: string;
  readonly subject: {
    readonly email: string;
    readonly userId: string | null;
    readonly name: string | null;
    readonly kind: 'staff' | 'trader' | 'influencer' | 'lead or customer';
  };
  /** A few lines a person can read. */
  readonly summary: string;
  /** Rows per table. */
  readonly counts: Readonly<Record<string, number>>;
  /** The rows themselves, per table (columns as stored, secrets left out as EXPORT_SOURCES says). */
  readonly data: Readonly<Record<string, readonly Record<string, unknown>[]>>;
  /** Columns left out, per table, so the reader knows they exist. */
  readonly omitted: Readonly<Record<string, readonly string[]>>;
}

/** One JSON document of everything about the person with this email (plus a summary). */
export async function exportPersonData(db: Database, email: string, options: { now?: () => Date } = {}): Promise<PersonExport> {
  const subject = await findDataSubject(db, email);
  const data: Record<string, Record<string, unknown>[]> = {};
  const omitted: Record<string, readonly string[]> = {};
  const columns = await tableColumns(db);
  for (const source of EXPORT_SOURCES) {
    const where = source.where(subject);
    // A table another part adds later (or a deployment lacks) is skipped, not an error.
    const own = columns.get(source.table);
    if (!own) continue;
    data[source.table] = where ? await rowsOf(db, source, where, own) : [];
    if (source.omit) omitted[source.table] = source.omit;
  }
  const audit = await auditRowsNaming(db, personTerms(subject));
  data.audit_log = audit.map((row) => ({
    id: row.id,
    occurred_at: row.content.occurredAt.toISOString(),
    actor_kind: row.content.actorKind,
    actor_id: row.content.actorId,
    agent: row.content.agent,
    action: row.content.action,
    tool: row.content.tool,
    args: row.content.args,
    outcome: row.content.outcome,
    details: row.content.details,
  }));
  const counts = Object.fromEntries(Object.entries(data).map(([table, rows]) => [table, rows.length]));
  return {
    format: 'botcriptofy.person-export/1',
    generatedAt: (options.now?.() ?? new Date()).toISOString(),
    subject: {
      email: subject.email,
      userId: subject.userId,
      name: subject.name,
      kind: subject.staffId
        ? 'staff'
        : subject.tenantKind === 'trader' || subject.tenantKind === 'influencer'
          ? subject.tenantKind
          : 'lead or customer',
    },
    summary: summarize(subject, data),
    counts,
    data,
    omitted,
  };
}

/** What identifies the person in free text and in the audit log (used by export and erasure alike). */
export function personTerms(subject: DataSubject): { tenantIds: string[]; actorIds: string[]; texts: string[] } {
  return {
    tenantIds: subject.ownTenantId ? [subject.ownTenantId] : [],
    actorIds: subject.userId ? [subject.userId] : [],
    // The user id too: rows written by someone else about the person (a link code issued for them) carry it.
    texts: subject.userId ? [subject.email, subject.userId] : [subject.email],
  };
}

async function rowsOf(db: Database, source: ExportSource, where: SQL, columns: readonly string[]): Promise<Record<string, unknown>[]> {
  // Omitted columns are left out of the select list itself; json_agg over the row type is the
  // cheapest way to JSON here (to_jsonb minus keys costs twice as much on the embedded driver).
  const omit = new Set(source.omit ?? []);
  const selected =
    omit.size === 0
      ? sql`t.*`
      : sql.join(
          columns.filter((c) => !omit.has(c)).map((c) => sql`t.${sql.identifier(c)}`),
          sql`, `,
        );
  const order = source.order ? sql` order by x.${sql.identifier(source.order)}` : sql``;
  // One text value per table: the embedded driver parses one field instead of thousands of rows.
  const [result] = await queryRows<{ rows: string }>(
    db,
    sql`select coalesce(json_agg(x${order}), '[]')::text as rows from (select ${selected} from ${sql.identifier(source.table)} t where ${where}) x`,
  );
  return JSON.parse(result?.rows ?? '[]') as Record<string, unknown>[];
}

/** The columns of every table in the schema, in their order (one query for the whole export). */
async function tableColumns(db: Database): Promise<Map<string, string[]>> {
  const rows = await queryRows<{ table_name: string; columns: string[] | string }>(
    db,
    sql`select table_name, array_agg(column_name::text order by ordinal_position) as columns
        from information_schema.columns where table_schema = current_schema() group by table_name`,
  );
  return new Map(rows.map((r) => [r.table_name, typeof r.columns === 'string' ? r.columns.replace(/^\{|\}$/g, '').split(',') : r.columns]));
}

function summarize(subject: DataSubject, data: Record<string, Record<string, unknown>[]>): string {
  const n = (table: string) => data[table]?.length ?? 0;
  const centsOf = (table: string, column: string) => (data[table] ?? []).reduce((sum, row) => sum + Number(row[column] ?? 0), 0);
  const running = (data.bots ?? []).filter((bot) => bot.status === 'running').length;
  const consents = (data.consents ?? [])
    .map(
      (c) => `${String(c.kind)} version ${String(c.version)} ${c.granted ? 'given' : 'withdrawn'} on ${String(c.recorded_at).slice(0, 10)}`,
    )
    .join('; ');
  return [
    `Data held about ${subject.email}${subject.name ? ` (${subject.name})` : ''}.`,
    `Account: ${subject.userId ? (subject.staffId ? 'staff member' : `${subject.tenantKind} account`) : 'no account (lead or customer record only)'}.`,
    `Billing: ${n('subscriptions')} subscription(s), ${n('invoices')} invoice(s), ${n('payments')} payment(s) totalling ${formatMoneyCents(centsOf('payments', 'amount_cents'), 'brl', 'en')}.`,
    `Trading: ${n('bots')} bot(s) (${running} running), ${n('orders')} order(s), ${n('trades')} trade(s), ${n('exchange_accounts')} exchange key(s) (never included).`,
    `Support and agents: ${n('support_tickets')} ticket(s), ${n('ticket_messages')} ticket message(s), ${n('mastra_messages')} message(s) with agents.`,
    `Telegram links: ${n('telegram_links')}; security events: ${n('security_events')}; audit rows naming the person: ${n('audit_log')}.`,
    `Consents: ${consents || 'none recorded'}.`,
  ].join('\n');
}
