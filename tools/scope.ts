import { eq, sql } from 'drizzle-orm';
import { tenantScope, users, type TenantScope } from '../db/index.ts';
import type { ToolContext } from './types.ts';
import { ProductError } from '../errors/index.ts';

/** A refusal the tool layer reports as such (not as a failure of the tool). */
export class ToolRefusal extends ProductError {
  /** forbidden: not this person's; not_found: no such thing; unavailable: not in this deployment (e.g. no Stripe key). */
  readonly code: 'forbidden' | 'not_found' | 'unavailable';
  /** The code is the category: a door answers a refusal as it answers any error of that kind. */
  readonly category: 'forbidden' | 'not_found' | 'unavailable';
  /** The reason as the audit log keeps it, when the message names what the log must not keep (an email that names no one). */
  readonly auditReason: string | undefined;
  constructor(code: 'forbidden' | 'not_found' | 'unavailable', message: string, options: { auditReason?: string } = {}) {
    super(message);
    this.name = 'ToolRefusal';
    this.code = code;
    this.category = code;
    this.auditReason = options.auditReason;
  }
}

/**
 * The tenant a tool acts on. A trader always gets their own, and asking for anyone else's
 * (by email) is refused; staff name the trader by email.
 */
export async function traderScope(ctx: ToolContext, email: string | undefined): Promise<TenantScope> {
  if (ctx.actor.kind === 'trader') {
    if (email) {
      const [own] = await ctx.db.select({ email: users.email }).from(users).where(eq(users.id, ctx.actor.userId));
      if (own?.email.toLowerCase() !== email.toLowerCase()) throw new ToolRefusal('forbidden', 'A trader can only see their own account.');
    }
    return tenantScope(ctx.actor.tenantId);
  }
  if (!email) throw new ToolRefusal('not_found', 'Say which trader (their email).');
  const [user] = await ctx.db.select({ tenantId: users.tenantId }).from(users).where(sql`lower(${users.email}) = lower(${email})`);
  if (!user) throw new ToolRefusal('not_found', `No trader with the email ${email}.`);
  return tenantScope(user.tenantId);
}
