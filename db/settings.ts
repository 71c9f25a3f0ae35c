import { eq, sql } from 'drizzle-orm';
import type { Database } from './client.ts';
import { configEntries } from './schema/index.ts';

// The company's settings (`config_entries`) as the code that acts on them reads them; the
// `settings` tools change them (versioned, audited).

/** A setting's value (any JSON), undefined when it was never set. */
export async function settingValue(db: Database, key: string): Promise<unknown> {
  const [entry] = await db.select({ value: configEntries.value }).from(configEntries).where(eq(configEntries.key, key));
  return entry?.value;
}

/** One round trip to the database (`select 1`); throws when it is gone. */
export async function roundTrip(db: Database): Promise<void> {
  await db.execute(sql`select 1`);
}
