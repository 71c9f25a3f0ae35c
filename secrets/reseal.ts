import { asc, eq } from 'drizzle-orm';
import { appendAudit } from '../audit/index.ts';
import { exchangeAccounts, type Database } from '../db/index.ts';
import { SecretDecryptionError, type SecretBox } from './box.ts';

/** Every column sealed under the master key, with the context its values are bound to. */
const SEALED_COLUMNS = [
  { column: 'apiKeyEncrypted', context: 'api_key' },
  { column: 'apiSecretEncrypted', context: 'api_secret' },
  { column: 'passphraseEncrypted', context: 'passphrase' },
] as const;

export interface ResealResult {
  /** Exchange accounts whose secrets were sealed again. */
  readonly accounts: number;
  /** Sealed values rewritten (two or three per account). */
  readonly values: number;
}

/**
 * Seals every stored secret again under a new master key, in one transaction: each value is
 * opened with `from`, sealed with `to` under the same context, and opened again with `to`
 * before the row is written, so a commit means every value reads back under the new key and
 * any failure leaves the database as it was. The rows are locked for the duration, and one
 * audit row records the rotation (counts only, never key material).
 */
export async function resealStoredSecrets(
  db: Database,
  keys: { from: SecretBox; to: SecretBox },
  actor: { actorId: string },
): Promise<ResealResult> {
  return db.transaction(async (tx) => {
    const accounts = await tx.select().from(exchangeAccounts).orderBy(asc(exchangeAccounts.id)).for('update');
    let values = 0;
    for (const account of accounts) {
      const update: Partial<Record<(typeof SEALED_COLUMNS)[number]['column'], string>> = {};
      for (const { column, context } of SEALED_COLUMNS) {
        const sealed = account[column];
        if (sealed == null) continue;
        const bound = `exchange_accounts:${account.tenantId}:${context}`;
        let plaintext: string;
        try {
          plaintext = keys.from.open(sealed, bound);
        } catch (error) {
          // Names the row, never the value: the operator knows which account to look at.
          if (error instanceof SecretDecryptionError)
            throw new SecretDecryptionError(
              `exchange account ${account.id} (${context}) does not open with the current MASTER_KEY; nothing was changed`,
            );
          throw error;
        }
        const resealed = keys.to.seal(plaintext, bound);
        if (keys.to.open(resealed, bound) !== plaintext)
          throw new SecretDecryptionError(
            `exchange account ${account.id} (${context}) did not read back under the new key; nothing was changed`,
          );
        update[column] = resealed;
        values += 1;
      }
      await tx.update(exchangeAccounts).set(update).where(eq(exchangeAccounts.id, account.id));
    }
    await appendAudit(tx, {
      actorKind: 'staff',
      actorId: actor.actorId,
      action: 'secrets.master_key_rotated',
      outcome: 'ok',
      details: { accounts: accounts.length, values },
    });
    return { accounts: accounts.length, values };
  });
}
