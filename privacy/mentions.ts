import { sql, type SQL } from 'drizzle-orm';

// Rows that are someone else's but whose free text names the person: a staff member's
// conversation with an agent ("apague os dados de ana@example.com") and the agent's replies, a
// ticket another customer opened about them, a notification that told the Security head about
// them, an approval that acted on them. LGPD counts such a mention as data about the person, so
// the export lists these rows (matched by the person's email or full name) and the erasure
// replaces, inside them, the person's email, names and identifiers (Telegram ids and username,
// addresses) with the pseudonym — the row itself stays, it is the other person's.
//
// Also the company's working records whose free text may name someone else: another lead's
// notes ("indicada por …"), another trader's bot drafts (their own words), and documents —
// every version's title and text, and the document's title (a document version's SHA-256 is
// computed again over its new text: erase.ts). An export stored for its requester is a
// document too: another person's export that names them is rewritten like any text (their own
// exports are deleted whole, erase.ts).
//
// Decided on purpose: financial rows (invoices, payments, refunds, subscriptions, orders,
// trades) are never rewritten; Stripe's payloads are handled apart (erase.ts redacts every
// personal field of the person's events); the audit log is redacted through audit/redaction.ts.

export interface MentionTable {
  readonly table: string;
  /** The columns that identify a row (for the update). */
  readonly key: readonly string[];
  /** Free-text columns: plain text, or JSON whose strings are rewritten one by one. */
  readonly columns: readonly { readonly name: string; readonly json?: true }[];
}

export const MENTION_TABLES: readonly MentionTable[] = [
  { table: 'mastra_messages', key: ['id'], columns: [{ name: 'content', json: true }] },
  { table: 'mastra_threads', key: ['id'], columns: [{ name: 'title' }, { name: 'metadata', json: true }] },
  // A workflow run's saved state (an approval workflow holds the arguments it acts on).
  { table: 'mastra_workflow_snapshots', key: ['workflow_name', 'run_id'], columns: [{ name: 'snapshot', json: true }] },
  { table: 'support_tickets', key: ['id'], columns: [{ name: 'subject' }] },
  { table: 'ticket_messages', key: ['id'], columns: [{ name: 'body' }] },
  { table: 'notifications', key: ['id'], columns: [{ name: 'payload', json: true }] },
  {
    table: 'approvals',
    key: ['id'],
    columns: [{ name: 'args', json: true }, { name: 'summary' }, { name: 'decision_note' }, { name: 'result', json: true }],
  },
  { table: 'leads', key: ['id'], columns: [{ name: 'notes' }, { name: 'lost_reason' }] },
  { table: 'bot_drafts', key: ['id'], columns: [{ name: 'description' }, { name: 'name' }] },
  { table: 'documents', key: ['id'], columns: [{ name: 'title' }] },
  { table: 'document_versions', key: ['id'], columns: [{ name: 'title' }, { name: 'body' }, { name: 'change_note' }] },
];

export function mentionTable(table: string): MentionTable {
  const found = MENTION_TABLES.find((m) => m.table === table);
  if (!found) throw new Error(`${table} is not a table of mentions`);
  return found;
}

/** Texts that, found in a row's free text (any case), make it a mention of the person: at least 3 characters each. */
export function usableTerms(terms: readonly (string | null | undefined)[]): string[] {
  return [...new Set(terms.filter((t): t is string => typeof t === 'string' && t.trim().length >= 3).map((t) => t.toLowerCase()))];
}

/**
 * A name as a term that makes another row a mention: a full name only (two words or more). A
 * single word ("Ana") names many people; rows found by the email or a full name still get every
 * one of the person's names replaced (erase.ts).
 */
export function fullName(name: string | null | undefined): string | null {
  return name && name.trim().split(/\s+/).length >= 2 ? name.trim() : null;
}

/** The rows of `spec` (aliased `t`) whose free text holds one of `terms` (lowercase); null with no terms. */
export function mentionCondition(spec: MentionTable, terms: readonly string[]): SQL | null {
  if (terms.length === 0) return null;
  const parts = spec.columns.flatMap((column) =>
    terms.map((term) => sql`strpos(lower(t.${sql.identifier(column.name)}::text), ${term}) > 0`),
  );
  return sql`(${sql.join(parts, sql` or `)})`;
}
