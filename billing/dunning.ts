import { and, eq, gt, inArray, ne, sql } from 'drizzle-orm';
import { appendAudit } from '../audit/index.ts';
import { customers, invoices, mastraWorkflowSnapshots, subscriptionChanges, subscriptions, users, type Database } from '../db/index.ts';
import { enqueueNotification } from '../notifications/index.ts';
import { monthlyRecurringCents, PLANS } from './plans.ts';

// The pieces of dunning both the Stripe webhook (billing/stripe-mirror.ts, as each event arrives)
// and the dunning workflow (workflows/dunning.ts, following the retries over days) use. Each
// is idempotent, so whichever path comes first does the work and the other changes nothing.

/** What the trader and Finance are told about one failed attempt (the outbox's payment_failed payload). */
export interface PaymentFailedPayload {
  /** Stripe's invoice id (ours when the invoice never went through Stripe). */
  readonly invoiceId: string;
  readonly number: string | null;
  readonly amountDueCents: number;
  readonly currency: string;
  readonly attempt: number;
  readonly nextPaymentAttemptAt: string | null;
  /** No retry left: the subscription moves to Free. */
  readonly final: boolean;
}

/** MRR a mirrored subscription brings: only active and past-due ones pay. */
export function mirroredMrr(row: { status: string; amountCents: number; interval: 'month' | 'year' } | undefined): number {
  if (!row || !['active', 'past_due'].includes(row.status)) return 0;
  return monthlyRecurringCents(row.amountCents, row.interval);
}

/** The dedupe key of the notices about one failed attempt of one invoice. */
export function paymentFailedKey(invoiceId: string, attempt: number, recipient: 'trader' | 'finance'): string {
  return `payment_failed:${invoiceId}:${attempt}:${recipient}`;
}

/**
 * Tells the trader and Finance about a failed attempt, once per invoice and attempt (through
 * the outbox, payloads checked). Returns how many were queued now. A tenant without a user
 * (none in practice: traders are 1:1) gets no trader notice.
 */
export async function queuePaymentFailedNotices(tx: Database, tenantId: string, payload: PaymentFailedPayload): Promise<number> {
  const [trader] = await tx.select({ id: users.id }).from(users).where(eq(users.tenantId, tenantId)).limit(1);
  const notices = [
    ...(trader ? [{ to: { userId: trader.id }, dedupeKey: paymentFailedKey(payload.invoiceId, payload.attempt, 'trader') }] : []),
    { to: { department: 'finance' as const }, dedupeKey: paymentFailedKey(payload.invoiceId, payload.attempt, 'finance') },
  ];
  let queued = 0;
  for (const notice of notices) {
    if ((await enqueueNotification(tx, { tenantId, type: 'payment_failed', payload: { ...payload }, ...notice })).created) queued++;
  }
  return queued;
}

/**
 * Moves a trader to Free after the last failed attempt: paying subscriptions canceled (with
 * their MRR change recorded), a Free subscription started, audited. Run inside a transaction.
 * A second call finds nothing to change, writes nothing and returns false.
 */
export async function downgradeToFree(
  tx: Database,
  options: { tenantId: string; subscriptionId: string | null; when: Date; invoiceId: string; by: string },
): Promise<boolean> {
  const { tenantId, subscriptionId, when, invoiceId, by } = options;
  const paying = await tx
    .select()
    .from(subscriptions)
    .where(
      and(
        eq(subscriptions.tenantId, tenantId),
        inArray(subscriptions.status, ['active', 'past_due', 'unpaid', 'trialing']),
        ne(subscriptions.planId, 'free'),
      ),
    )
    .for('update');
  for (const sub of paying) {
    await tx
      .update(subscriptions)
      .set({ status: 'canceled', canceledAt: when, endedAt: when, updatedAt: new Date() })
      .where(eq(subscriptions.id, sub.id));
    const before = mirroredMrr(sub);
    if (before > 0) {
      await tx.insert(subscriptionChanges).values({
        tenantId,
        subscriptionId: sub.id,
        kind: 'canceled',
        fromPlanId: sub.planId,
        toPlanId: 'free',
        mrrBeforeCents: before,
        mrrAfterCents: 0,
        occurredAt: when,
      });
    }
  }
  const [hasFree] = await tx
    .select({ id: subscriptions.id })
    .from(subscriptions)
    .where(and(eq(subscriptions.tenantId, tenantId), eq(subscriptions.planId, 'free'), eq(subscriptions.status, 'active')));
  const [customer] = await tx.select({ id: customers.id }).from(customers).where(eq(customers.tenantId, tenantId));
  const startsFree = !hasFree && customer !== undefined;
  if (startsFree) {
    await tx.insert(subscriptions).values({
      tenantId,
      customerId: customer.id,
      planId: 'free',
      interval: 'month',
      status: 'active',
      amountCents: PLANS.free.monthlyPriceCents,
      currentPeriodStart: when,
      currentPeriodEnd: new Date(when.getTime() + 30 * 86_400_000),
      startedAt: when,
    });
  }
  if (paying.length === 0 && !startsFree) return false;
  await appendAudit(tx, {
    tenantId,
    actorKind: 'system',
    actorId: by,
    action: 'billing.downgraded_to_free',
    outcome: 'ok',
    args: { invoiceId, subscriptionId, reason: 'final payment attempt failed' },
  });
  return true;
}

/** One invoice by our id, whoever's it is (dunning acts for the company on every trader's invoices). */
export async function getInvoice(db: Database, invoiceId: string): Promise<typeof invoices.$inferSelect | undefined> {
  const [row] = await db.select().from(invoices).where(eq(invoices.id, invoiceId));
  return row;
}

/**
 * Open invoices with a failed attempt that no run of the workflow `workflowName` follows yet
 * (its run ids are `<workflowName>:<invoice id>`): the ones a dunning run must start for.
 */
export async function failedInvoicesWithoutRun(db: Database, workflowName: string): Promise<string[]> {
  const rows = await db
    .select({ id: invoices.id })
    .from(invoices)
    .where(
      and(
        eq(invoices.status, 'open'),
        gt(invoices.attemptCount, 0),
        sql`not exists (select 1 from ${mastraWorkflowSnapshots} s where s.workflow_name = ${workflowName} and s.run_id = ${workflowName} || ':' || ${invoices.id}::text)`,
      ),
    );
  return rows.map((row) => row.id);
}
