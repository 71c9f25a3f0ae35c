import { bigint, boolean, check, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { createdAt, id, instant, updatedAt } from './columns.ts';
import { users } from './tenancy.ts';

// Better-Auth's tables (accounts/, issue 16). Its `user` model IS our `users` table (mapped by
// modelName in accounts/auth.ts; `email_verified` and `image` were added to it for that), so a
// staff member or trader has one row and one id everywhere. These four are Better-Auth's own:
// sessions (the cookie's token), accounts (the email+password credential: Better-Auth's scrypt
// hash lives here, never in `users`), verification tokens and the sign-in rate limiter's counters.

/** A signed-in browser or client: the HTTP-only cookie carries `token` (signed). */
export const authSessions = pgTable(
  'auth_sessions',
  {
    id: id(),
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    token: text().notNull().unique(),
    expiresAt: instant().notNull(),
    ipAddress: text(),
    userAgent: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('auth_sessions_user_idx').on(t.userId)],
);

/** How a user signs in: `providerId = 'credential'` holds the password hash (scrypt, Better-Auth's format). */
export const authAccounts = pgTable(
  'auth_accounts',
  {
    id: id(),
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    accountId: text().notNull(),
    providerId: text().notNull(),
    accessToken: text(),
    refreshToken: text(),
    idToken: text(),
    accessTokenExpiresAt: instant(),
    refreshTokenExpiresAt: instant(),
    scope: text(),
    password: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('auth_accounts_user_idx').on(t.userId)],
);

/** One-time tokens (email verification, password reset) Better-Auth issues. */
export const authVerifications = pgTable(
  'auth_verifications',
  {
    id: id(),
    identifier: text().notNull(),
    value: text().notNull(),
    expiresAt: instant().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('auth_verifications_identifier_idx').on(t.identifier)],
);

/** Better-Auth's rate limiter (storage "database"): one counter per client IP and path, shared by every process. */
export const authRateLimits = pgTable('auth_rate_limits', {
  id: id(),
  key: text().notNull().unique(),
  count: integer().notNull(),
  lastRequest: bigint({ mode: 'number' }).notNull(),
});

/**
 * A person's TOTP second factor (Better-Auth's two-factor plugin): the secret and backup codes,
 * both encrypted with the session secret; `verified` once a first code proved the enrolment.
 */
export const authTwoFactors = pgTable(
  'auth_two_factors',
  {
    id: id(),
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    secret: text().notNull(),
    backupCodes: text().notNull(),
    verified: boolean().notNull().default(true),
    failedVerificationCount: integer().notNull().default(0),
    lockedUntil: instant(),
  },
  (t) => [index('auth_two_factors_user_idx').on(t.userId), index('auth_two_factors_secret_idx').on(t.secret)],
);

export const apiKeyScopes = ['read', 'read_write'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

/**
 * Personal API keys for integrations (accounts/api-keys.ts): only the SHA-256 of the key is kept
 * (the key itself is shown once, at creation); `prefix` is its first characters, to tell keys apart.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: id(),
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text().notNull(),
    scope: text().$type<ApiKeyScope>().notNull(),
    prefix: text().notNull(),
    keyHash: text().notNull().unique(),
    createdAt: createdAt(),
    expiresAt: instant(),
    lastUsedAt: instant(),
    revokedAt: instant(),
  },
  (t) => [index('api_keys_user_idx').on(t.userId), check('api_keys_scope_check', sql`${t.scope} in ('read', 'read_write')`)],
);
