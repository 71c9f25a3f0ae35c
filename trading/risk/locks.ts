import { and, asc, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import { bots, pairLocks, type Database } from '../../db/index.ts';

// freqtrade's pair locks: a pair (or `*`, every pair) of one bot, or of all a trader's bots,
// held from new entries until a time. The runner asks `entryLock` before every entry; exits
// never look here. Locks are rows: the trader's own (/lock, the API), and the engine's
// stop-loss cooldown (risk limits' `stopLossCooldownMinutes`), which has no person behind it.

/** The reason the engine writes on its stop-loss cooldown locks (doors say it in the reader's words). */
export const STOP_LOSS_COOLDOWN_REASON = 'stop_loss_cooldown';

/** The symbol of a lock on every pair. */
export const ALL_PAIRS = '*';

export type PairLockRow = typeof pairLocks.$inferSelect;

/** A lock that still holds at `now`: not lifted, and not yet at its end. */
const holdsAt = (now: Date) => and(isNull(pairLocks.unlockedAt), gt(pairLocks.lockedUntil, now));

/**
 * The lock (the one ending last) that holds entries of `symbol` for this bot at `now`, if any:
 * one on the bot or on every bot of its tenant, for this pair or for all pairs.
 */
export async function entryLock(
  db: Database,
  bot: { readonly id: string; readonly tenantId: string },
  symbol: string,
  now: Date,
): Promise<PairLockRow | undefined> {
  const [lock] = await db
    .select()
    .from(pairLocks)
    .where(
      and(
        eq(pairLocks.tenantId, bot.tenantId),
        or(eq(pairLocks.botId, bot.id), isNull(pairLocks.botId)),
        inArray(pairLocks.symbol, [symbol, ALL_PAIRS]),
        holdsAt(now),
      ),
    )
    .orderBy(sql`${pairLocks.lockedUntil} desc`)
    .limit(1);
  return lock;
}

export interface NewPairLock {
  readonly tenantId: string;
  /** One bot, or null: every bot of the tenant. */
  readonly botId: string | null;
  /** A pair such as BTC/USDT, or `*` for every pair. */
  readonly symbol: string;
  readonly until: Date;
  readonly reason: string;
  /** The person who locked it; null for the engine. */
  readonly createdByUserId: string | null;
  readonly now: Date;
}

/** Writes a lock. The bot, when named, must be the tenant's (else undefined). */
export async function lockPair(db: Database, lock: NewPairLock): Promise<PairLockRow | undefined> {
  if (lock.until.getTime() <= lock.now.getTime()) throw new RangeError('a pair lock must end after it starts');
  if (lock.botId) {
    const [own] = await db
      .select({ id: bots.id })
      .from(bots)
      .where(and(eq(bots.id, lock.botId), eq(bots.tenantId, lock.tenantId)));
    if (!own) return undefined;
  }
  const [row] = await db
    .insert(pairLocks)
    .values({
      tenantId: lock.tenantId,
      botId: lock.botId,
      symbol: lock.symbol,
      reason: lock.reason,
      lockedAt: lock.now,
      lockedUntil: lock.until,
      createdByUserId: lock.createdByUserId,
    })
    .returning();
  return row;
}

/** The tenant's locks that hold at `now`, ending soonest first. */
export async function activePairLocks(db: Database, tenantId: string, now: Date): Promise<PairLockRow[]> {
  return db
    .select()
    .from(pairLocks)
    .where(and(eq(pairLocks.tenantId, tenantId), holdsAt(now)))
    .orderBy(asc(pairLocks.lockedUntil), asc(pairLocks.id));
}

/**
 * Lifts the tenant's holding locks named by id, or every one on a pair (`*` included only when
 * asked for by name), at `now`. Returns the locks lifted; none when nothing matched.
 */
export async function unlockPairs(
  db: Database,
  tenantId: string,
  which: { readonly id: string } | { readonly symbol: string },
  by: { readonly userId: string | null; readonly now: Date },
): Promise<PairLockRow[]> {
  return db
    .update(pairLocks)
    .set({ unlockedAt: by.now, unlockedByUserId: by.userId })
    .where(
      and(
        eq(pairLocks.tenantId, tenantId),
        'id' in which ? eq(pairLocks.id, which.id) : eq(pairLocks.symbol, which.symbol),
        holdsAt(by.now),
      ),
    )
    .returning();
}
