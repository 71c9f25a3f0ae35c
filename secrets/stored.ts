import { exchangeAccounts, type Database } from '../db/index.ts';

/**
 * Whether any secret is stored under the master key (today: exchange accounts' API keys).
 * A demo key may be generated only while none is: a new key could not read them.
 */
export async function hasStoredSecrets(db: Database): Promise<boolean> {
  return (await db.$count(exchangeAccounts)) > 0;
}
