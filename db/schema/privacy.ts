import { boolean, index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { id, instant } from './columns.ts';
import { users } from './tenancy.ts';

export const consentKinds = ['terms', 'marketing'] as const;
export type ConsentKind = (typeof consentKinds)[number];

/**
 * A person's consents (LGPD), one row per decision: the terms accepted in a version, marketing
 * messages allowed or withdrawn. The newest row of a kind is the person's current answer.
 */
export const consents = pgTable(
  'consents',
  {
    id: id(),
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text().$type<ConsentKind>().notNull(),
    /** The version of the text agreed to (terms v3, the marketing notice of 2026-01). */
    version: text().notNull(),
    granted: boolean().notNull(),
    /** Where it was given: cli, api, telegram, demo. */
    source: text().notNull(),
    recordedAt: instant().notNull(),
  },
  (t) => [index('consents_user_kind_idx').on(t.userId, t.kind, t.recordedAt)],
);
