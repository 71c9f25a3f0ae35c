import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { auditRowsNaming, redactAuditRows, type AuditRowContent } from '../audit/index.ts';
import { queryRows, tableExists, tenantScope, type Database } from '../db/index.ts';
import { stopBot } from '../trading/index.ts';
import { personTerms, stripeEventsOf } from './export.ts';
import { PRIVACY_EXPORT_CATEGORY } from './delivery.ts';
import { emailLookupDigest } from './lookup.ts';
import { fullName, MENTION_TABLES, mentionCondition, usableTerms, type MentionTable } from './mentions.ts';
import { findDataSubject, PersonNotFoundError, PrivacyRequestError, type DataSubject } from './subject.ts';

// Erasure on request (LGPD art. 18): the person's data is replaced by a pseudonym wherever the
// product may not keep it, and kept — linked to the pseudonym — where tax and financial law
// require it (invoices, payments, refunds, subscriptions, orders and trades keep every amount).
// Their bots are stopped first and their exchange keys deleted; credentials, sessions,
// conversations with agents and pending notifications are deleted; audit rows that name them
// are redacted the way audit/redaction.ts describes, so `audit verify` still passes.
// Other people's rows that name them (privacy/mentions.ts) keep their text with the person's
// email, names and identifiers replaced by the pseudonym. An email that names no account,
// customer or lead can be erased too: what is left of it (audit rows of a lookup, a failed
// sign-in typed with it, messages about it) is redacted the same way, so a lookup of an
// unknown or already erased person never keeps their email in the log for good.

/** Who asked for the erasure, as the audit log records them. */
export interface ErasureActor {
  readonly kind: 'staff' | 'trader' | 'system' | 'agent';
  /** A user id (staff), or `system:<name>` for an approval or the CLI. */
  readonly id: string;
}

export interface ErasureResult {
  /** What the person is called from now on (the user, customer and lead rows, and redacted text). */
  readonly pseudonym: string;
  readonly pseudonymEmail: string;
  readonly userId: string | null;
  /** The lead and customer rows pseudonymised (a person known only as a lead is found again by these after a restore). */
  readonly leadIds: readonly string[];
  readonly customerIds: readonly string[];
  /** False when no account, customer or lead held the email: only what was left of it (traces) was erased. */
  readonly personFound: boolean;
  readonly stoppedBots: number;
  readonly deletedExchangeKeys: number;
  /** Rows changed (pseudonymised) or deleted, per table. */
  readonly pseudonymised: Readonly<Record<string, number>>;
  readonly deleted: Readonly<Record<string, number>>;
  readonly redactedAuditRows: number;
  /** The chained audit row that records the erasure. */
  readonly auditId: number;
}

export const ERASED_TEXT = '[erased]';

/** Free-text fields of a person's own tool calls and messages (what they said), erased whole. */
const SAID_KEYS = new Set(['text', 'message', 'question', 'prompt', 'body', 'note', 'reason', 'answer', 'content', 'subject']);

export async function erasePerson(
  db: Database,
  email: string,
  actor: ErasureActor,
  options: { now?: () => Date } = {},
): Promise<ErasureResult> {
  const now = options.now?.() ?? new Date();
  const at = now.toISOString();
  let personFound = true;
  const subject = await findDataSubject(db, email).catch((error: unknown) => {
    if (!(error instanceof PersonNotFoundError)) throw error;
    personFound = false;
    // Nobody holds it: only traces are left to erase (see above).
    const address = email.trim().toLowerCase();
    return { email: address, userId: null, name: null, ownTenantId: null, tenantKind: null, staffId: null } satisfies DataSubject;
  });
  if (subject.userId && actor.id === subject.userId)
    throw new PrivacyRequestError(
      'forbidden',
      'A person cannot erase their own account while acting with it; ask the Security department.',
    );
  const suffix = crypto.randomBytes(6).toString('hex');
  const pseudonym = `erased-${suffix}`;
  const pseudonymEmail = `${pseudonym}@erased.invalid`;
  const pseudonymName = `Erased person ${suffix}`;

  return db.transaction(async (tx) => {
    const pseudonymised: Record<string, number> = {};
    const deleted: Record<string, number> = {};
    const count = async (into: Record<string, number>, table: string, statement: ReturnType<typeof sql>) => {
      if (!(await tableExists(tx, table))) return;
      const rows = await queryRows(tx, sql`with changed as (${statement} returning 1) select count(*)::int as n from changed`);
      into[table] = (into[table] ?? 0) + Number((rows[0] as { n: number } | undefined)?.n ?? 0);
    };
    const u = subject.userId;
    const t = subject.ownTenantId;

    // What else identifies them in text: Telegram ids and names, addresses they used.
    const identifiers = await identifiersOf(tx, subject);

    // Their Stripe events, found before their customer record takes the pseudonym (redacted in step 3).
    const events = await queryRows<{ id: string; payload: string }>(
      tx,
      sql`select id, payload::text as payload from webhook_events where ${stripeEventsOf(subject, 'payload')}`,
    );

    // 1. Bots stop before anything else changes, then their exchange keys go.
    let stoppedBots = 0;
    let deletedExchangeKeys = 0;
    if (t) {
      const scope = tenantScope(t);
      const live = await queryRows<{ id: string }>(tx, sql`select id from bots where tenant_id = ${t}::uuid and status <> 'stopped'`);
      for (const bot of live) await stopBot(tx, scope, bot.id);
      stoppedBots = live.length;
      const keys = await queryRows<{ n: number }>(
        tx,
        sql`with gone as (delete from exchange_accounts where tenant_id = ${t}::uuid returning 1) select count(*)::int as n from gone`,
      );
      deletedExchangeKeys = Number(keys[0]?.n ?? 0);
    }

    // 2. The account and every record that names the person.
    if (u) {
      await count(
        pseudonymised,
        'users',
        sql`update users set email = ${pseudonymEmail}, name = ${pseudonymName}, image = null, status = 'disabled', email_verified = false, updated_at = ${at}::timestamptz where id = ${u}::uuid`,
      );
      await count(deleted, 'auth_sessions', sql`delete from auth_sessions where user_id = ${u}::uuid`);
      await count(deleted, 'auth_accounts', sql`delete from auth_accounts where user_id = ${u}::uuid`);
      await count(deleted, 'auth_two_factors', sql`delete from auth_two_factors where user_id = ${u}::uuid`);
      await count(deleted, 'api_keys', sql`delete from api_keys where user_id = ${u}::uuid`);
      await count(deleted, 'idempotency_keys', sql`delete from idempotency_keys where principal = ${u}`);
      await count(deleted, 'telegram_link_codes', sql`delete from telegram_link_codes where user_id = ${u}::uuid`);
      await count(
        pseudonymised,
        'telegram_links',
        sql`update telegram_links set telegram_user_id = 0, chat_id = 0, username = null, unlinked_at = coalesce(unlinked_at, ${at}::timestamptz) where user_id = ${u}::uuid`,
      );
      await count(deleted, 'notification_preferences', sql`delete from notification_preferences where user_id = ${u}::uuid`);
      await count(deleted, 'notifications', sql`delete from notifications where recipient_user_id = ${u}::uuid`);
      await count(
        deleted,
        'mastra_messages',
        sql`delete from mastra_messages where resource_id = ${u} or thread_id in (select id from mastra_threads where resource_id = ${u})`,
      );
      await count(deleted, 'mastra_threads', sql`delete from mastra_threads where resource_id = ${u}`);
      await count(deleted, 'mastra_resources', sql`delete from mastra_resources where id = ${u}`);
      await count(deleted, 'mastra_workflow_snapshots', sql`delete from mastra_workflow_snapshots where resource_id = ${u}`);
      await count(
        pseudonymised,
        'security_events',
        sql`update security_events set ip = null, country = null, details = '{}'::jsonb where user_id = ${u}::uuid${t ? sql` or tenant_id = ${t}::uuid` : sql``}`,
      );
      await count(
        pseudonymised,
        'ticket_messages',
        sql`update ticket_messages set body = ${ERASED_TEXT} where author_user_id = ${u}::uuid${t ? sql` or tenant_id = ${t}::uuid` : sql``}`,
      );
      // A bot the trader's assistant drafted keeps its settings; the person's own words go.
      await count(
        pseudonymised,
        'bot_drafts',
        sql`update bot_drafts set description = ${ERASED_TEXT} where created_by_user_id = ${u}::uuid${t ? sql` or tenant_id = ${t}::uuid` : sql``}`,
      );
      await count(
        pseudonymised,
        'support_tickets',
        sql`update support_tickets set subject = ${ERASED_TEXT} where requester_user_id = ${u}::uuid${t ? sql` or tenant_id = ${t}::uuid` : sql``}`,
      );
    }
    await count(deleted, 'auth_verifications', sql`delete from auth_verifications where lower(identifier) = ${subject.email}`);
    // A failed sign-in with their address that matched no account keeps it only in details (accounts/auth.ts).
    await count(
      pseudonymised,
      'security_events',
      sql`update security_events set ip = null, country = null, details = '{}'::jsonb where lower(details ->> 'email') = ${subject.email}`,
    );
    if (t) {
      await count(
        pseudonymised,
        'tenants',
        sql`update tenants set name = ${pseudonymName}, updated_at = ${at}::timestamptz where id = ${t}::uuid`,
      );
      await count(deleted, 'notifications', sql`delete from notifications where tenant_id = ${t}::uuid`);
      await count(pseudonymised, 'influencers', sql`update influencers set handle = ${pseudonym} where tenant_id = ${t}::uuid`);
    }
    const customerIds = await changedIds(
      tx,
      sql`update customers set email = ${pseudonymEmail}, name = ${pseudonymName}, updated_at = ${at}::timestamptz
          where lower(email) = ${subject.email}${t ? sql` or tenant_id = ${t}::uuid` : sql``}`,
    );
    pseudonymised.customers = customerIds.length;
    const leadIds = await changedIds(
      tx,
      sql`update leads set email = ${pseudonymEmail}, name = ${pseudonymName}, company = null, notes = null, updated_at = ${at}::timestamptz
          where lower(email) = ${subject.email}${t ? sql` or converted_tenant_id = ${t}::uuid` : sql``}`,
    );
    pseudonymised.leads = leadIds.length;
    // Their exports stored for a requester (privacy/delivery.ts) are whole copies of their data:
    // deleted (the document's subject is the person: its text starts with their email).
    const exportSubject = `"subject":${JSON.stringify({ email: subject.email }).slice(0, -1)},`;
    await count(
      deleted,
      'documents',
      sql`delete from documents d where d.category = ${PRIVACY_EXPORT_CATEGORY}
          and exists (select 1 from document_versions v where v.document_id = d.id and strpos(v.body, ${exportSubject}) > 0)`,
    );

    // 3. Text elsewhere that names them: approvals (theirs, and any that name them), other people's
    //    conversations, tickets and notifications (privacy/mentions.ts), and Stripe's event payloads.
    const replace = replacer(identifiers, pseudonymEmail, pseudonymName);
    const terms = usableTerms([identifiers.email, ...identifiers.names.map(fullName), ...identifiers.tokens]);
    for (const spec of MENTION_TABLES) {
      const own =
        spec.table === 'approvals'
          ? [
              ...(u ? [sql`t.requested_by_user_id = ${u}::uuid`, sql`t.decided_by_user_id = ${u}::uuid`] : []),
              ...(t ? [sql`t.tenant_id = ${t}::uuid`] : []),
            ]
          : [];
      const changed = await rewriteMentions(tx, spec, terms, own, replace);
      if (changed.length > 0) pseudonymised[spec.table] = (pseudonymised[spec.table] ?? 0) + changed.length;
      // A document version's SHA-256 is over its text (spotting identical versions and tampering): kept true to the new text.
      if (spec.table === 'document_versions' && changed.length > 0)
        await tx.execute(
          sql`update document_versions set sha256 = encode(sha256(convert_to(body, 'UTF8')), 'hex')
              where id::text in (${sql.join(
                changed.map((key) => sql`${key.id!}`),
                sql`, `,
              )})`,
        );
    }
    const redactStripe = stripeRedactor(replace, pseudonymEmail, pseudonymName);
    for (const row of events) {
      const payload = redactStripe(JSON.parse(row.payload) as unknown);
      await tx.execute(sql`update webhook_events set payload = ${JSON.stringify(payload)}::jsonb where id = ${row.id}`);
    }
    if (events.length > 0) pseudonymised.webhook_events = events.length;

    // 4. The audit log: rows naming them are redacted and the erasure itself is recorded, without the erased data.
    const auditRows = await auditRowsNaming(tx, personTerms(subject));
    const redaction = await redactAuditRows(
      tx,
      auditRows,
      (content) => redactAuditContent(content, subject, replace),
      {
        occurredAt: now,
        tenantId: t,
        actorKind: actor.kind,
        actorId: actor.id,
        action: 'privacy.erasure',
        outcome: 'ok',
        details: { pseudonym, userId: u, stoppedBots, deletedExchangeKeys, pseudonymised, deleted },
      },
      now,
    );
    return {
      pseudonym,
      pseudonymEmail,
      userId: u,
      leadIds,
      customerIds,
      personFound,
      stoppedBots,
      deletedExchangeKeys,
      pseudonymised,
      deleted,
      redactedAuditRows: redaction.redactedRows,
      auditId: redaction.attestation.id,
    };
  });
}

/** The ids of the rows an update changed (`statement` without its returning clause). */
async function changedIds(tx: Database, statement: ReturnType<typeof sql>): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(tx, sql`${statement} returning id::text as id`);
  return rows.map((row) => row.id);
}

interface Identifiers {
  readonly email: string;
  readonly names: readonly string[];
  /** Telegram user and chat ids, and addresses (IPs) the person used: erased wherever they appear. */
  readonly tokens: readonly string[];
}

async function identifiersOf(db: Database, subject: DataSubject): Promise<Identifiers> {
  const names = new Set<string>();
  if (subject.name) names.add(subject.name);
  // The digest a refused request about the email left in the audit log (privacy/lookup.ts).
  const tokens = new Set<string>([emailLookupDigest(subject.email)]);
  const u = subject.userId;
  if (u) {
    const rows = await queryRows<{ value: string | null }>(
      db,
      sql`select telegram_user_id::text as value from telegram_links where user_id = ${u}::uuid
          union select chat_id::text from telegram_links where user_id = ${u}::uuid
          union select username from telegram_links where user_id = ${u}::uuid
          union select ip from security_events where user_id = ${u}::uuid
          union select ip_address from auth_sessions where user_id = ${u}::uuid`,
    );
    for (const row of rows) if (row.value && row.value.length >= 3 && row.value !== '0') tokens.add(row.value);
  }
  const others = await queryRows<{ name: string }>(
    db,
    sql`select name from customers where lower(email) = ${subject.email} union select name from leads where lower(email) = ${subject.email}`,
  );
  for (const row of others) names.add(row.name);
  return { email: subject.email, names: [...names].filter((n) => n.trim().length >= 3), tokens: [...tokens] };
}

/**
 * Rewrites, in the rows of `spec` whose free text holds one of `terms` (or that `own` selects),
 * each text column with `replace`; returns the keys of the rows that changed.
 */
async function rewriteMentions(
  tx: Database,
  spec: MentionTable,
  terms: readonly string[],
  own: readonly ReturnType<typeof sql>[],
  replace: (value: unknown) => unknown,
): Promise<Record<string, string>[]> {
  if (!(await tableExists(tx, spec.table))) return [];
  const mentions = mentionCondition(spec, terms);
  const conditions = [...own, ...(mentions ? [mentions] : [])];
  if (conditions.length === 0) return [];
  const keys = sql.join(
    spec.key.map((k) => sql`t.${sql.identifier(k)}::text as ${sql.identifier(k)}`),
    sql`, `,
  );
  // JSON read as text and parsed here, so both drivers give the same values.
  const texts = sql.join(
    spec.columns.map((c) => sql`t.${sql.identifier(c.name)}::text as ${sql.identifier(c.name)}`),
    sql`, `,
  );
  const rows = await queryRows<Record<string, string | null>>(
    tx,
    sql`select ${keys}, ${texts} from ${sql.identifier(spec.table)} t where ${sql.join(conditions, sql` or `)}`,
  );
  const changed: Record<string, string>[] = [];
  for (const row of rows) {
    const sets = spec.columns.flatMap((column) => {
      const stored = row[column.name];
      if (stored === null || stored === undefined) return [];
      const value = column.json ? (JSON.parse(stored) as unknown) : stored;
      const next = replace(value);
      if (JSON.stringify(next) === JSON.stringify(value)) return [];
      return [
        column.json
          ? sql`${sql.identifier(column.name)} = ${JSON.stringify(next)}::jsonb`
          : sql`${sql.identifier(column.name)} = ${next as string}`,
      ];
    });
    if (sets.length === 0) continue;
    const where = sql.join(
      // The value as text, typed by the column, so the key's index finds the row.
      spec.key.map((k) => sql`${sql.identifier(k)} = ${row[k]!}`),
      sql` and `,
    );
    await tx.execute(sql`update ${sql.identifier(spec.table)} set ${sql.join(sets, sql`, `)} where ${where}`);
    changed.push(Object.fromEntries(spec.key.map((k) => [k, row[k]!])));
  }
  return changed;
}

/** Keys of Stripe objects that hold a person's details (customers, charges, payment methods, invoices, sessions). */
const STRIPE_EMAIL_KEYS = new Set(['email', 'customer_email', 'receipt_email']);
const STRIPE_NAME_KEYS = new Set(['name', 'customer_name']);
/**
 * Removed whole (Stripe writes null where there is none): phones, postal addresses, shipping
 * details, tax ids (a CPF), and the address and browser a mandate was accepted from.
 */
const STRIPE_CLEARED_KEYS = new Set([
  'phone',
  'address',
  'shipping',
  'customer_phone',
  'customer_address',
  'customer_shipping',
  'customer_tax_ids',
  'tax_ids',
  'ip_address',
  'user_agent',
]);
/** Objects of the product's catalogue, whose `name` and `description` are a product's, not a person's. */
const STRIPE_CATALOGUE_OBJECTS = new Set(['product', 'price', 'plan', 'coupon', 'promotion_code', 'tax_rate', 'shipping_rate']);

/**
 * The person's Stripe event with every personal field of its objects redacted, wherever those
 * keys occur (billing_details, shipping, customer_* of an invoice, nested objects and lists):
 * emails and names become the pseudonym's, phones and addresses null, a description that
 * names them "[erased]"; then their identifiers anywhere else are replaced. Amounts, ids and
 * statuses stay.
 */
function stripeRedactor(
  replace: (value: unknown) => unknown,
  pseudonymEmail: string,
  pseudonymName: string,
): (payload: unknown) => unknown {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (!value || typeof value !== 'object') return value;
    const object = value as Record<string, unknown>;
    const ofCatalogue = typeof object.object === 'string' && STRIPE_CATALOGUE_OBJECTS.has(object.object);
    return Object.fromEntries(
      Object.entries(object).map(([key, item]) => {
        if (item === null || item === undefined || ofCatalogue) return [key, walk(item)];
        if (STRIPE_EMAIL_KEYS.has(key) && typeof item === 'string') return [key, pseudonymEmail];
        if (STRIPE_NAME_KEYS.has(key) && typeof item === 'string') return [key, pseudonymName];
        if (STRIPE_CLEARED_KEYS.has(key)) return [key, null];
        if (key === 'description' && typeof item === 'string') return [key, replace(item) === item ? item : ERASED_TEXT];
        return [key, walk(item)];
      }),
    );
  };
  return (payload) => replace(walk(payload));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replaces the person's email, names and identifiers in any JSON value (strings, and numbers equal to an id). */
function replacer(ids: Identifiers, pseudonymEmail: string, pseudonymName: string): (value: unknown) => unknown {
  const patterns: [RegExp, string][] = [
    [new RegExp(escapeRegExp(ids.email), 'gi'), pseudonymEmail],
    ...ids.names.map((name): [RegExp, string] => [
      new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(name)}(?![\\p{L}\\p{N}])`, 'giu'),
      pseudonymName,
    ]),
    ...ids.tokens.map((token): [RegExp, string] => [new RegExp(`(?<![\\w.:])${escapeRegExp(token)}(?![\\w:]|\\.\\d)`, 'g'), ERASED_TEXT]),
  ];
  const numbers = new Set(ids.tokens.filter((token) => /^-?\d+$/.test(token)));
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return patterns.reduce((text, [pattern, by]) => text.replace(pattern, by), value);
    if (typeof value === 'number' && numbers.has(String(value))) return ERASED_TEXT;
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return walk;
}

/** An audit row's personal fields after the erasure: identifiers replaced; what the person said, erased whole. */
function redactAuditContent(
  content: AuditRowContent,
  subject: DataSubject,
  replace: (value: unknown) => unknown,
): { actorId: string | null; args: unknown; details: unknown } {
  const theirs = subject.userId !== null && content.actorId === subject.userId;
  const said = (value: unknown): unknown => {
    if (!theirs || !value || typeof value !== 'object' || Array.isArray(value)) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, SAID_KEYS.has(key) && typeof item === 'string' ? ERASED_TEXT : item]),
    );
  };
  return { actorId: content.actorId, args: replace(said(content.args)), details: replace(said(content.details)) };
}
