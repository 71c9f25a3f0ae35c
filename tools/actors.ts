import { eq, sql } from 'drizzle-orm';
import { listStaff, staff, tenants, users, type Database, type Department, type StaffMember } from '../db/index.ts';
import { UsageError } from '../errors/index.ts';
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

/**
 * The CEO (the default person for CLI commands that act as someone). An erased (or disabled)
 * CEO is nobody's default: commands acting as them would act silently as an erased person, so
 * this refuses with what to do instead.
 */
export async function ceoEmail(db: Database): Promise<string | undefined> {
  const [row] = await db
    .select({ email: users.email, status: users.status })
    .from(staff)
    .innerJoin(users, eq(users.id, staff.userId))
    .where(eq(staff.role, 'ceo'))
    .orderBy(sql`${users.status} = 'active' desc`)
    .limit(1);
  if (row && row.status !== 'active')
    throw new UsageError(
      `The CEO's account (${row.email}) is disabled or erased, so it cannot be the default person: pass --as EMAIL of an active staff member.`,
    );
  return row?.email;
}
