import { sql } from 'drizzle-orm';
import { bigint, boolean, index, pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { locales, type Locale } from '../../i18n/index.ts';
import { createdAt, id, instant, updatedAt } from './columns.ts';

export const tenantKinds = ['company', 'trader', 'influencer'] as const;
export const tenantKind = pgEnum('tenant_kind', tenantKinds);

/** The ten departments; `ceo` is the CEO's own. */
export const departments = [
  'ceo',
  'finance',
  'marketing',
  'sales',
  'security',
  'support',
  'audit',
  'documents',
  'settings',
  'subscriptions',
] as const;
export type Department = (typeof departments)[number];
export const department = pgEnum('department', departments);

export const staffRoles = ['member', 'head', 'ceo', 'admin'] as const;
export type StaffRole = (typeof staffRoles)[number];
export const staffRole = pgEnum('staff_role', staffRoles);

// The languages are i18n's; the column type and the enum live here.
export { locales, type Locale };
export const locale = pgEnum('locale', locales);

/**
 * Hybrid tenancy: one `company` tenant holds every staff member; each trader and each
 * influencer is a tenant of their own, fully isolated from the others.
 */
export const tenants = pgTable(
  'tenants',
  {
    id: id(),
    kind: tenantKind().notNull(),
    name: text().notNull(),
    locale: locale().notNull().default('pt-BR'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('tenants_kind_idx').on(t.kind, t.createdAt)],
);

/** The owning tenant; rows go when the tenant is erased (LGPD). */
export const tenantRef = () =>
  uuid()
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });

export const userStatuses = ['active', 'disabled'] as const;
export const userStatus = pgEnum('user_status', userStatuses);

export const users = pgTable(
  'users',
  {
    id: id(),
    tenantId: uuid()
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    email: text().notNull(),
    name: text().notNull(),
    locale: locale().notNull().default('pt-BR'),
    /** When the person chose their language themselves (Telegram's /language, later the web); null: never — a message's language is then the first guess. */
    localeChosenAt: instant(),
    status: userStatus().notNull().default('active'),
    /** Better-Auth's user fields (this table is its `user` model, accounts/auth.ts). */
    emailVerified: boolean().notNull().default(false),
    image: text(),
    /** Better-Auth's two-factor plugin: true once a TOTP enrolment was verified (auth_two_factors). */
    twoFactorEnabled: boolean().notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('users_email_unique').on(sql`lower(${t.email})`), index('users_tenant_idx').on(t.tenantId)],
);

/** A user of the company tenant working in one department with one role. */
export const staff = pgTable(
  'staff',
  {
    id: id(),
    userId: uuid()
      .notNull()
      .unique()
      .references(() => users.id, { onDelete: 'cascade' }),
    tenantId: uuid()
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    department: department().notNull(),
    role: staffRole().notNull().default('member'),
    title: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('staff_department_idx').on(t.department, t.role)],
);

/** A Telegram account linked to a user; unlinking keeps the row with `unlinkedAt` set. */
export const telegramLinks = pgTable(
  'telegram_links',
  {
    id: id(),
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    telegramUserId: bigint({ mode: 'bigint' }).notNull(),
    chatId: bigint({ mode: 'bigint' }).notNull(),
    username: text(),
    linkedAt: createdAt(),
    unlinkedAt: instant(),
  },
  (t) => [
    // At most one live link per Telegram account and per user.
    uniqueIndex('telegram_links_active_telegram_user').on(t.telegramUserId).where(sql`${t.unlinkedAt} is null`),
    uniqueIndex('telegram_links_active_user').on(t.userId).where(sql`${t.unlinkedAt} is null`),
  ],
);

/** One-time codes for `/start CODE`; only the SHA-256 of the code is kept. */
export const telegramLinkCodes = pgTable(
  'telegram_link_codes',
  {
    id: id(),
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text().notNull().unique(),
    expiresAt: instant().notNull(),
    usedAt: instant(),
    createdAt: createdAt(),
  },
  (t) => [index('telegram_link_codes_user_idx').on(t.userId)],
);

/** Group chats registered for a department; all other groups are ignored. */
export const telegramGroups = pgTable('telegram_groups', {
  chatId: bigint({ mode: 'bigint' }).primaryKey(),
  department: department().notNull(),
  title: text(),
  active: boolean().notNull().default(true),
  createdAt: createdAt(),
});
