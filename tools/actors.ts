import { eq, sql } from 'drizzle-orm';
import { listStaff, staff, tenants, users, type Database, type Department, type StaffMember } from '../db/index.ts';
import { actorOfPerson } from '../identity/index.ts';
import type { Actor } from './types.ts';

/** The actor behind an email: a staff member, or a trader. */
export async function actorForEmail(db: Database, email: string): Promise<Actor | undefined> {
  const [row] = await db
    .select({
      userId: users.id,
      tenantId: users.tenantId,
      name: users.name,
      tenantKind: tenants.kind,
      staffId: staff.id,
      department: staff.department,
      role: staff.role,
    })
    .from(users)
    .innerJoin(tenants, eq(tenants.id, users.tenantId))
    .leftJoin(staff, eq(staff.userId, users.id))
    .where(sql`lower(${users.email}) = lower(${email})`);
  return row ? actorOfPerson(row) : undefined;
}

/** A staff member as the actor of a tool call. */
export function staffActor(member: StaffMember): Extract<Actor, { kind: 'staff' }> {
  return {
    kind: 'staff',
    userId: member.userId,
    staffId: member.staffId,
    tenantId: member.tenantId,
    department: member.department,
    role: member.role,
    name: member.name,
  };
}

/** Each department's head (the CEO for `ceo`): who asks in evaluations and benchmarks. */
export async function departmentHeads(db: Database): Promise<Map<Department, Actor>> {
  const heads = new Map<Department, Actor>();
  for (const member of await listStaff(db))
    if (member.role === 'head' || member.role === 'ceo') heads.set(member.department, staffActor(member));
  return heads;
}

/** The CEO (the default person for CLI commands that act as someone). */
export async function ceoEmail(db: Database): Promise<string | undefined> {
  const [row] = await db
    .select({ email: users.email })
    .from(staff)
    .innerJoin(users, eq(users.id, staff.userId))
    .where(eq(staff.role, 'ceo'))
    .limit(1);
  return row?.email;
}
