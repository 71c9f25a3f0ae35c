import crypto from 'node:crypto';
import { and, eq, gt, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import { appendAudit } from '../audit/index.ts';
import { staff, telegramGroups, telegramLinkCodes, telegramLinks, tenants, users, type Database, type Department } from '../db/index.ts';
import type { Locale } from '../i18n/index.ts';
import type { Actor } from './actor.ts';
import { ProductError } from '../errors/index.ts';

// Who is on the other side of a Telegram chat. Nobody is served until linked: a one-time code,
// issued to a staff member or a trader, is sent as `/start CODE` in a private chat. Only the
// code's SHA-256 is stored; a code works once, before its expiry, and a newer code replaces
// older ones. Domain logic (tables, audit): the Telegram door calls these functions and reads
// no table itself.

/** Crockford's base32: no I, L, O or U, so a code read aloud or retyped survives. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 12 characters × 5 bits = 60 bits: out of reach of guessing, short enough to type. */
export const LINK_CODE_LENGTH = 12;
export const DEFAULT_LINK_CODE_TTL_HOURS = 24;

/** A linked person: who they are for the tool layer, and where to reach them. */
export interface LinkedPerson {
  readonly actor: Extract<Actor, { kind: 'staff' | 'trader' }>;
  readonly userId: string;
  readonly email: string;
  readonly locale: Locale;
  /** Whether the person chose their language themselves; until then a message's language may be the first guess. */
  readonly localeChosen: boolean;
  readonly chatId: number;
  readonly telegramUserId: number;
}

/** The request names no one who can link (an unknown or disabled email, the wrong kind of person, a bad lifetime): a usage error. */
export class TelegramIdentityError extends ProductError {
  readonly category = 'usage' as const;
  constructor(message: string) {
    super(message);
    this.name = 'TelegramIdentityError';
  }
}

export function normalizeLinkCode(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase();
}

export function hashLinkCode(code: string): string {
  return crypto.createHash('sha256').update(normalizeLinkCode(code)).digest('hex');
}

function newCode(): string {
  const bytes = crypto.randomBytes(LINK_CODE_LENGTH);
  let code = '';
  for (const byte of bytes) code += ALPHABET[byte & 31];
  return code;
}

export interface IssuedLinkCode {
  /** Shown once, never stored. */
  readonly code: string;
  readonly expiresAt: Date;
  readonly userId: string;
  readonly name: string;
  readonly kind: 'staff' | 'trader';
}

/**
 * A one-time code for `/start CODE`, for the user with this email (a staff member when `kind`
 * is 'staff', a trader when 'trader'). Earlier unused codes of the same person stop working.
 */
export async function issueLinkCode(
  db: Database,
  options: { email: string; kind: 'staff' | 'trader'; ttlHours?: number; now?: Date },
): Promise<IssuedLinkCode> {
  const ttlHours = options.ttlHours ?? DEFAULT_LINK_CODE_TTL_HOURS;
  if (!Number.isFinite(ttlHours) || ttlHours <= 0 || ttlHours > 24 * 30)
    throw new TelegramIdentityError(`--ttl-hours must be between 1 and 720, got ${ttlHours}.`);
  const now = options.now ?? new Date();
  const [user] = await db
    .select({ id: users.id, name: users.name, status: users.status, tenantKind: tenants.kind, staffId: staff.id })
    .from(users)
    .innerJoin(tenants, eq(tenants.id, users.tenantId))
    .leftJoin(staff, eq(staff.userId, users.id))
    .where(sql`lower(${users.email}) = lower(${options.email})`);
  if (!user) throw new TelegramIdentityError(`No user with the email ${options.email}.`);
  if (user.status !== 'active') throw new TelegramIdentityError(`${options.email} is disabled.`);
  if (options.kind === 'staff' && !user.staffId)
    throw new TelegramIdentityError(
      `${options.email} is not a staff member (for a trader use: botcriptofy telegram link-code --email ${options.email}).`,
    );
  if (options.kind === 'trader' && user.tenantKind !== 'trader')
    throw new TelegramIdentityError(`${options.email} is not a trader (for staff use: botcriptofy staff invite --email ${options.email}).`);
  const code = newCode();
  const expiresAt = new Date(now.getTime() + ttlHours * 3_600_000);
  await db.transaction(async (tx) => {
    await tx
      .update(telegramLinkCodes)
      .set({ usedAt: now })
      .where(and(eq(telegramLinkCodes.userId, user.id), isNull(telegramLinkCodes.usedAt)));
    await tx.insert(telegramLinkCodes).values({ userId: user.id, codeHash: hashLinkCode(code), expiresAt });
  });
  await appendAudit(db, {
    actorKind: 'system',
    actorId: 'cli',
    action: 'telegram.link_code_issued',
    outcome: 'ok',
    details: { userId: user.id, expiresAt: expiresAt.toISOString() },
  });
  return { code, expiresAt, userId: user.id, name: user.name, kind: user.staffId ? 'staff' : 'trader' };
}

export type RedeemResult =
  | { readonly ok: true; readonly person: LinkedPerson }
  | { readonly ok: false; readonly reason: 'invalid' | 'expired' | 'used' | 'inactive' };

/**
 * Links the Telegram account that sent `/start CODE` to the code's user. The code is claimed by
 * one conditional update, so two chats racing with the same code link at most one. A person
 * keeps one live link, and a Telegram account links one person: older links are closed.
 */
/**
 * Whose a code is, without using it: the person (id and name) of a code still valid now, else
 * undefined. The door asks a linked person to confirm before a code switches them to someone else.
 */
export async function linkCodeOwner(
  db: Database,
  code: string,
  now: Date = new Date(),
): Promise<{ userId: string; name: string } | undefined> {
  const [row] = await db
    .select({ userId: telegramLinkCodes.userId, name: users.name })
    .from(telegramLinkCodes)
    .innerJoin(users, eq(users.id, telegramLinkCodes.userId))
    .where(and(eq(telegramLinkCodes.codeHash, hashLinkCode(code)), isNull(telegramLinkCodes.usedAt), gt(telegramLinkCodes.expiresAt, now)));
  return row;
}

export async function redeemLinkCode(
  db: Database,
  code: string,
  telegram: { userId: number; chatId: number; username?: string | undefined },
  now: Date = new Date(),
): Promise<RedeemResult> {
  const hash = hashLinkCode(code);
  const outcome = await db.transaction(
    async (tx): Promise<{ userId: string } | { reason: 'invalid' | 'expired' | 'used' | 'inactive' }> => {
      const [claimed] = await tx
        .update(telegramLinkCodes)
        .set({ usedAt: now })
        .where(and(eq(telegramLinkCodes.codeHash, hash), isNull(telegramLinkCodes.usedAt), gt(telegramLinkCodes.expiresAt, now)))
        .returning({ userId: telegramLinkCodes.userId });
      if (!claimed) {
        const [row] = await tx
          .select({ usedAt: telegramLinkCodes.usedAt })
          .from(telegramLinkCodes)
          .where(eq(telegramLinkCodes.codeHash, hash));
        return { reason: !row ? 'invalid' : row.usedAt ? 'used' : 'expired' };
      }
      const [user] = await tx.select({ status: users.status }).from(users).where(eq(users.id, claimed.userId));
      if (user?.status !== 'active') return { reason: 'inactive' };
      await tx
        .update(telegramLinks)
        .set({ unlinkedAt: now })
        .where(
          and(
            isNull(telegramLinks.unlinkedAt),
            or(eq(telegramLinks.userId, claimed.userId), eq(telegramLinks.telegramUserId, BigInt(telegram.userId))),
          ),
        );
      await tx.insert(telegramLinks).values({
        userId: claimed.userId,
        telegramUserId: BigInt(telegram.userId),
        chatId: BigInt(telegram.chatId),
        username: telegram.username ?? null,
        linkedAt: now,
      });
      return { userId: claimed.userId };
    },
  );
  if ('reason' in outcome) {
    await appendAudit(db, {
      actorKind: 'system',
      actorId: `telegram:${telegram.userId}`,
      action: 'telegram.link',
      outcome: 'denied',
      details: { reason: outcome.reason },
    });
    return { ok: false, reason: outcome.reason };
  }
  const person = await linkedPerson(db, telegram.userId);
  if (!person) return { ok: false, reason: 'inactive' };
  await appendAudit(db, {
    tenantId: person.actor.tenantId,
    actorKind: person.actor.kind,
    actorId: person.userId,
    action: 'telegram.link',
    outcome: 'ok',
    details: { telegramUserId: telegram.userId },
  });
  return { ok: true, person };
}

/** Closes the live link of a Telegram account or of a user; returns how many were closed. */
export async function unlinkTelegram(
  db: Database,
  who: { telegramUserId: number } | { userId: string } | { email: string },
  now: Date = new Date(),
): Promise<number> {
  let condition: SQL;
  if ('telegramUserId' in who) condition = eq(telegramLinks.telegramUserId, BigInt(who.telegramUserId));
  else if ('userId' in who) condition = eq(telegramLinks.userId, who.userId);
  else {
    const [user] = await db.select({ id: users.id }).from(users).where(sql`lower(${users.email}) = lower(${who.email})`);
    if (!user) throw new TelegramIdentityError(`No user with the email ${who.email}.`);
    condition = eq(telegramLinks.userId, user.id);
  }
  const closed = await db
    .update(telegramLinks)
    .set({ unlinkedAt: now })
    .where(and(isNull(telegramLinks.unlinkedAt), condition))
    .returning({ userId: telegramLinks.userId });
  for (const row of closed)
    await appendAudit(db, {
      actorKind: 'system',
      actorId: 'telegram',
      action: 'telegram.unlink',
      outcome: 'ok',
      details: { userId: row.userId },
    });
  return closed.length;
}

const personColumns = {
  userId: users.id,
  email: users.email,
  name: users.name,
  locale: users.locale,
  localeChosenAt: users.localeChosenAt,
  status: users.status,
  tenantId: users.tenantId,
  tenantKind: tenants.kind,
  staffId: staff.id,
  department: staff.department,
  role: staff.role,
  chatId: telegramLinks.chatId,
  telegramUserId: telegramLinks.telegramUserId,
};

type PersonRow = Awaited<ReturnType<typeof peopleQuery>>[number];

function toPerson(row: PersonRow): LinkedPerson | undefined {
  if (row.status !== 'active') return undefined;
  const base = {
    userId: row.userId,
    email: row.email,
    locale: row.locale,
    localeChosen: row.localeChosenAt !== null,
    chatId: Number(row.chatId),
    telegramUserId: Number(row.telegramUserId),
  };
  const actor = actorOfPerson(row);
  return actor ? { ...base, actor } : undefined;
}

/**
 * Who a user is to the tool layer: a staff member (with a department and role), a trader, or
 * no one (a user of the company tenant without a staff row).
 */
export function actorOfPerson(row: {
  readonly userId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly tenantKind: string;
  readonly staffId: string | null;
  readonly department: Department | null;
  readonly role: Extract<Actor, { kind: 'staff' }>['role'] | null;
}): Extract<Actor, { kind: 'staff' | 'trader' }> | undefined {
  if (row.staffId && row.department && row.role) {
    return {
      kind: 'staff',
      userId: row.userId,
      staffId: row.staffId,
      tenantId: row.tenantId,
      department: row.department,
      role: row.role,
      name: row.name,
    };
  }
  if (row.tenantKind === 'trader') return { kind: 'trader', userId: row.userId, tenantId: row.tenantId, name: row.name };
  return undefined;
}

function peopleQuery(db: Database) {
  return db
    .select(personColumns)
    .from(telegramLinks)
    .innerJoin(users, eq(users.id, telegramLinks.userId))
    .innerJoin(tenants, eq(tenants.id, users.tenantId))
    .leftJoin(staff, eq(staff.userId, users.id));
}

/** The person a Telegram account is linked to, if any (and still active). */
export async function linkedPerson(db: Database, telegramUserId: number): Promise<LinkedPerson | undefined> {
  const [row] = await peopleQuery(db).where(
    and(eq(telegramLinks.telegramUserId, BigInt(telegramUserId)), isNull(telegramLinks.unlinkedAt)),
  );
  return row ? toPerson(row) : undefined;
}

/** Linked people by user id (for telling a requester, or editing everyone's copy). */
export async function linkedUsers(db: Database, userIds: readonly string[]): Promise<LinkedPerson[]> {
  if (userIds.length === 0) return [];
  const rows = await peopleQuery(db).where(and(inArray(telegramLinks.userId, [...userIds]), isNull(telegramLinks.unlinkedAt)));
  return rows.map((row) => toPerson(row)).filter((p): p is LinkedPerson => p !== undefined);
}

/** Linked staff who may decide an approval of `department`: its head, the CEO, admins. */
export async function linkedDeciders(db: Database, department: Department): Promise<LinkedPerson[]> {
  const rows = await peopleQuery(db).where(
    and(
      isNull(telegramLinks.unlinkedAt),
      or(inArray(staff.role, ['ceo', 'admin']), and(eq(staff.role, 'head'), eq(staff.department, department))),
    ),
  );
  return rows.map((row) => toPerson(row)).filter((p): p is LinkedPerson => p !== undefined);
}

/** The chat each person linked and has not unlinked, by user id (where the outbox sends their notices). */
export async function linkedChats(db: Database, userIds: readonly string[]): Promise<Map<string, bigint>> {
  if (userIds.length === 0) return new Map();
  const links = await db
    .select({ userId: telegramLinks.userId, chatId: telegramLinks.chatId })
    .from(telegramLinks)
    .where(and(inArray(telegramLinks.userId, [...userIds]), isNull(telegramLinks.unlinkedAt)));
  return new Map(links.map((link) => [link.userId, link.chatId]));
}

/** Display names of users by id (a requester, a decider); unknown ids are left out. */
export async function userNames(db: Database, userIds: readonly string[]): Promise<Map<string, string>> {
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return new Map();
  const rows = await db.select({ id: users.id, name: users.name }).from(users).where(inArray(users.id, ids));
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** Registers (or re-activates) a group chat for a department; other groups are ignored. */
export async function registerGroup(db: Database, chatId: number, department: Department, title?: string): Promise<void> {
  await db
    .insert(telegramGroups)
    .values({ chatId: BigInt(chatId), department, title: title ?? null, active: true })
    .onConflictDoUpdate({ target: telegramGroups.chatId, set: { department, active: true, ...(title ? { title } : {}) } });
  await appendAudit(db, {
    actorKind: 'system',
    actorId: 'cli',
    action: 'telegram.register_group',
    outcome: 'ok',
    details: { chatId, department },
  });
}

/** True when the group was registered (and now is not); a second call changes nothing and says so. */
export async function unregisterGroup(db: Database, chatId: number): Promise<boolean> {
  const rows = await db
    .update(telegramGroups)
    .set({ active: false })
    .where(and(eq(telegramGroups.chatId, BigInt(chatId)), eq(telegramGroups.active, true)))
    .returning({ chatId: telegramGroups.chatId, department: telegramGroups.department });
  if (rows.length === 0) return false;
  await appendAudit(db, {
    actorKind: 'system',
    actorId: 'cli',
    action: 'telegram.unregister_group',
    outcome: 'ok',
    details: { chatId, department: rows[0]!.department },
  });
  return true;
}

/** The department a group chat is registered for, when it is registered and active. */
export async function groupDepartment(db: Database, chatId: number): Promise<Department | undefined> {
  const [row] = await db
    .select({ department: telegramGroups.department })
    .from(telegramGroups)
    .where(and(eq(telegramGroups.chatId, BigInt(chatId)), eq(telegramGroups.active, true)));
  return row?.department;
}
