import { desc, eq, sql } from 'drizzle-orm';
import { customers, invoices, payments, subscriptions, tenantScope, users, type Database } from '../db/index.ts';
import { currentPlan } from './entitlements.ts';

/** A trader's billing as an operator reads it (`botcriptofy billing customer EMAIL`). */
export interface CustomerBilling {
  readonly name: string;
  readonly email: string;
  /** The plan held now, and its name. */
  readonly plan: string;
  readonly planName: string;
  readonly stripeCustomerId: string | null;
  /** Newest first. */
  readonly subscriptions: {
    planId: string;
    interval: string;
    status: string;
    amountCents: number;
    startedAt: string;
    endedAt: string | null;
    cancelAtPeriodEnd: boolean;
  }[];
  /** The six newest. */
  readonly invoices: { number: string | null; status: string; amountDueCents: number; amountPaidCents: number; createdAt: string }[];
  /** Failed payment attempts, ever. */
  readonly failedPayments: number;
}

/** The billing of the person with this email (any case), or undefined when nobody has it. */
export async function customerBilling(db: Database, email: string): Promise<CustomerBilling | undefined> {
  const [user] = await db.select().from(users).where(sql`lower(${users.email}) = lower(${email})`);
  if (!user) return undefined;
  const scope = tenantScope(user.tenantId);
  const plan = await currentPlan(db, scope);
  const [customer] = await db.select().from(customers).where(eq(customers.tenantId, user.tenantId));
  const subs = await db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.tenantId, user.tenantId))
    .orderBy(desc(subscriptions.startedAt));
  const recentInvoices = await db
    .select()
    .from(invoices)
    .where(eq(invoices.tenantId, user.tenantId))
    .orderBy(desc(invoices.createdAt))
    .limit(6);
  const failed = await db.$count(payments, sql`${payments.tenantId} = ${user.tenantId} and ${payments.status} = 'failed'`);
  return {
    name: user.name,
    email: user.email,
    plan: plan.id,
    planName: plan.name,
    stripeCustomerId: customer?.stripeCustomerId ?? null,
    subscriptions: subs.map((s) => ({
      planId: s.planId,
      interval: s.interval,
      status: s.status,
      amountCents: s.amountCents,
      startedAt: s.startedAt.toISOString(),
      endedAt: s.endedAt?.toISOString() ?? null,
      cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    })),
    invoices: recentInvoices.map((i) => ({
      number: i.number,
      status: i.status,
      amountDueCents: i.amountDueCents,
      amountPaidCents: i.amountPaidCents,
      createdAt: i.createdAt.toISOString(),
    })),
    failedPayments: failed,
  };
}
