import { sql, type SQL } from 'drizzle-orm';
import { auditRowsNaming } from '../audit/index.ts';
import { queryRows, type Database } from '../db/index.ts';
import { formatMoneyCents } from '../i18n/index.ts';
import { emailLookupDigest } from './lookup.ts';
import { fullName, mentionCondition, mentionTable, usableTerms } from './mentions.ts';
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
/** Someone else's rows whose free text names the person by email or full name (privacy/mentions.ts says which tables). */
const mentioning = (table: string) => (s: DataSubject) => mentionCondition(mentionTable(table), mentionTerms(s));
/** What makes another row a mention of the person: their email and full name. */
export function mentionTerms(subject: DataSubject): string[] {
  return usableTerms([subject.email, fullName(subject.name)]);
}

/** Stripe events (their payload as `payload`) that are the person's: by their email, or by a Stripe customer id of theirs. */
export function stripeEventsOf(s: DataSubject, payload: string): SQL {
  const text = sql.raw(`${payload}::text`);
  const customers = s.ownTenantId
    ? sql`(lower(c.email) = ${s.email} or c.tenant_id = ${s.ownTenantId}::uuid)`
    : sql`lower(c.email) = ${s.email}`;
  return sql`(strpos(lower(${text}), ${s.email}) > 0 or exists (select 1 from customers c where ${customers}
    and c.stripe_customer_id is not null and strpos(${text}, c.stripe_customer_id) > 0))`;
}

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
  { table: 'bot_drafts', where: either(byTenant, byUser('created_by_user_id'), mentioning('bot_drafts')), order: 'created_at' },
  // Each set of parameters a bot traded with, and who changed them.
  { table: 'bot_versions', where: either(byTenant, byUser('created_by_user_id')), order: 'created_at' },
  // Pairs the trader (or the engine's stop-loss cooldown) held from new entries.
  { table: 'pair_locks', where: byTenant, order: 'locked_at' },
  { table: 'support_tickets', where: either(byTenant, byUser('requester_user_id'), mentioning('support_tickets')), order: 'created_at' },
  { table: 'ticket_messages', where: either(byTenant, byUser('author_user_id'), mentioning('ticket_messages')), order: 'created_at' },
  {
    table: 'leads',
    where: either(
      byEmail('email'),
      (s) => (s.ownTenantId ? sql`t.converted_tenant_id = ${s.ownTenantId}::uuid` : null),
      mentioning('leads'),
    ),
  },
  { table: 'influencers', where: byTenant },
  { table: 'telegram_links', where: byUser('user_id'), order: 'linked_at' },
  // Only the SHA-256 of a link code is stored; it is a credential for a few minutes, not data about the person.
  { table: 'telegram_link_codes', where: byUser('user_id'), omit: ['code_hash'] },
  // With the failed sign-ins where someone typed the person's email (no account of theirs is named: accounts/auth.ts).
  {
    table: 'security_events',
    where: either(byUser('user_id'), byTenant, (s) => sql`lower(t.details ->> 'email') = ${s.email}`),
    order: 'occurred_at',
  },
  {
    table: 'approvals',
    where: either(byTenant, byUser('requested_by_user_id'), byUser('decided_by_user_id'), mentioning('approvals')),
    order: 'created_at',
  },
  { table: 'notifications', where: either(byUser('recipient_user_id'), byTenant, mentioning('notifications')), order: 'created_at' },
  { table: 'notification_preferences', where: byUser('user_id') },
  // Their own conversations with the agents, and other people's messages that name them.
  {
    table: 'mastra_threads',
    where: either((s) => (s.userId ? sql`t.resource_id = ${s.userId}` : null), mentioning('mastra_threads')),
    order: 'created_at',
  },
  {
    table: 'mastra_messages',
    where: either(
      (s) =>
        s.userId
          ? sql`(t.resource_id = ${s.userId} or t.thread_id in (select id from mastra_threads where resource_id = ${s.userId}))`
          : null,
      mentioning('mastra_messages'),
    ),
    order: 'created_at',
  },
  { table: 'mastra_resources', where: (s) => (s.userId ? sql`t.id = ${s.userId}` : null) },
  {
    table: 'mastra_workflow_snapshots',
    where: either((s) => (s.userId ? sql`t.resource_id = ${s.userId}` : null), mentioning('mastra_workflow_snapshots')),
    order: 'created_at',
  },
  { table: 'config_entries', where: byUser('updated_by_user_id'), omit: ['value'] },
  { table: 'config_entry_versions', where: byUser('changed_by_user_id'), omit: ['value'] },
  // The versions a staff member wrote, and any whose title or text names the person; the text itself is the company's.
  {
    table: 'document_versions',
    where: either((s) => (s.staffId ? sql`t.author_staff_id = ${s.staffId}::uuid` : null), mentioning('document_versions')),
    omit: ['body'],
  },
  { table: 'campaigns', where: (s) => (s.staffId ? sql`t.created_by_staff_id = ${s.staffId}::uuid` : null) },
  // Sessions and sign-in methods without their tokens and password hash.
  { table: 'auth_sessions', where: byUser('user_id'), omit: ['token'], order: 'created_at' },
  { table: 'auth_accounts', where: byUser('user_id'), omit: ['password', 'access_token', 'refresh_token', 'id_token'] },
  { table: 'auth_verifications', where: (s) => sql`lower(t.identifier) = ${s.email}`, omit: ['value'] },
  { table: 'auth_two_factors', where: byUser('user_id'), omit: ['secret', 'backup_codes'] },
  { table: 'api_keys', where: byUser('user_id'), omit: ['key_hash'] },
  // The API's answers kept 24 hours for retried requests: which keys the person sent, not the answers again.
  { table: 'idempotency_keys', where: (s) => (s.userId ? sql`t.principal = ${s.userId}` : null), omit: ['response_body'] },
  // Stripe's events about the person's customer: those that carry the email Stripe was given, or their Stripe customer id.
  { table: 'webhook_events', where: (s) => stripeEventsOf(s, 't.payload'), order: 'received_at' },
];

/**
 * Tables with a column that could name a person, left out of the export on purpose, and why.
 * The completeness test accepts nothing else.
 */
export const EXPORT_EXCLUDED: Readonly<Record<string, string>> = {
  plans: "the product's plan catalogue: `name` is a plan's name",
  documents:
    "the company's documents: `name`-like columns are titles; a staff author's versions are exported from document_versions (an export stored for its requester, privacy/delivery.ts, is one of theirs; the erasure of its subject deletes it)",
  telegram_groups: "company group chats registered for a department, not a person's",
  auth_rate_limits: 'sign-in throttle counters keyed by client address for a few minutes; not linkable to one person',
  audit_redactions: 'which audit rows an erasure changed: ids and digests only',
  candles: 'market data',
  bot_ticks: "which worker ticked a bot when: operational, the bot's own rows are exported",
};

/** One table of the export: its column names once, then each row as an array of values in that order. */
export interface ExportTable {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

export const PERSON_EXPORT_FORMAT = 'botcriptofy.person-export/2';

export interface PersonExport {
  readonly format: typeof PERSON_EXPORT_FORMAT;
  readonly generatedAt: string;
  readonly subject: PersonExportSubject;
  /**
   * The rows themselves, per table (columns as stored, secrets left out as EXPORT_SOURCES says):
   * column names once, rows as arrays. Numbers with a fraction and 64-bit integers (money,
   * amounts, prices, Telegram ids) are strings, exactly as stored; timestamps ISO 8601.
   */
  readonly data: Readonly<Record<string, ExportTable>>;
  /** Rows per table. */
  readonly counts: Readonly<Record<string, number>>;
  /** Columns left out, per table, so the reader knows they exist. */
  readonly omitted: Readonly<Record<string, readonly string[]>>;
  /** A few lines a person can read. */
  readonly summary: string;
}

export interface PersonExportSubject {
  readonly email: string;
  readonly userId: string | null;
  readonly name: string | null;
  readonly kind: 'staff' | 'trader' | 'influencer' | 'lead or customer';
}

/** Everything of the document but its rows: what writePersonExport returns once it has written them. */
export type PersonExportHead = Omit<PersonExport, 'data'>;

/** A table of the export as one object per row (column name → value), for a reader that wants them so. */
export function exportTableObjects(table: ExportTable): Record<string, unknown>[] {
  return table.rows.map((values) => Object.fromEntries(table.columns.map((name, i) => [name, values[i]])));
}

/** Where writePersonExport puts the document's text, piece by piece, in order. */
export type ExportSink = (text: string) => void | Promise<void>;

/** One JSON document of everything about the person with this email (plus a summary). */
export async function exportPersonData(db: Database, email: string, options: { now?: () => Date } = {}): Promise<PersonExport> {
  const parts: string[] = [];
  await writePersonExport(db, email, (text) => void parts.push(text), options);
  return JSON.parse(parts.join('')) as PersonExport;
}

/** Types whose JSON form could lose digits in a reader (numeric, 64-bit integers, money): written as strings. */
const EXACT_AS_TEXT = new Set(['numeric', 'bigint', 'money']);
/** PostgreSQL takes at most 100 arguments to a function (json_build_array). */
const MAX_COLUMNS = 100;

/**
 * The document of exportPersonData written to `sink` as it is read, table by table: each
 * table's rows come from the database as one JSON text (json_agg of row arrays) and go to the
 * sink as they are, never parsed or built into objects here, so a person with tens of
 * thousands of orders costs one aggregate per table. All tables are read in one snapshot
 * (a repeatable-read, read-only transaction), so counts and rows agree.
 */
export async function writePersonExport(
  db: Database,
  email: string,
  sink: ExportSink,
  options: { now?: () => Date } = {},
): Promise<PersonExportHead> {
  const subject = await findDataSubject(db, email);
  const generatedAt = (options.now?.() ?? new Date()).toISOString();
  const head = {
    format: PERSON_EXPORT_FORMAT as typeof PERSON_EXPORT_FORMAT,
    generatedAt,
    subject: {
      email: subject.email,
      userId: subject.userId,
      name: subject.name,
      kind: subject.staffId
        ? 'staff'
        : subject.tenantKind === 'trader' || subject.tenantKind === 'influencer'
          ? subject.tenantKind
          : 'lead or customer',
    } satisfies PersonExportSubject,
  };
  return db.transaction(
    async (tx) => {
      const counts: Record<string, number> = {};
      const omitted: Record<string, readonly string[]> = {};
      /** The few small tables the summary reads, parsed. */
      const forSummary = new Map<string, Record<string, unknown>[]>();
      const write = async (text: string) => {
        await sink(text);
      };
      await write(
        `{"format":${JSON.stringify(head.format)},"generatedAt":${JSON.stringify(generatedAt)},"subject":${JSON.stringify(head.subject)},"data":{`,
      );
      let first = true;
      const writeTable = async (table: string, columns: readonly string[], rowsJson: string) => {
        await write(`${first ? '' : ','}\n${JSON.stringify(table)}:{"columns":${JSON.stringify(columns)},"rows":`);
        await write(rowsJson);
        await write('}');
        first = false;
      };
      const columns = await tableColumns(tx);
      for (const source of EXPORT_SOURCES) {
        const where = source.where(subject);
        // A table another part adds later (or a deployment lacks) is skipped, not an error.
        const own = columns.get(source.table);
        if (!own) continue;
        const omit = new Set(source.omit ?? []);
        const selected = own.filter((c) => !omit.has(c.name));
        const { rows, count } = where ? await rowsOf(tx, source, where, selected) : { rows: '[]', count: 0 };
        counts[source.table] = count;
        if (source.omit) omitted[source.table] = source.omit;
        if (SUMMARY_TABLES.has(source.table)) {
          const names = selected.map((c) => c.name);
          forSummary.set(
            source.table,
            (JSON.parse(rows) as unknown[][]).map((values) => Object.fromEntries(names.map((name, i) => [name, values[i]]))),
          );
        }
        await writeTable(
          source.table,
          selected.map((c) => c.name),
          rows,
        );
      }
      const audit = await auditRowsNaming(tx, personTerms(subject));
      const auditColumns = ['id', 'occurred_at', 'actor_kind', 'actor_id', 'agent', 'action', 'tool', 'args', 'outcome', 'details'];
      const auditRows = audit.map((row) => [
        row.id,
        row.content.occurredAt.toISOString(),
        row.content.actorKind,
        row.content.actorId,
        row.content.agent,
        row.content.action,
        row.content.tool,
        row.content.args,
        row.content.outcome,
        row.content.details,
      ]);
      counts.audit_log = auditRows.length;
      await writeTable('audit_log', auditColumns, JSON.stringify(auditRows));
      const summary = summarize(subject, counts, forSummary);
      await write(`\n},"counts":${JSON.stringify(counts)},"omitted":${JSON.stringify(omitted)},"summary":${JSON.stringify(summary)}}\n`);
      return { ...head, counts, omitted, summary };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

/** What identifies the person in free text and in the audit log (used by export and erasure alike). */
export function personTerms(subject: DataSubject): { tenantIds: string[]; actorIds: string[]; texts: string[] } {
  return {
    tenantIds: subject.ownTenantId ? [subject.ownTenantId] : [],
    actorIds: subject.userId ? [subject.userId] : [],
    // The user id too: rows written by someone else about the person (a link code issued for them) carry it;
    // and the digest a refused request about their email left (privacy/lookup.ts).
    texts: [subject.email, ...(subject.userId ? [subject.userId] : []), emailLookupDigest(subject.email)],
  };
}

interface ColumnInfo {
  readonly name: string;
  readonly type: string;
}

async function rowsOf(
  db: Database,
  source: ExportSource,
  where: SQL,
  columns: readonly ColumnInfo[],
): Promise<{ rows: string; count: number }> {
  if (columns.length > MAX_COLUMNS)
    throw new Error(`${source.table} has ${columns.length} exported columns; the export builds rows of at most ${MAX_COLUMNS}`);
  // Each row as a JSON array (the column names are written once): half the text of row objects,
  // and the cheapest JSON the database makes. Exact types as text, so no reader rounds money.
  const values = sql.join(
    columns.map((c) => (EXACT_AS_TEXT.has(c.type) ? sql`t.${sql.identifier(c.name)}::text` : sql`t.${sql.identifier(c.name)}`)),
    sql`, `,
  );
  const order = source.order ? sql` order by t.${sql.identifier(source.order)}` : sql``;
  const [result] = await queryRows<{ rows: string | null; count: number }>(
    db,
    sql`select json_agg(json_build_array(${values})${order})::text as rows, count(*)::int as count
        from ${sql.identifier(source.table)} t where ${where}`,
  );
  return { rows: result?.rows ?? '[]', count: Number(result?.count ?? 0) };
}

/** The columns of every table in the schema, in their order, with their types (one query for the whole export). */
async function tableColumns(db: Database): Promise<Map<string, ColumnInfo[]>> {
  const rows = await queryRows<{ table_name: string; column_name: string; data_type: string }>(
    db,
    sql`select table_name::text, column_name::text, data_type::text from information_schema.columns
        where table_schema = current_schema() order by table_name, ordinal_position`,
  );
  const byTable = new Map<string, ColumnInfo[]>();
  for (const r of rows) byTable.set(r.table_name, [...(byTable.get(r.table_name) ?? []), { name: r.column_name, type: r.data_type }]);
  return byTable;
}

/** Tables the summary reads values from (all small: a person's bots, payments, consents). */
const SUMMARY_TABLES = new Set(['bots', 'payments', 'consents']);

function summarize(subject: DataSubject, counts: Record<string, number>, data: ReadonlyMap<string, Record<string, unknown>[]>): string {
  const n = (table: string) => counts[table] ?? 0;
  const centsOf = (table: string, column: string) =>
    (data.get(table) ?? []).reduce((sum, row) => sum + BigInt(String(row[column] ?? 0)), 0n);
  const running = (data.get('bots') ?? []).filter((bot) => bot.status === 'running').length;
  const consents = (data.get('consents') ?? [])
    .map(
      (c) => `${String(c.kind)} version ${String(c.version)} ${c.granted ? 'given' : 'withdrawn'} on ${String(c.recorded_at).slice(0, 10)}`,
    )
    .join('; ');
  return [
    `Data held about ${subject.email}${subject.name ? ` (${subject.name})` : ''}.`,
    `Account: ${subject.userId ? (subject.staffId ? 'staff member' : `${subject.tenantKind} account`) : 'no account (lead or customer record only)'}.`,
    `Billing: ${n('subscriptions')} subscription(s), ${n('invoices')} invoice(s), ${n('payments')} payment(s) totalling ${formatMoneyCents(centsOf('payments', 'amount_cents'), 'brl', 'en')}.`,
    `Trading: ${n('bots')} bot(s) (${running} running), ${n('orders')} order(s), ${n('trades')} trade(s), ${n('exchange_accounts')} exchange key(s) (never included).`,
    `Support and agents: ${n('support_tickets')} ticket(s), ${n('ticket_messages')} ticket message(s), ${n('mastra_messages')} message(s) with agents (theirs, and others' that name them).`,
    `Telegram links: ${n('telegram_links')}; security events: ${n('security_events')}; audit rows naming the person: ${n('audit_log')}.`,
    `Consents: ${consents || 'none recorded'}.`,
  ].join('\n');
}
