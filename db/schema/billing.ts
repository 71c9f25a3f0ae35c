import { boolean, index, integer, jsonb, pgEnum, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { cents, createdAt, id, instant, updatedAt } from './columns.ts';
import { tenantRef } from './tenancy.ts';

// Money is in integer cents of the row's currency (`*Cents`), as Stripe reports it.

export const planIds = ['free', 'pro', 'enterprise'] as const;
export type PlanId = (typeof planIds)[number];

export interface PlanLimits {
  readonly botsAllowed: number;
  readonly liveTradingAllowed: boolean;
  readonly backtestsPerDay: number;
  readonly symbolsPerBot: number;
  /** Which agents a trader on this plan may talk to. */
  readonly agentAccess: 'none' | 'support' | 'all';
}

/** Mirror of the plans defined in code (billing issue), with the Stripe ids after `billing sync`. */
export const plans = pgTable('plans', {
  id: text().primaryKey().$type<PlanId>(),
  name: text().notNull(),
  currency: text().notNull().default('brl'),
  monthlyPriceCents: cents().notNull(),
  yearlyPriceCents: cents().notNull(),
  limits: jsonb().$type<PlanLimits>().notNull(),
  stripeProductId: text().unique(),
  stripeMonthlyPriceId: text().unique(),
  stripeYearlyPriceId: text().unique(),
  active: boolean().notNull().default(true),
  updatedAt: updatedAt(),
});

export const customers = pgTable('customers', {
  id: id(),
  tenantId: tenantRef().unique(),
  stripeCustomerId: text().unique(),
  email: text().notNull(),
  name: text().notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const billingIntervals = ['month', 'year'] as const;
export type BillingInterval = (typeof billingIntervals)[number];
export const billingInterval = pgEnum('billing_interval', billingIntervals);

export const subscriptionStatuses = [
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'canceled',
  'incomplete',
  'incomplete_expired',
  'paused',
] as const;
export type SubscriptionStatus = (typeof subscriptionStatuses)[number];
export const subscriptionStatus = pgEnum('subscription_status', subscriptionStatuses);

export const subscriptions = pgTable(
  'subscriptions',
  {
    id: id(),
    tenantId: tenantRef(),
    customerId: uuid()
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    planId: text()
      .notNull()
      .$type<PlanId>()
      .references(() => plans.id),
    interval: billingInterval().notNull().default('month'),
    status: subscriptionStatus().notNull(),
    /** Price per interval, after discounts, in cents of `currency`. */
    amountCents: cents().notNull(),
    currency: text().notNull().default('brl'),
    stripeSubscriptionId: text().unique(),
    currentPeriodStart: instant().notNull(),
    currentPeriodEnd: instant().notNull(),
    cancelAtPeriodEnd: boolean().notNull().default(false),
    trialEnd: instant(),
    startedAt: instant().notNull(),
    canceledAt: instant(),
    endedAt: instant(),
    /** `created` of the newest Stripe event applied; older events must not overwrite newer state. */
    stripeEventCreatedAt: instant(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('subscriptions_tenant_idx').on(t.tenantId, t.startedAt), index('subscriptions_status_idx').on(t.status, t.planId)],
);

/** Plan changes over time, so MRR movements (new, expansion, contraction, churn) can be computed. */
export const subscriptionChanges = pgTable(
  'subscription_changes',
  {
    id: id(),
    tenantId: tenantRef(),
    subscriptionId: uuid()
      .notNull()
      .references(() => subscriptions.id, { onDelete: 'cascade' }),
    kind: text().$type<'created' | 'upgraded' | 'downgraded' | 'canceled' | 'reactivated' | 'interval_changed'>().notNull(),
    fromPlanId: text().$type<PlanId>(),
    toPlanId: text().$type<PlanId>(),
    /** Monthly-normalised recurring revenue before and after, in cents. */
    mrrBeforeCents: cents().notNull(),
    mrrAfterCents: cents().notNull(),
    occurredAt: instant().notNull(),
  },
  (t) => [index('subscription_changes_time_idx').on(t.occurredAt), index('subscription_changes_tenant_idx').on(t.tenantId)],
);

export const invoiceStatuses = ['draft', 'open', 'paid', 'uncollectible', 'void'] as const;
export type InvoiceStatus = (typeof invoiceStatuses)[number];
export const invoiceStatus = pgEnum('invoice_status', invoiceStatuses);

export const invoices = pgTable(
  'invoices',
  {
    id: id(),
    tenantId: tenantRef(),
    customerId: uuid()
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    subscriptionId: uuid().references(() => subscriptions.id, { onDelete: 'set null' }),
    /** The plan billed (from the invoice's price), so revenue stays with the plan sold even after a later change. */
    planId: text().$type<PlanId>(),
    stripeInvoiceId: text().unique(),
    number: text(),
    status: invoiceStatus().notNull(),
    currency: text().notNull().default('brl'),
    amountDueCents: cents().notNull(),
    amountPaidCents: cents().notNull().default(0),
    periodStart: instant().notNull(),
    periodEnd: instant().notNull(),
    dueAt: instant(),
    paidAt: instant(),
    attemptCount: integer().notNull().default(0),
    nextPaymentAttemptAt: instant(),
    stripeEventCreatedAt: instant(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('invoices_tenant_time_idx').on(t.tenantId, t.createdAt), index('invoices_status_time_idx').on(t.status, t.createdAt)],
);

export const paymentStatuses = ['succeeded', 'failed', 'pending', 'refunded', 'partially_refunded'] as const;
export type PaymentStatus = (typeof paymentStatuses)[number];
export const paymentStatus = pgEnum('payment_status', paymentStatuses);

export const payments = pgTable(
  'payments',
  {
    id: id(),
    tenantId: tenantRef(),
    invoiceId: uuid().references(() => invoices.id, { onDelete: 'set null' }),
    stripePaymentIntentId: text(),
    stripeChargeId: text().unique(),
    status: paymentStatus().notNull(),
    currency: text().notNull().default('brl'),
    amountCents: cents().notNull(),
    refundedCents: cents().notNull().default(0),
    failureCode: text(),
    failureMessage: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('payments_tenant_time_idx').on(t.tenantId, t.createdAt), index('payments_status_time_idx').on(t.status, t.createdAt)],
);

export const refunds = pgTable(
  'refunds',
  {
    id: id(),
    tenantId: tenantRef(),
    paymentId: uuid()
      .notNull()
      .references(() => payments.id, { onDelete: 'cascade' }),
    stripeRefundId: text().unique(),
    amountCents: cents().notNull(),
    currency: text().notNull().default('brl'),
    reason: text(),
    createdAt: createdAt(),
  },
  (t) => [index('refunds_time_idx').on(t.createdAt)],
);

export const webhookEventStatuses = ['processed', 'ignored', 'failed'] as const;
export const webhookEventStatus = pgEnum('webhook_event_status', webhookEventStatuses);

/** Every Stripe event received, once by event id: a replay finds the row and has no effect. */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: text().primaryKey(),
    source: text().notNull().default('stripe'),
    type: text().notNull(),
    providerCreatedAt: instant().notNull(),
    payload: jsonb().notNull(),
    status: webhookEventStatus().notNull(),
    attempts: integer().notNull().default(1),
    error: text(),
    receivedAt: createdAt(),
    processedAt: instant(),
  },
  (t) => [index('webhook_events_type_idx').on(t.type, t.receivedAt)],
);
