import { and, eq, lt } from 'drizzle-orm';
import type { Database } from './client.ts';
import { idempotencyKeys } from './schema/idempotency.ts';

/** How long a key is remembered. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export type IdempotencyClaim =
  | { readonly kind: 'new' }
  | { readonly kind: 'replay'; readonly statusCode: number; readonly body: string }
  | { readonly kind: 'mismatch' }
  | { readonly kind: 'in_progress' };

/**
 * Claims `key` for this request: `new` (run it, then record the answer), `replay` (the first
 * answer), `mismatch` (the key came with another request) or `in_progress` (the first is
 * still running). A key older than the window is forgotten and claimed anew.
 */
export async function claimIdempotencyKey(
  db: Database,
  claim: { principal: string; key: string; requestHash: string; now: Date },
): Promise<IdempotencyClaim> {
  const expiredBefore = new Date(claim.now.getTime() - IDEMPOTENCY_WINDOW_MS);
  await db
    .delete(idempotencyKeys)
    .where(
      and(eq(idempotencyKeys.principal, claim.principal), eq(idempotencyKeys.key, claim.key), lt(idempotencyKeys.createdAt, expiredBefore)),
    );
  const inserted = await db
    .insert(idempotencyKeys)
    .values({ principal: claim.principal, key: claim.key, requestHash: claim.requestHash, createdAt: claim.now })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (inserted.length > 0) return { kind: 'new' };
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.principal, claim.principal), eq(idempotencyKeys.key, claim.key)));
  if (!row) return claimIdempotencyKey(db, claim); // forgotten between the two statements: claim it again
  if (row.requestHash !== claim.requestHash) return { kind: 'mismatch' };
  if (row.statusCode === null || row.responseBody === null) return { kind: 'in_progress' };
  return { kind: 'replay', statusCode: row.statusCode, body: row.responseBody };
}

/** Stores the answer of a claimed key's request. */
export async function recordIdempotentResponse(
  db: Database,
  answer: { principal: string; key: string; statusCode: number; body: string },
): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({ statusCode: answer.statusCode, responseBody: answer.body })
    .where(and(eq(idempotencyKeys.principal, answer.principal), eq(idempotencyKeys.key, answer.key)));
}

/** Lets a claimed key go (its request failed on the server's side; a retry may run it). */
export async function releaseIdempotencyKey(db: Database, principal: string, key: string): Promise<void> {
  await db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key)));
}

/** Forgets keys older than the window (housekeeping; a claim also forgets its own expired key). */
export async function forgetExpiredIdempotencyKeys(db: Database, now: Date): Promise<number> {
  const removed = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS)))
    .returning({ key: idempotencyKeys.key });
  return removed.length;
}
