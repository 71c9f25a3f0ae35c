import { and, asc, eq, isNull, ne, sql } from 'drizzle-orm';
import { selectScoped, users, type Database, type TenantScope } from '../db/index.ts';
import type { Locale } from '../i18n/index.ts';

// Who a person is, found by what a request or a finding carries: an email (any case), or the
// tenant (a trader's tenant has one user). For the decisions (workflows), which read no table.

export interface PersonOfEmail {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly locale: Locale;
}

/** The user with this email, compared without case (emails are unique that way). */
export async function userByEmail(db: Database, email: string): Promise<PersonOfEmail | undefined> {
  const [user] = await db
    .select({ id: users.id, tenantId: users.tenantId, email: users.email, locale: users.locale })
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email})`);
  return user;
}

/** The one user of a trader's tenant (traders are 1:1; the oldest, should there be more). */
export async function traderUser(db: Database, scope: TenantScope): Promise<{ userId: string; email: string; locale: Locale } | undefined> {
  const [row] = await selectScoped(db, scope, users, { orderBy: asc(users.createdAt), limit: 1 });
  return row ? { userId: row.id, email: row.email, locale: row.locale } : undefined;
}

/** A person's language setting, as they chose it (Telegram's /language, later the web). Whether it changed. */
export async function setPersonLocale(db: Database, userId: string, locale: Locale, now: Date): Promise<boolean> {
  const [before] = await db.select({ locale: users.locale }).from(users).where(eq(users.id, userId));
  if (!before) return false;
  // Chosen, even when it is the language already in use: no message's words change it from now on.
  await db.update(users).set({ locale, localeChosenAt: now, updatedAt: now }).where(eq(users.id, userId));
  return before.locale !== locale;
}

/**
 * The language a person's message was written in, taken as their setting while they never chose
 * one themselves (`locale_chosen_at` null). Whether it changed.
 */
export async function guessPersonLocale(db: Database, userId: string, locale: Locale, now: Date): Promise<boolean> {
  const changed = await db
    .update(users)
    .set({ locale, updatedAt: now })
    .where(and(eq(users.id, userId), isNull(users.localeChosenAt), ne(users.locale, locale)))
    .returning({ id: users.id });
  return changed.length > 0;
}
