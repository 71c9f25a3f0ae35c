import type { Department, StaffRole } from '../db/index.ts';

/**
 * Who is asking: a staff member, a trader, or the system itself (a schedule, a workflow
 * step). Authority is decided from this, never from what a prompt says; the tool layer checks
 * every call against it.
 */
export type Actor =
  | {
      readonly kind: 'staff';
      readonly userId: string;
      readonly staffId: string;
      readonly tenantId: string;
      readonly department: Department;
      readonly role: StaffRole;
      readonly name: string;
    }
  | { readonly kind: 'trader'; readonly userId: string; readonly tenantId: string; readonly name: string }
  | { readonly kind: 'system'; readonly name: string };
