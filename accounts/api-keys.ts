import crypto from 'node:crypto';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { apiKeys, securityEvents, users, type ApiKeyScope, type Database } from '../db/index.ts';
import { ProductError } from '../errors/index.ts';

// Personal API keys for integrations (issue 16). Our own table, not Better-Auth's: the installed
// better-auth (1.7) no longer ships an API-key plugin (it moved to a separate package, which adds
// its own tables and its own idea of permissions); ours is one small table with what the API
// needs: the owner, a scope (read or read_write) and only the key's SHA-256. A key is 32 random
// bytes, so one unsalted SHA-256 is enough to look it up and nothing to guess from (unlike a
// password, which needs a slow hash).

export { apiKeyScopes, type ApiKeyScope } from '../db/index.ts';

/** Every key starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const API_KEY_PREFIX = 'bcf_';
/** The key's first characters, kept in clear to tell keys apart in a list. */
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
/** At most this many keys (revoked ones not counted) per person. */
export const MAX_ACTIVE_API_KEYS = 20;
/** `last_used_at` is written when it is at least this old. */
const LAST_USED_PRECISION_MS = 60_000;
const SEEN_PAIRS_KEPT = 10_000;

export interface ApiKeySummary {
  readonly id: string;
  readonly name: string;
  readonly scope: ApiKeyScope;
  /** The key's first characters (`bcf_` and 8 more). */
  readonly prefix: string;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** A key as its owner sees it in JSON (the CLI's --json and the API): instants as ISO strings, never the key. */
export function apiKeyJson(key: ApiKeySummary) {
  return {
    id: key.id,
    name: key.name,
    scope: key.scope,
    prefix: key.prefix,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

/** Who a valid key acts for. */
export interface ApiKeyHolder {
  readonly keyId: string;
  readonly scope: ApiKeyScope;
  readonly userId: string;
  readonly email: string;
  readonly name: string;
  readonly twoFactorEnabled: boolean;
  readonly expiresAt: Date | null;
}

/** No such key of this person (the CLI's `keys revoke`; the API answers 404 itself). */
export class ApiKeyNotFound extends ProductError {
  readonly category = 'not_found' as const;
}

/** A person has as many active keys as allowed: a conflict with what exists (409). */
export class ApiKeyLimitReached extends ProductError {
  readonly category = 'conflict' as const;
}

function hashKey(key: string): string {
  return crypto.createHash('sha256').update(key, 'utf8').digest('hex');
}

const summaryColumns = {
  id: apiKeys.id,
  name: apiKeys.name,
  scope: apiKeys.scope,
  prefix: apiKeys.prefix,
  createdAt: apiKeys.createdAt,
  expiresAt: apiKeys.expiresAt,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
};

interface Where {
  readonly now: Date;
  readonly ip: string | null;
  /** Where the change was asked for (the security event's `channel`; default api). */
  readonly channel?: 'api' | 'cli';
}

async function record(
  db: Database,
  event: {
    userId: string;
    type: string;
    severity: 'info' | 'low' | 'medium';
    ip: string | null;
    at: Date;
    channel?: 'api' | 'cli' | undefined;
    details: Record<string, unknown>;
  },
): Promise<void> {
  const [person] = await db.select({ tenantId: users.tenantId }).from(users).where(eq(users.id, event.userId));
  await db.insert(securityEvents).values({
    tenantId: person?.tenantId ?? null,
    userId: event.userId,
    type: event.type,
    severity: event.severity,
    ip: event.ip,
    details: { channel: event.channel ?? 'api', ...event.details },
    occurredAt: event.at,
  });
}

/** A new key for its owner: the key itself is in the answer only (shown once), its hash in the table; recorded as `api_key_created`. */
export async function createApiKey(
  db: Database,
  request: { userId: string; name: string; scope: ApiKeyScope; expiresAt: Date | null } & Where,
): Promise<ApiKeySummary & { key: string }> {
  const [active] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(apiKeys)
    .where(and(eq(apiKeys.userId, request.userId), isNull(apiKeys.revokedAt)));
  if ((active?.count ?? 0) >= MAX_ACTIVE_API_KEYS)
    throw new ApiKeyLimitReached(`You have ${MAX_ACTIVE_API_KEYS} API keys already; revoke one first (DELETE /api/v1/keys/{id}).`);
  const key = `${API_KEY_PREFIX}${crypto.randomBytes(32).toString('base64url')}`;
  const [row] = await db
    .insert(apiKeys)
    .values({
      userId: request.userId,
      name: request.name,
      scope: request.scope,
      prefix: key.slice(0, SHOWN_PREFIX_LENGTH),
      keyHash: hashKey(key),
      createdAt: request.now,
      expiresAt: request.expiresAt,
    })
    .returning(summaryColumns);
  await record(db, {
    userId: request.userId,
    type: 'api_key_created',
    severity: 'low',
    ip: request.ip,
    at: request.now,
    channel: request.channel,
    details: { keyId: row!.id, name: request.name, scope: request.scope, prefix: row!.prefix },
  });
  return { ...row!, key };
}

/** A person's keys, newest first, revoked ones included (with when). */
export async function listApiKeys(db: Database, userId: string): Promise<ApiKeySummary[]> {
  return db.select(summaryColumns).from(apiKeys).where(eq(apiKeys.userId, userId)).orderBy(desc(apiKeys.createdAt));
}

/**
 * Revokes one of the owner's keys (another person's key is `not_found`, as if it did not exist);
 * recorded as `api_key_revoked`. Revoking twice answers `already` and records nothing.
 */
export async function revokeApiKey(
  db: Database,
  request: { userId: string; keyId: string } & Where,
): Promise<{ outcome: 'revoked' | 'already'; key: ApiKeySummary } | { outcome: 'not_found' }> {
  const [revoked] = await db
    .update(apiKeys)
    .set({ revokedAt: request.now })
    .where(and(eq(apiKeys.id, request.keyId), eq(apiKeys.userId, request.userId), isNull(apiKeys.revokedAt)))
    .returning(summaryColumns);
  if (revoked) {
    await record(db, {
      userId: request.userId,
      type: 'api_key_revoked',
      severity: 'low',
      ip: request.ip,
      at: request.now,
      channel: request.channel,
      details: { keyId: revoked.id, name: revoked.name, prefix: revoked.prefix },
    });
    return { outcome: 'revoked', key: revoked };
  }
  const [existing] = await db
    .select(summaryColumns)
    .from(apiKeys)
    .where(and(eq(apiKeys.id, request.keyId), eq(apiKeys.userId, request.userId)));
  return existing ? { outcome: 'already', key: existing } : { outcome: 'not_found' };
}

/**
 * The person a key acts for, or undefined when it is unknown, revoked, expired or its owner is
 * not active. Notes when it was last used; the first use from an address is recorded as
 * `api_key_used` (where the anomaly scan looks for a key used from a new country), not every request.
 */
export async function authenticateApiKey(
  db: Database,
  key: string,
  at: Where & { /** Key and address pairs this process has recorded or found already (saves a query per request). */ seen?: Set<string> },
): Promise<ApiKeyHolder | undefined> {
  if (!key.startsWith(API_KEY_PREFIX) || key.length > 200) return undefined;
  const [found] = await db
    .select({
      keyId: apiKeys.id,
      scope: apiKeys.scope,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
      lastUsedAt: apiKeys.lastUsedAt,
      userId: users.id,
      email: users.email,
      name: users.name,
      status: users.status,
      twoFactorEnabled: users.twoFactorEnabled,
    })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(eq(apiKeys.keyHash, hashKey(key)));
  if (!found || found.revokedAt || found.status !== 'active') return undefined;
  if (found.expiresAt && found.expiresAt.getTime() <= at.now.getTime()) return undefined;
  // To the minute: a busy integration does not write the row on every request.
  if (!found.lastUsedAt || at.now.getTime() - found.lastUsedAt.getTime() >= LAST_USED_PRECISION_MS)
    await db.update(apiKeys).set({ lastUsedAt: at.now }).where(eq(apiKeys.id, found.keyId));
  const pair = `${found.keyId}|${at.ip}`;
  if (at.ip && !at.seen?.has(pair)) {
    const [seen] = await db
      .select({ id: securityEvents.id })
      .from(securityEvents)
      .where(
        and(
          eq(securityEvents.userId, found.userId),
          eq(securityEvents.type, 'api_key_used'),
          eq(securityEvents.ip, at.ip),
          sql`${securityEvents.details} ->> 'keyId' = ${found.keyId}`,
        ),
      )
      .limit(1);
    if (!seen)
      await record(db, {
        userId: found.userId,
        type: 'api_key_used',
        severity: 'info',
        ip: at.ip,
        at: at.now,
        details: { keyId: found.keyId },
      });
    if (at.seen) {
      if (at.seen.size >= SEEN_PAIRS_KEPT) at.seen.clear();
      at.seen.add(pair);
    }
  }
  const { keyId, scope, userId, email, name, twoFactorEnabled, expiresAt } = found;
  return { keyId, scope, userId, email, name, twoFactorEnabled, expiresAt };
}
