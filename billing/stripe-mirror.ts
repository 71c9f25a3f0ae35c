import { and, eq, isNotNull, or, sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { appendAudit } from '../audit/index.ts';
import {
  queryRows,
  customers,
  payments,
  plans,
  refunds,
  subscriptionChanges,
  subscriptions,
  users,
  webhookEvents,
  type Database,
  type PlanId,
} from '../db/index.ts';
import { downgradeToFree, mirroredMrr, queuePaymentFailedNotices } from './dunning.ts';
import { parsePriceLookupKey } from './plans.ts';
import {
  chargeSchema,
  checkoutSessionSchema,
  invoiceSchema,
  subscriptionSchema,
  type StripeEvent,
  type StripeInvoice,
  type StripeSubscription,
} from './stripe-objects.ts';
import {
  at,
  claimEvent,
  inTransaction,
  receiveWebhook,
  type Handler,
  type Outcome,
  type Received,
  type WebhookResult,
} from './webhook-protocol.ts';

/**
 * The Stripe → mirror mapping: what each Stripe event does to our copy of customers,
 * subscriptions, invoices, payments and refunds (the protocol around it — signature, the
 * claim of each event id, retries — is billing/webhook-protocol.ts).
 */

/**
 * Receives one Stripe webhook delivery. The signature is checked by the SDK; each event id
 * takes effect once (a replay answers 200 and changes nothing); the claim of the event id and
 * its effects commit together (one statement, or one transaction when a handler needs
 * several), so a failure leaves nothing half-written and answers 500 for Stripe to retry; an
 * event older than the state already mirrored does not overwrite it.
 */
export function receiveStripeWebhook(
  db: Database,
  stripe: Stripe,
  delivery: { rawBody: string; signature: string | undefined; secret: string },
): Promise<WebhookResult> {
  return receiveWebhook(db, stripe, delivery, handlers);
}

const handlers: Record<string, Handler> = {
  'checkout.session.completed': inTransaction(linkCheckoutCustomer),
  'customer.subscription.created': inTransaction(subscriptionEvent),
  'customer.subscription.updated': inTransaction(subscriptionEvent),
  'customer.subscription.deleted': inTransaction(subscriptionEvent),
  // One statement each: the claim, the invoice and its payment.
  'invoice.finalized': async (db, received) =>
    (await mirrorInvoice(db, received, invoiceSchema.parse(received.event.data.object))) ? 'processed' : 'duplicate',
  'invoice.paid': paidInvoice,
  'invoice.payment_failed': (db, received) => db.transaction((tx) => failedInvoicePayment(tx, received)),
  'charge.refunded': inTransaction(refundedCharge),
};

/** Test seam: lets a test make a handler fail midway (after it has written something). */
export const webhookTestHooks: { afterMirror?: (event: StripeEvent) => void } = {};

async function tenantOfCustomer(
  tx: Database,
  stripeCustomerId: string,
  metadataTenantId?: string,
): Promise<{ tenantId: string; customerId: string }> {
  const [customer] = await tx.select().from(customers).where(eq(customers.stripeCustomerId, stripeCustomerId));
  if (customer) return { tenantId: customer.tenantId, customerId: customer.id };
  if (metadataTenantId) {
    const [byTenant] = await tx.select().from(customers).where(eq(customers.tenantId, metadataTenantId));
    if (byTenant) {
      await tx.update(customers).set({ stripeCustomerId, updatedAt: new Date() }).where(eq(customers.id, byTenant.id));
      return { tenantId: byTenant.tenantId, customerId: byTenant.id };
    }
  }
  // Not linked yet (checkout.session.completed may still be on its way): fail so Stripe retries.
  throw new Error(`Stripe customer ${stripeCustomerId} is not linked to any trader yet`);
}

async function linkCheckoutCustomer(tx: Database, event: StripeEvent): Promise<void> {
  const session = checkoutSessionSchema.parse(event.data.object);
  const tenantId = session.client_reference_id ?? session.metadata['tenantId'];
  if (!tenantId || !session.customer) return;
  const [existing] = await tx.select().from(customers).where(eq(customers.tenantId, tenantId));
  if (existing) {
    await tx.update(customers).set({ stripeCustomerId: session.customer, updatedAt: new Date() }).where(eq(customers.id, existing.id));
    return;
  }
  const [user] = await tx.select().from(users).where(eq(users.tenantId, tenantId)).limit(1);
  await tx.insert(customers).values({
    tenantId,
    stripeCustomerId: session.customer,
    email: session.customer_details?.email ?? user?.email ?? 'unknown@example.com',
    name: session.customer_details?.name ?? user?.name ?? 'Trader',
  });
}

async function planOfPrice(tx: Database, price: { id: string; lookup_key?: string | null | undefined }): Promise<PlanId> {
  const fromKey = parsePriceLookupKey(price.lookup_key);
  if (fromKey) return fromKey.planId;
  const [plan] = await tx
    .select({ id: plans.id })
    .from(plans)
    .where(or(eq(plans.stripeMonthlyPriceId, price.id), eq(plans.stripeYearlyPriceId, price.id)));
  if (!plan) throw new Error(`Stripe price ${price.id} belongs to no plan (run \`botcriptofy billing sync\`)`);
  return plan.id;
}

async function subscriptionEvent(tx: Database, event: StripeEvent): Promise<void> {
  await mirrorSubscription(tx, subscriptionSchema.parse(event.data.object), at(event.created)!);
  webhookTestHooks.afterMirror?.(event);
}

/**
 * Mirrors a Stripe subscription object as of `eventTime` (a webhook's `created`, or the
 * moment an API call returned it), recording the MRR change it brings.
 */
export async function mirrorSubscription(tx: Database, sub: StripeSubscription, eventTime: Date): Promise<void> {
  const { tenantId, customerId } = await tenantOfCustomer(tx, sub.customer, sub.metadata['tenantId']);
  const item = sub.items.data[0]!;
  const planId = await planOfPrice(tx, item.price);
  const interval = item.price.recurring?.interval === 'year' ? 'year' : 'month';
  const [existing] = await tx.select().from(subscriptions).where(eq(subscriptions.stripeSubscriptionId, sub.id)).for('update');
  // Out of order: an event older than what is mirrored must not roll the state back.
  if (existing?.stripeEventCreatedAt && existing.stripeEventCreatedAt > eventTime) return;
  const values = {
    tenantId,
    customerId,
    planId,
    interval,
    status: sub.status,
    amountCents: (item.price.unit_amount ?? 0) * (item.quantity ?? 1),
    currency: item.price.currency,
    stripeSubscriptionId: sub.id,
    currentPeriodStart: at(sub.current_period_start ?? item.current_period_start ?? sub.start_date)!,
    currentPeriodEnd: at(sub.current_period_end ?? item.current_period_end ?? sub.start_date)!,
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    trialEnd: at(sub.trial_end),
    startedAt: at(sub.start_date)!,
    canceledAt: at(sub.canceled_at),
    endedAt: at(sub.ended_at),
    stripeEventCreatedAt: eventTime,
    updatedAt: new Date(),
  } as const;
  const [row] = existing
    ? await tx.update(subscriptions).set(values).where(eq(subscriptions.id, existing.id)).returning()
    : await tx.insert(subscriptions).values(values).returning();
  const before = mirroredMrr(existing);
  const after = mirroredMrr(row);
  if (before !== after || !existing) {
    const kind = !existing
      ? 'created'
      : after === 0
        ? 'canceled'
        : before === 0
          ? 'reactivated'
          : after > before
            ? 'upgraded'
            : 'downgraded';
    await tx.insert(subscriptionChanges).values({
      tenantId,
      subscriptionId: row!.id,
      kind,
      fromPlanId: existing?.planId ?? null,
      toPlanId: planId,
      mrrBeforeCents: before,
      mrrAfterCents: after,
      occurredAt: eventTime,
    });
  }
}

interface PaymentFact {
  readonly key: string;
  readonly paymentIntentId: string | null;
  readonly status: 'succeeded' | 'failed';
  readonly amountCents: number;
  readonly at: Date;
}

interface MirroredInvoice {
  readonly id: string;
  readonly tenantId: string;
  readonly status: string;
  readonly subscriptionId: string | null;
  /** The event was older than the mirrored state, which it left as it was. */
  readonly stale: boolean;
}

/**
 * The upsert of an invoice: every column keeps its value when the mirrored invoice is newer
 * than the event (an older event changes nothing), so the row always comes back (with a
 * `stale` flag) and a late payment attempt can still be recorded against it in the same
 * statement, even when a concurrent delivery inserted the invoice a moment before.
 */
const FRESH = 'invoices.stripe_event_created_at is null or invoices.stripe_event_created_at <= excluded.stripe_event_created_at';
const INVOICE_UPDATES = sql.raw(
  Object.entries({
    subscription_id: 'coalesce(excluded.subscription_id, invoices.subscription_id)',
    plan_id: 'coalesce(excluded.plan_id, invoices.plan_id)',
    number: 'coalesce(excluded.number, invoices.number)',
    // A paid invoice stays paid whatever order events come in.
    status: "case when invoices.status = 'paid' and excluded.status not in ('paid', 'void') then invoices.status else excluded.status end",
    amount_due_cents: 'excluded.amount_due_cents',
    amount_paid_cents: 'greatest(excluded.amount_paid_cents, invoices.amount_paid_cents)',
    period_start: 'excluded.period_start',
    period_end: 'excluded.period_end',
    due_at: 'excluded.due_at',
    paid_at: 'coalesce(excluded.paid_at, invoices.paid_at)',
    attempt_count: 'greatest(excluded.attempt_count, invoices.attempt_count)',
    next_payment_attempt_at: 'excluded.next_payment_attempt_at',
    stripe_event_created_at: 'excluded.stripe_event_created_at',
    updated_at: 'now()',
  })
    .map(([column, value]) => `${column} = case when ${FRESH} then ${value} else invoices.${column} end`)
    .join(', '),
);

/**
 * Claims the event and mirrors its invoice (and the payment attempt it reports) in one
 * statement, so it needs no transaction of its own: the customer, subscription and plan are
 * looked up inside it, and nothing is written unless the customer is linked and the event
 * claimed. A stale event (older than the mirrored invoice) leaves the invoice as it is, but
 * its payment attempt is still recorded. Undefined when the event was already processed;
 * throws (Stripe retries) while the customer is not linked.
 */
async function mirrorInvoice(
  db: Database,
  received: Received,
  invoice: StripeInvoice,
  payment?: PaymentFact,
): Promise<MirroredInvoice | undefined> {
  const { event } = received;
  const eventTime = at(event.created)!.toISOString();
  const stripeSubscriptionId = invoice.subscription ?? invoice.parent?.subscription_details?.subscription ?? null;
  const line = invoice.lines.data[0];
  const planFromKey = parsePriceLookupKey(line?.price?.lookup_key)?.planId ?? null;
  const priceId = line?.price?.id ?? line?.pricing?.price_details?.price ?? null;
  const iso = (seconds: number | null | undefined) => at(seconds)?.toISOString() ?? null;
  // Only the lookups this invoice needs.
  const subscription = stripeSubscriptionId
    ? sql`(select id from subscriptions where stripe_subscription_id = ${stripeSubscriptionId})`
    : sql`null::uuid`;
  const plan = planFromKey
    ? sql`${planFromKey}::text`
    : sql`coalesce(${priceId ? sql`(select id from plans where stripe_monthly_price_id = ${priceId} or stripe_yearly_price_id = ${priceId}), ` : sql``}${stripeSubscriptionId ? sql`(select plan_id from subscriptions where stripe_subscription_id = ${stripeSubscriptionId})` : sql`null::text`})`;
  const [row] = await queryRows<{
    linked: boolean;
    id: string | null;
    tenant_id: string;
    status: string;
    subscription_id: string | null;
    stale: boolean;
  }>(
    db,
    sql`with c as (select id, tenant_id from customers where stripe_customer_id = ${invoice.customer}),
        claim as (${claimEvent(received, 'processed', sql`exists (select 1 from c)`)}),
        up as (
          insert into invoices (tenant_id, customer_id, subscription_id, plan_id, stripe_invoice_id, number, status, currency,
            amount_due_cents, amount_paid_cents, period_start, period_end, due_at, paid_at, attempt_count, next_payment_attempt_at,
            stripe_event_created_at, created_at, updated_at)
          select c.tenant_id, c.id, ${subscription}, ${plan},
            ${invoice.id}, ${invoice.number ?? null}, ${invoice.status}::invoice_status, ${invoice.currency}, ${invoice.amount_due}, ${invoice.amount_paid},
            ${iso(invoice.period_start)}::timestamptz, ${iso(invoice.period_end)}::timestamptz, ${iso(invoice.due_date)}::timestamptz, ${iso(invoice.status_transitions.paid_at)}::timestamptz,
            ${invoice.attempt_count}, ${iso(invoice.next_payment_attempt)}::timestamptz, ${eventTime}::timestamptz, ${iso(invoice.created)}::timestamptz, now()
          from c where exists (select 1 from claim)
          on conflict (stripe_invoice_id) do update set ${INVOICE_UPDATES}
          returning id, tenant_id, status, subscription_id, stripe_event_created_at > ${eventTime}::timestamptz as stale
        )${
          payment
            ? sql`,
        pay as (
          insert into payments (tenant_id, invoice_id, stripe_charge_id, stripe_payment_intent_id, status, currency, amount_cents, failure_code, created_at)
          select up.tenant_id, up.id, ${payment.key}, ${payment.paymentIntentId}, ${payment.status}::payment_status,
            ${invoice.currency}, ${payment.amountCents}, ${payment.status === 'failed' ? 'payment_failed' : null}, ${payment.at.toISOString()}::timestamptz
          from up
          on conflict (stripe_charge_id) do nothing
        )`
            : sql``
        }
        select exists (select 1 from c) as linked, up.* from (select 1) one left join up on true`,
  );
  if (row?.id) return { id: row.id, tenantId: row.tenant_id, status: row.status, subscriptionId: row.subscription_id, stale: row.stale };
  if (row?.linked) return undefined; // claimed before: a replay
  const [seen] = await db.select({ status: webhookEvents.status }).from(webhookEvents).where(eq(webhookEvents.id, event.id));
  if (seen && seen.status !== 'failed') return undefined;
  // Not linked yet (checkout.session.completed may still be on its way): fail so Stripe retries.
  throw new Error(`Stripe customer ${invoice.customer} is not linked to any trader yet`);
}

async function paidInvoice(db: Database, received: Received): Promise<Outcome> {
  const { event } = received;
  const invoice = invoiceSchema.parse(event.data.object);
  const mirrored = await mirrorInvoice(db, received, invoice, {
    key: invoice.charge ?? `${invoice.id}:paid`,
    paymentIntentId: invoice.payment_intent ?? null,
    status: 'succeeded',
    amountCents: invoice.amount_paid,
    at: at(invoice.status_transitions.paid_at) ?? at(event.created)!,
  });
  return mirrored ? 'processed' : 'duplicate';
}

/**
 * Dunning: record the failed attempt, tell the trader and Finance (through the outbox), keep
 * Stripe's next retry date; after the final failure (no retry left) move the trader to Free.
 * Several statements: runs in a transaction.
 */
async function failedInvoicePayment(tx: Database, received: Received): Promise<Outcome> {
  const { event } = received;
  const invoice = invoiceSchema.parse(event.data.object);
  const row = await mirrorInvoice(tx, received, invoice, {
    key: invoice.charge ?? `${invoice.id}:attempt:${invoice.attempt_count}`,
    paymentIntentId: invoice.payment_intent ?? null,
    status: 'failed',
    amountCents: invoice.amount_due,
    at: at(event.created)!,
  });
  if (!row) return 'duplicate';
  if (row.stale || row.status === 'paid') return 'processed';
  const { tenantId } = row;
  const final = invoice.next_payment_attempt == null;
  const payload = {
    invoiceId: invoice.id,
    number: invoice.number ?? null,
    amountDueCents: invoice.amount_due,
    currency: invoice.currency,
    attempt: invoice.attempt_count,
    nextPaymentAttemptAt: at(invoice.next_payment_attempt)?.toISOString() ?? null,
    final,
  };
  await queuePaymentFailedNotices(tx, tenantId, payload);
  await appendAudit(tx, {
    tenantId,
    actorKind: 'system',
    actorId: 'stripe',
    action: 'billing.payment_failed',
    args: payload,
    outcome: 'ok',
  });
  if (final)
    await downgradeToFree(tx, {
      tenantId,
      subscriptionId: row.subscriptionId,
      when: at(event.created)!,
      invoiceId: invoice.id,
      by: 'stripe',
    });
  return 'processed';
}

async function refundedCharge(tx: Database, event: StripeEvent): Promise<void> {
  const charge = chargeSchema.parse(event.data.object);
  const [payment] = await tx
    .select()
    .from(payments)
    .where(
      or(
        eq(payments.stripeChargeId, charge.id),
        charge.payment_intent
          ? and(isNotNull(payments.stripePaymentIntentId), eq(payments.stripePaymentIntentId, charge.payment_intent))
          : undefined,
      ),
    )
    .limit(1);
  if (!payment) return; // a charge we never billed (e.g. made by hand in the dashboard)
  await tx
    .update(payments)
    .set({
      refundedCents: charge.amount_refunded,
      status: charge.amount_refunded >= charge.amount ? 'refunded' : 'partially_refunded',
      updatedAt: new Date(),
    })
    .where(eq(payments.id, payment.id));
  const list = charge.refunds?.data.length
    ? charge.refunds.data.map((refund) => ({
        stripeRefundId: refund.id,
        amountCents: refund.amount,
        reason: refund.reason ?? null,
        createdAt: at(refund.created)!,
      }))
    : [
        {
          stripeRefundId: `${charge.id}:${charge.amount_refunded}`,
          amountCents: charge.amount_refunded,
          reason: null,
          createdAt: at(event.created)!,
        },
      ];
  await tx
    .insert(refunds)
    .values(list.map((refund) => ({ ...refund, tenantId: payment.tenantId, paymentId: payment.id, currency: charge.currency })))
    .onConflictDoNothing();
}
