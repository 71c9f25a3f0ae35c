import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Database } from '../db/index.ts';
import { ProductError } from '../errors/index.ts';

/** No person with that email: nothing to export or erase. */
export class PersonNotFoundError extends ProductError {
  readonly category = 'not_found' as const;
  constructor(email: string) {
    super(`No person with the email ${email}: no account, customer or lead holds it.`);
    this.name = 'PersonNotFoundError';
  }
}

/** A request about a person the product refuses (erasing oneself, a malformed email). */
export class PrivacyRequestError extends ProductError {
  readonly category: 'usage' | 'forbidden' | 'not_found';
  constructor(category: 'usage' | 'forbidden' | 'not_found', message: string) {
    super(message);
    this.name = 'PrivacyRequestError';
    this.category = category;
  }
}

export const personEmailSchema = z.email({ error: 'expected an email address such as ana@example.com' });

/** Who a data-subject request is about: their account when they have one, and what else names their email. */
export interface DataSubject {
  readonly email: string;
  readonly userId: string | null;
  readonly name: string | null;
  /** Their own tenant (a trader's or an influencer's); null for staff (the company's tenant is not theirs) and for leads. */
  readonly ownTenantId: string | null;
  readonly tenantKind: 'company' | 'trader' | 'influencer' | null;
  readonly staffId: string | null;
}

export async function findDataSubject(db: Database, rawEmail: string): Promise<DataSubject> {
  const parsed = personEmailSchema.safeParse(rawEmail.trim());
  if (!parsed.success)
    throw new PrivacyRequestError('usage', `"${rawEmail}" is not an email address (expected one such as ana@example.com).`);
  const email = parsed.data.toLowerCase();
  const [user] = await queryRows<{
    id: string;
    name: string;
    tenant_id: string;
    kind: 'company' | 'trader' | 'influencer';
    staff_id: string | null;
  }>(
    db,
    sql`select u.id, u.name, u.tenant_id, t.kind, s.id as staff_id from users u join tenants t on t.id = u.tenant_id
        left join staff s on s.user_id = u.id where lower(u.email) = ${email} limit 1`,
  );
  if (user)
    return {
      email,
      userId: user.id,
      name: user.name,
      ownTenantId: user.kind === 'company' ? null : user.tenant_id,
      tenantKind: user.kind,
      staffId: user.staff_id,
    };
  const [other] = await queryRows<{ name: string }>(
    db,
    sql`select name from leads where lower(email) = ${email} union all select name from customers where lower(email) = ${email} limit 1`,
  );
  if (!other) throw new PersonNotFoundError(email);
  return { email, userId: null, name: other.name, ownTenantId: null, tenantKind: null, staffId: null };
}
