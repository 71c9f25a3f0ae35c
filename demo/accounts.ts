import { and, asc, eq, sql } from 'drizzle-orm';
import { authAccounts, staff, tenants, users, type Database } from '../db/index.ts';

// Who can sign in to the demo company's HTTP API, and with what (issue 16). The passwords are
// fixed and printed by `seed --demo`: this is a demonstration company on a developer's machine,
// never real accounts. Only these people get a password; the generated rows (and their pinned
// digest in test/demo/determinism.test.ts) are unchanged, since the hashes live in Better-Auth's
// own auth_accounts table, written after the company by `setDemoPasswords`.

export const DEMO_STAFF_PASSWORD = 'demo-ceo-2026';
export const DEMO_TRADER_PASSWORD = 'demo-trader-2026';
/** Each department head's: they decide their department's approvals (a refund: the finance head). */
export const DEMO_HEAD_PASSWORD = 'demo-head-2026';
// Their Better-Auth scrypt hashes (salt:key), made once with better-auth/crypto's hashPassword:
// hashing costs about 200 ms of pure JavaScript each, which every seeded test database would pay,
// and a fixed hash keeps the seed deterministic. test/server/api-auth.test.ts verifies them.
export const DEMO_PASSWORD_HASHES: Readonly<Record<string, string>> = {
  [DEMO_STAFF_PASSWORD]:
    '164cfeb96a9519e532f3b7ef80ac8800:471dff0fa0e8b31ec61e27e26a0fdfff7d65a95eb305b2d8e3329cb44c8e0d98b80b998d5c3ad82b0a795b3f8bcf9d8b377a7d2fe7e4f48d5d0562623fc40391',
  [DEMO_TRADER_PASSWORD]:
    '010a2494050b47035a3c7dda3d48d8fe:811eb8519583ac23d07474a8e891dbfc05aa7284d62aadcdc513ca112a0a96021a887f0d8445e627765b9698b3fb708aac2d47af59ac95b986e53c5fd3cb9bfc',
  [DEMO_HEAD_PASSWORD]:
    '7b12a84f7860cb52d2d6d288c774c742:67067e645b2704a19ae21a3205b4038e9e9d445158d38eac0c6589e74d2beb0602f4cfa8ec9efe7bfe7dc2bd5287b4e432e5203b8ee0397f1d6b2dc1a176b1b5',
};
/** How many traders (those owning a bot, by email) get the demo password. */
export const DEMO_TRADERS_WITH_PASSWORD = 3;

export interface DemoSignIn {
  readonly email: string;
  readonly name: string;
  readonly who: 'ceo' | 'trader';
  readonly password: string;
}

/** The demo's sign-ins: the CEO, the first traders who own a bot (by email) and one with an open paper position, with their passwords. */
export async function demoSignIns(db: Database): Promise<DemoSignIn[]> {
  const ceo = await db
    .select({ email: users.email, name: users.name })
    .from(staff)
    .innerJoin(users, eq(users.id, staff.userId))
    .where(eq(staff.role, 'ceo'))
    .orderBy(asc(users.email))
    .limit(1);
  const traders = await db
    .select({ email: users.email, name: users.name })
    .from(users)
    .innerJoin(tenants, eq(tenants.id, users.tenantId))
    .where(and(eq(tenants.kind, 'trader'), sql`exists (select 1 from bots b where b.tenant_id = ${users.tenantId})`))
    .orderBy(asc(users.email))
    .limit(DEMO_TRADERS_WITH_PASSWORD);
  // And the first trader (by email) with an open position on a paper bot, as seeded, last: so a
  // newcomer (and the dashboard's browser test) can force-exit one. Already among the first
  // ones, they move to the end; so the list is three or four traders.
  const withPosition =
    traders.length === 0
      ? []
      : await db
          .select({ email: users.email, name: users.name })
          .from(users)
          .innerJoin(tenants, eq(tenants.id, users.tenantId))
          .where(
            and(
              eq(tenants.kind, 'trader'),
              sql`exists (select 1 from positions p join bots b on b.id = p.bot_id where b.tenant_id = ${users.tenantId} and b.mode = 'paper')`,
            ),
          )
          .orderBy(asc(users.email))
          .limit(1);
  const all = [...traders.filter((t) => !withPosition.some((p) => p.email === t.email)), ...withPosition];
  return [
    ...ceo.map((p) => ({ ...p, who: 'ceo' as const, password: DEMO_STAFF_PASSWORD })),
    ...all.map((p) => ({ ...p, who: 'trader' as const, password: DEMO_TRADER_PASSWORD })),
  ];
}

export interface DemoHeadSignIn {
  readonly email: string;
  readonly name: string;
  readonly department: string;
  readonly password: string;
}

/**
 * The department heads' sign-ins (one head a department, by department), apart from
 * demoSignIns' list so its order (the CEO, then traders) stays what its readers expect: with
 * them a newcomer decides a department's approvals as its head (a refund as the finance head).
 */
export async function demoHeadSignIns(db: Database): Promise<DemoHeadSignIn[]> {
  const heads = await db
    .select({ email: users.email, name: users.name, department: staff.department })
    .from(staff)
    .innerJoin(users, eq(users.id, staff.userId))
    .where(eq(staff.role, 'head'))
    .orderBy(asc(staff.department), asc(users.email));
  return heads
    .filter((head, i) => heads.findIndex((h) => h.department === head.department) === i)
    .map((head) => ({ ...head, password: DEMO_HEAD_PASSWORD }));
}

/** Gives the demo's sign-ins their passwords (in the seed's transaction). */
export async function setDemoPasswords(db: Database): Promise<DemoSignIn[]> {
  const people = await demoSignIns(db);
  for (const person of [...people, ...(await demoHeadSignIns(db))]) {
    const [row] = await db.select({ id: users.id }).from(users).where(sql`lower(${users.email}) = lower(${person.email})`);
    const hash = DEMO_PASSWORD_HASHES[person.password];
    if (row && hash) await setPasswordHash(db, row.id, hash);
  }
  return people;
}

/** A credential row as Better-Auth's email+password sign-in reads it (accounts/ setPassword's twin, with a ready hash). */
async function setPasswordHash(db: Database, userId: string, hash: string): Promise<void> {
  await db.delete(authAccounts).where(and(eq(authAccounts.userId, userId), eq(authAccounts.providerId, 'credential')));
  await db.insert(authAccounts).values({ userId, accountId: userId, providerId: 'credential', password: hash });
}
