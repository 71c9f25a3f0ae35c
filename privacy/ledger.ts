import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Database } from '../db/index.ts';
import { ProductError } from '../errors/index.ts';
import { erasePerson } from './erase.ts';

// The erasure ledger: a file outside the database (next to the backups by default) with one
// line per erasure — when, the erased account's id (or, for a person without an account, the
// ids of their lead and customer rows), its pseudonym and the audit row; never an email or a
// name. A backup made before an erasure still holds the person; restoring it would bring them
// back silently. The ledger survives the restore (it is not in the database), so a restore
// re-applies every ledgered erasure whose account, lead or customer holds personal data again.

export const erasureLedgerEntrySchema = z.strictObject({
  /** When the erasure was done. */
  at: z.iso.datetime({ offset: true }),
  /** The erased account; null when the email named no account (a lead, a customer, traces). */
  userId: z.uuid().nullable(),
  /**
   * Without an account: the lead and customer rows the erasure pseudonymised, by which a restore
   * finds the person again (an account's erasure finds them through the account's email).
   */
  leadIds: z.array(z.uuid()).optional(),
  customerIds: z.array(z.uuid()).optional(),
  pseudonym: z.string().min(1),
  /** The audit row that records the erasure, in the database it was done in. */
  auditId: z.number().int(),
});
export type ErasureLedgerEntry = z.output<typeof erasureLedgerEntrySchema>;

/** The ledger file cannot be read as one: restoring without it could bring erased people back. */
export class ErasureLedgerUnreadableError extends ProductError {
  readonly category = 'bad_data' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ErasureLedgerUnreadableError';
  }
}

/** The ledger this process records erasures in (ERASURE_LEDGER_FILE); set by the runtime at start. */
let ledgerFile: string | undefined;

/** Where this process records erasures from now on; undefined: nowhere (a test's own database). */
export function useErasureLedger(file: string | undefined): void {
  ledgerFile = file;
}

/** The ledger this process records erasures in, when one is set. */
export function erasureLedgerFile(): string | undefined {
  return ledgerFile;
}

/**
 * Appends an erasure to the ledger (this process's, or `file`): one JSON line, written and
 * flushed to disk before it returns, in a file only this user may read.
 */
export function recordErasure(entry: ErasureLedgerEntry, file: string | undefined = ledgerFile): void {
  if (!file) return;
  const line = `${JSON.stringify(erasureLedgerEntrySchema.parse(entry))}\n`;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fd = fs.openSync(file, 'a', 0o600);
  try {
    fs.writeSync(fd, line);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Every erasure in the ledger files that exist (a missing file holds none), oldest first, each once. */
export function readErasureLedger(files: readonly string[]): ErasureLedgerEntry[] {
  const seen = new Map<string, ErasureLedgerEntry>();
  for (const file of new Set(files.map((name) => path.resolve(name)))) {
    if (!fs.existsSync(file)) continue;
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      let entry: ErasureLedgerEntry;
      try {
        entry = erasureLedgerEntrySchema.parse(JSON.parse(line));
      } catch {
        throw new ErasureLedgerUnreadableError(
          `erasure ledger ${file}, line ${index + 1}, is not an erasure record: repair or remove that line (each is {"at","userId","pseudonym","auditId"}) and run the command again`,
        );
      }
      seen.set(`${entry.userId}|${entry.pseudonym}`, entry);
    });
  }
  return [...seen.values()].sort((a, b) => a.at.localeCompare(b.at));
}

/**
 * Ledgered people who hold personal data again (not pseudonymised), by their account, or by
 * their lead or customer rows when they had none: their erasure was undone, by a restore. One
 * per email (the erasure by email covers every row holding it).
 */
export async function erasuresUndone(
  db: Database,
  entries: readonly ErasureLedgerEntry[],
): Promise<{ userId: string | null; email: string }[]> {
  const ids = (pick: (entry: ErasureLedgerEntry) => readonly (string | null | undefined)[]) => [
    ...new Set(entries.flatMap((entry) => pick(entry).filter((id): id is string => typeof id === 'string'))),
  ];
  const users = ids((entry) => [entry.userId]);
  const leads = ids((entry) => entry.leadIds ?? []);
  const customers = ids((entry) => entry.customerIds ?? []);
  const among = (list: readonly string[]) =>
    sql.join(
      list.map((id) => sql`${id}`),
      sql`, `,
    );
  // An erased row's email is its pseudonym's, `erased-…@erased.invalid` (privacy/erase.ts).
  const parts = [
    ...(users.length > 0
      ? [sql`select id::text as "userId", email from users where id::text in (${among(users)}) and email not like '%@erased.invalid'`]
      : []),
    ...(leads.length > 0
      ? [sql`select null as "userId", email from leads where id::text in (${among(leads)}) and email not like '%@erased.invalid'`]
      : []),
    ...(customers.length > 0
      ? [sql`select null as "userId", email from customers where id::text in (${among(customers)}) and email not like '%@erased.invalid'`]
      : []),
  ];
  if (parts.length === 0) return [];
  const rows = await queryRows<{ userId: string | null; email: string }>(db, sql.join(parts, sql` union all `));
  const byEmail = new Map<string, { userId: string | null; email: string }>();
  for (const row of rows) {
    const key = row.email.toLowerCase();
    const known = byEmail.get(key);
    if (!known || (known.userId === null && row.userId !== null)) byEmail.set(key, row);
  }
  return [...byEmail.values()];
}

/**
 * Erases again every ledgered person (account, or lead and customer rows) that holds personal
 * data again, as the system (the erasure's audit row says who: `system:<actor>`). Returns how
 * many were erased.
 */
export async function reapplyErasures(
  db: Database,
  entries: readonly ErasureLedgerEntry[],
  options: { actor: string; now?: () => Date },
): Promise<number> {
  const undone = await erasuresUndone(db, entries);
  for (const person of undone)
    await erasePerson(db, person.email, { kind: 'system', id: `system:${options.actor}` }, options.now ? { now: options.now } : {});
  return undone.length;
}
