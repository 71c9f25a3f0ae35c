import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database } from './client.ts';
import { staff, tenants, users, type Department, type StaffRole } from './schema/index.ts';

export interface StaffMember {
  readonly staffId: string;
  readonly userId: string;
  /** The company's tenant (staff belong to it). */
  readonly tenantId: string;
  readonly name: string;
  readonly email: string;
  readonly department: Department;
  readonly role: StaffRole;
  readonly title: string | null;
}

const departmentOrder = sql`array_position(array['ceo','finance','marketing','sales','security','support','audit','documents','settings','subscriptions']::department[], ${staff.department})`;
const roleOrder = sql`array_position(array['ceo','admin','head','member']::staff_role[], ${staff.role})`;

/** Everyone on staff, CEO first, then by department, role and name. */
export async function listStaff(db: Database): Promise<StaffMember[]> {
  return db
    .select({
      staffId: staff.id,
      userId: users.id,
      tenantId: staff.tenantId,
      name: users.name,
      email: users.email,
      department: staff.department,
      role: staff.role,
      title: staff.title,
    })
    .from(staff)
    .innerJoin(users, eq(users.id, staff.userId))
    .orderBy(departmentOrder, roleOrder, asc(users.name));
}

/** The company's own tenant (the oldest of kind `company`; staff, settings and company notices belong to it), if one is seeded. */
export async function companyTenantId(db: Database): Promise<string | undefined> {
  const [company] = await db
    .select({ id: tenants.id })
    .from(tenants)
    .where(eq(tenants.kind, 'company'))
    .orderBy(asc(tenants.createdAt))
    .limit(1);
  return company?.id;
}

/** The CEO of the company's tenant (reports and incident alerts go to them), if one is on staff. */
export async function companyCeo(
  db: Database,
  companyTenant: string,
): Promise<{ userId: string; email: string; name: string; locale: 'pt-BR' | 'en' } | undefined> {
  const [ceo] = await db
    .select({ userId: users.id, email: users.email, name: users.name, locale: users.locale })
    .from(staff)
    .innerJoin(users, eq(users.id, staff.userId))
    .where(and(eq(staff.role, 'ceo'), eq(users.tenantId, companyTenant)))
    .limit(1);
  return ceo;
}
