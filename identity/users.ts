import { asc, eq, sql } from 'drizzle-orm';
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
  if (before.locale === locale) return false;
  await db.update(users).set({ locale, updatedAt: now }).where(eq(users.id, userId));
  return true;
}
