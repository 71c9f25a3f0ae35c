import { index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { createdAt } from './columns.ts';

/**
 * The API's `Idempotency-Key` (issue 16): one row per (person, key) for 24 hours, holding the
 * request's digest and, once answered, the response, so a repeat gets the first answer and the
 * same key with another request is refused. `status_code` null: the first request is running.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    /** The signed-in person's user id (a key is the person's, whichever session or API key sent it). */
    principal: text().notNull(),
    key: text().notNull(),
    /** SHA-256 of method, path and body. */
    requestHash: text().notNull(),
    statusCode: integer(),
    responseBody: text(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.principal, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);
