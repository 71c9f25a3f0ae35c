import type { Department, StaffRole } from '../db/index.ts';
import { CATALOGUE } from './catalogue/index.ts';
import type { Actor, ToolAccess } from './types.ts';

/**
 * Which departments may call which tools, by tool name: each tool's own `access`, declared
 * beside it in the catalogue. The CEO (and admins) may call everything, a trader only the
 * tools open to traders (and only on their own data, see the scope in each tool). Roles
 * refine it: `approval` tools can be requested by members, decided only by heads and the CEO.
 */
export const TOOL_POLICY: Readonly<Record<string, ToolAccess>> = Object.fromEntries(CATALOGUE.map((tool) => [tool.name, tool.access]));

export type PolicyDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** Whether `actor` may call the tool named `tool` (a name that is no tool: never). */
export function mayCall(actor: Actor, tool: string): PolicyDecision {
  const rule = TOOL_POLICY[tool];
  if (!rule) return { allowed: false, reason: `no policy allows ${tool}` };
  if (actor.kind === 'system') return { allowed: true };
  if (actor.kind === 'trader') {
    return rule.traders ? { allowed: true } : { allowed: false, reason: `${tool} is not available to traders` };
  }
  if (actor.department === 'ceo' || actor.role === 'ceo' || actor.role === 'admin') return { allowed: true };
  if (rule.departments.includes(actor.department)) return { allowed: true };
  return { allowed: false, reason: `the ${actor.department} department may not use ${tool}` };
}

/** Who may decide a pending approval of `department`: its head, the CEO, an admin. */
export function mayDecide(actor: Actor, department: Department): boolean {
  if (actor.kind !== 'staff') return false;
  const roles: readonly StaffRole[] = ['ceo', 'admin'];
  return roles.includes(actor.role) || (actor.role === 'head' && actor.department === department);
}
