import { desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import {
  FINANCE_WINDOWS,
  PLANS,
  currentPlan,
  currentSubscription,
  describeStripeFailure,
  financeFigures,
  financeSummary,
  formatBrlCents,
  lastDays,
  paymentRisk,
  revenueMonths,
} from '../../billing/index.ts';
import { invoices, payments, tenantScope, users, type Database, type TenantScope } from '../../db/index.ts';
import { ToolRefusal, traderScope } from '../scope.ts';
import { defineTool, type ToolContext } from '../types.ts';

const planId = z.enum(['free', 'pro', 'enterprise']);
/** A page of the company's own site (http or https) that Stripe sends the trader back to. */
const returnUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).max(2_000);

export const billingTools = [
  defineTool({
    name: 'revenue_summary',
    description: 'MRR, ARR, paying customers and ARPU now; churn of 30 days; LTV (churn of 90 days); net new MRR of N days.',
    domain: 'billing',
    effect: 'read',
    access: { departments: ['finance', 'subscriptions'] },
    input: z.strictObject({
      months: z.number().int().min(1).max(24).default(3).describe('calendar months of MRR movements to list'),
      days: z.number().int().min(1).max(365).default(FINANCE_WINDOWS.churnDays).describe('the window of the net new MRR, in days'),
    }),
    output: z.object({
      asOf: z.string(),
      /** The windows of the churn figures and of LTV's churn, in days (so an answer may say them). */
      churnWindowDays: z.number(),
      ltvChurnWindowDays: z.number(),
      mrrCents: z.number(),
      arrCents: z.number(),
      payingCustomers: z.number(),
      arpuCents: z.number(),
      customerChurn30dPct: z.number().nullable(),
      customersLost30d: z.number(),
      payingCustomers30dAgo: z.number(),
      revenueChurn30dPct: z.number().nullable(),
      monthlyChurn90dPct: z.number().nullable(),
      ltvCents: z.number().nullable(),
      netNewMrr: z.object({
        days: z.number(),
        newCents: z.number(),
        expansionCents: z.number(),
        contractionCents: z.number(),
        churnedCents: z.number(),
        netNewCents: z.number(),
      }),
      months: z.array(
        z.object({
          month: z.string(),
          newCents: z.number(),
          expansionCents: z.number(),
          contractionCents: z.number(),
          churnedCents: z.number(),
          netNewCents: z.number(),
          endingMrrCents: z.number(),
          customerChurnPct: z.number().nullable(),
        }),
      ),
    }),
    async execute(ctx, input) {
      const asOf = ctx.now();
      const f = await financeFigures(ctx.db, { asOf, months: input.months, extraWindows: [lastDays(asOf, input.days)] });
      const window = f.extra[0]!;
      return {
        asOf: f.asOf,
        churnWindowDays: FINANCE_WINDOWS.churnDays,
        ltvChurnWindowDays: FINANCE_WINDOWS.ltvChurnDays,
        mrrCents: f.mrrCents,
        arrCents: f.arrCents,
        payingCustomers: f.payingCustomers,
        arpuCents: f.arpuCents,
        customerChurn30dPct: f.customerChurnPct,
        customersLost30d: f.last30d.customersLost,
        payingCustomers30dAgo: f.last30d.payingAtStart,
        revenueChurn30dPct: f.revenueChurnPct,
        monthlyChurn90dPct: f.monthlyChurn90dPct,
        ltvCents: f.ltvCents,
        netNewMrr: {
          days: input.days,
          newCents: window.newCents,
          expansionCents: window.expansionCents,
          contractionCents: window.contractionCents,
          churnedCents: window.churnedCents,
          netNewCents: window.netNewCents,
        },
        months: f.months.map((m) => ({
          month: m.month,
          newCents: m.newCents,
          expansionCents: m.expansionCents,
          contractionCents: m.contractionCents,
          churnedCents: m.churnedCents,
          netNewCents: m.netNewCents,
          endingMrrCents: m.endingMrrCents,
          customerChurnPct: m.customerChurnPct,
        })),
      };
    },
  }),
  defineTool({
    // The series of the revenue/MRR chart (Telegram's executive report draws it; the dashboard too): billing's one definition.
    name: 'revenue_months',
    description: "MRR at each calendar month's end and the cash revenue collected in it, over the last N months.",
    domain: 'billing',
    effect: 'read',
    access: { departments: ['finance', 'subscriptions'] },
    input: z.strictObject({
      months: z.number().int().min(1).max(36).default(12).describe('calendar months, the current one last'),
    }),
    output: z.object({
      asOf: z.string(),
      months: z.array(z.object({ month: z.string(), mrrCents: z.number(), revenueCents: z.number() })),
    }),
    async execute(ctx, input) {
      const summary = await financeSummary(ctx.db, { asOf: ctx.now(), months: input.months });
      return { asOf: summary.asOf, months: revenueMonths(summary) };
    },
  }),
  defineTool({
    name: 'failed_payments',
    description: 'Failed payments of the last N days, the amount still at risk and the most recent failures.',
    domain: 'billing',
    effect: 'read',
    access: { departments: ['finance', 'subscriptions'] },
    input: z.strictObject({ days: z.number().int().min(1).max(365).default(FINANCE_WINDOWS.failedPaymentsDays) }),
    output: z.object({
      days: z.number(),
      failedPayments: z.number(),
      failedAmountCents: z.number(),
      atRiskCents: z.number(),
      pastDueSubscriptions: z.number(),
      recent: z.array(z.object({ paymentId: z.string(), email: z.string(), amountCents: z.number(), at: z.string() })),
    }),
    async execute(ctx, input) {
      const risk = await paymentRisk(ctx.db, lastDays(ctx.now(), input.days));
      const recent = await ctx.db
        .select({ id: payments.id, email: users.email, amount: payments.amountCents, at: payments.createdAt })
        .from(payments)
        .innerJoin(users, eq(users.tenantId, payments.tenantId))
        .where(eq(payments.status, 'failed'))
        .orderBy(desc(payments.createdAt))
        .limit(5);
      return {
        days: input.days,
        ...risk,
        recent: recent.map((r) => ({ paymentId: r.id, email: r.email, amountCents: r.amount, at: r.at.toISOString() })),
      };
    },
  }),
  defineTool({
    name: 'refund_payment',
    description: 'Refund a payment (needs approval by the Finance head or the CEO).',
    domain: 'billing',
    effect: 'approval',
    access: { departments: ['finance'] },
    approverDepartment: 'finance',
    input: z.strictObject({ paymentId: z.uuid(), amountCents: z.number().int().positive().optional(), reason: z.string().min(3).max(300) }),
    output: z.object({ refundId: z.string(), amountCents: z.number() }),
    summarize: (input, locale) =>
      locale === 'en'
        ? `Refund ${input.amountCents === undefined ? 'the whole payment' : formatBrlCents(input.amountCents, 'en')} of payment ${input.paymentId}: ${input.reason}`
        : `Reembolsar ${input.amountCents === undefined ? 'o pagamento inteiro' : formatBrlCents(input.amountCents, 'pt-BR')} do pagamento ${input.paymentId}: ${input.reason}`,
    async explain(ctx, input) {
      const [row] = await ctx.db
        .select({
          tenantId: payments.tenantId,
          amountCents: payments.amountCents,
          refundedCents: payments.refundedCents,
          currency: payments.currency,
          charge: payments.stripeChargeId,
          intent: payments.stripePaymentIntentId,
          invoiceNumber: invoices.number,
          stripeInvoiceId: invoices.stripeInvoiceId,
        })
        .from(payments)
        .leftJoin(invoices, eq(invoices.id, payments.invoiceId))
        .where(eq(payments.id, input.paymentId));
      if (!row) return { blocked: `No payment ${input.paymentId}.` };
      const customer = await accountHolder(ctx.db, row.tenantId);
      const invoice = row.invoiceNumber ?? row.stripeInvoiceId;
      return {
        amount: { cents: input.amountCents ?? row.amountCents - row.refundedCents, currency: row.currency },
        ...(customer ? { customer } : {}),
        ...(invoice ? { invoice } : {}),
        payment: row.charge ?? row.intent ?? input.paymentId,
        ...(ctx.billing.localMode ? { blocked: stripeMissing('A refund') } : {}),
      };
    },
    async tenantOf(ctx, input) {
      requireStripe(ctx, 'A refund');
      const [payment] = await ctx.db.select({ tenantId: payments.tenantId }).from(payments).where(eq(payments.id, input.paymentId));
      if (!payment) throw new ToolRefusal('not_found', `No payment ${input.paymentId}.`);
      return payment.tenantId;
    },
    execute: (ctx, input) =>
      ctx.billing.refund(input.paymentId, input.amountCents, input.reason, {
        kind: 'system',
        id: ctx.actor.kind === 'system' ? ctx.actor.name : undefined,
      }),
  }),
  defineTool({
    name: 'list_plans',
    description: 'The plans with monthly and yearly prices and their limits.',
    domain: 'subscriptions',
    effect: 'read',
    access: { departments: ['subscriptions', 'sales', 'support', 'finance'], traders: true },
    input: z.strictObject({}),
    output: z.object({
      plans: z.array(
        z.object({
          id: z.string(),
          name: z.string(),
          monthlyPriceCents: z.number(),
          yearlyPriceCents: z.number(),
          botsAllowed: z.number(),
          liveTradingAllowed: z.boolean(),
          backtestsPerDay: z.number(),
          symbolsPerBot: z.number(),
        }),
      ),
    }),
    async execute() {
      return {
        plans: Object.values(PLANS).map((p) => ({
          id: p.id,
          name: p.name,
          monthlyPriceCents: p.monthlyPriceCents,
          yearlyPriceCents: p.yearlyPriceCents,
          ...p.limits,
        })),
      };
    },
  }),
  defineTool({
    name: 'subscription_status',
    description: "A trader's plan and subscription: status, price, renewal date, cancellation.",
    domain: 'subscriptions',
    effect: 'read',
    access: { departments: ['subscriptions', 'support', 'finance'], traders: true },
    input: z.strictObject({ email: z.email().optional() }),
    output: z.object({
      plan: z.string(),
      status: z.string().nullable(),
      amountCents: z.number(),
      interval: z.string().nullable(),
      renewsAt: z.string().nullable(),
      cancelAtPeriodEnd: z.boolean(),
    }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const { plan, subscription: sub } = await currentSubscription(ctx.db, scope);
      return {
        plan: plan.id,
        status: sub?.status ?? null,
        amountCents: sub?.amountCents ?? 0,
        interval: sub?.interval ?? null,
        renewsAt: sub?.currentPeriodEnd.toISOString() ?? null,
        cancelAtPeriodEnd: sub?.cancelAtPeriodEnd ?? false,
      };
    },
  }),
  defineTool({
    name: 'change_plan',
    description: 'Move a trader to another plan (needs approval by the Subscriptions head or the CEO).',
    domain: 'subscriptions',
    effect: 'approval',
    access: { departments: ['subscriptions'] },
    approverDepartment: 'subscriptions',
    input: z.strictObject({ email: z.email(), planId, interval: z.enum(['month', 'year']).default('month') }),
    output: z.object({ email: z.string(), planId: z.string() }),
    summarize: (input, locale) =>
      locale === 'en'
        ? `Move ${input.email} to ${PLANS[input.planId].name} (${input.interval === 'year' ? 'yearly' : 'monthly'})`
        : `Passar ${input.email} para o ${PLANS[input.planId].name} (${input.interval === 'year' ? 'anual' : 'mensal'})`,
    async explain(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const customer = await accountHolder(ctx.db, scope.tenantId);
      const to = PLANS[input.planId];
      return {
        ...(customer ? { customer } : {}),
        plan: { from: (await currentPlan(ctx.db, scope)).name, to: to.name },
        amount: { cents: input.interval === 'year' ? to.yearlyPriceCents : to.monthlyPriceCents, currency: 'brl' },
        ...(ctx.billing.localMode ? { blocked: stripeMissing('Changing plans') } : {}),
      };
    },
    async tenantOf(ctx, input) {
      requireStripe(ctx, 'Changing plans');
      return (await traderScope(ctx, input.email)).tenantId;
    },
    async execute(ctx, input) {
      await ctx.billing.changePlan(
        await traderScope(ctx, input.email),
        { planId: input.planId, interval: input.interval },
        { kind: 'system' },
      );
      return { email: input.email, planId: input.planId };
    },
  }),
  defineTool({
    // The API's POST /billing/checkout: the trader buys a plan themselves on Stripe's page.
    name: 'checkout_link',
    description: 'A Stripe Checkout link for the signed-in trader to subscribe to a paid plan.',
    domain: 'subscriptions',
    effect: 'write',
    access: { departments: [], traders: true },
    input: z.strictObject({
      planId: z.enum(['pro', 'enterprise']).describe('the paid plan to buy (GET /plan lists the plans)'),
      interval: z.enum(['month', 'year']).default('month'),
      successUrl: returnUrl.describe('where Stripe sends the trader after paying'),
      cancelUrl: returnUrl.describe('where Stripe sends the trader who turns back'),
    }),
    output: z.object({ url: z.string(), sessionId: z.string(), planId: z.string(), interval: z.enum(['month', 'year']) }),
    async execute(ctx, input) {
      const scope = ownCustomer(ctx, 'buy a plan');
      requireStripe(ctx, 'A checkout link');
      const link = await reachingStripe(() =>
        ctx.billing.checkoutLink(scope, {
          planId: input.planId,
          interval: input.interval,
          successUrl: input.successUrl,
          cancelUrl: input.cancelUrl,
        }),
      );
      return { ...link, planId: input.planId, interval: input.interval };
    },
  }),
  defineTool({
    // The API's POST /billing/portal: the trader's card, invoices and cancellation on Stripe's page.
    name: 'billing_portal_link',
    description: "A Stripe customer portal link for the signed-in trader's card, invoices and cancellation.",
    domain: 'subscriptions',
    effect: 'write',
    access: { departments: [], traders: true },
    input: z.strictObject({ returnUrl: returnUrl.describe('where the portal sends the trader back') }),
    output: z.object({ url: z.string(), sessionId: z.string() }),
    async execute(ctx, input) {
      const scope = ownCustomer(ctx, 'open the billing portal');
      requireStripe(ctx, 'A customer portal link');
      return reachingStripe(() => ctx.billing.portalLink(scope, { returnUrl: input.returnUrl }));
    },
  }),
];

/** A checkout or portal is the trader's own: staff (even the CEO) have no plan to pay for. */
function ownCustomer(ctx: ToolContext, what: string): TenantScope {
  if (ctx.actor.kind !== 'trader')
    throw new ToolRefusal('forbidden', `Only a trader can ${what} for their own account; staff change a trader's plan with change_plan.`);
  return tenantScope(ctx.actor.tenantId);
}

/** Stripe unreachable or refusing: unavailable (503 at the API), in one line naming the setting. */
async function reachingStripe<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const failure = describeStripeFailure(error);
    if (failure) throw new ToolRefusal('unavailable', failure);
    throw error;
  }
}

/**
 * Asked before an approval is queued: in local mode (no STRIPE_SECRET_KEY) nothing can be
 * charged or refunded, so nobody is asked to approve what could only fail.
 */
function requireStripe(ctx: ToolContext, operation: string): void {
  if (ctx.billing.localMode) throw new ToolRefusal('unavailable', stripeMissing(operation));
}

const stripeMissing = (operation: string) =>
  `${operation} needs Stripe: set STRIPE_SECRET_KEY (billing runs in local mode; nothing is charged or refunded).`;

/** The person an account belongs to (a trader's account has one user): name and email. */
async function accountHolder(db: Database, tenantId: string): Promise<{ name: string | null; email: string } | undefined> {
  const [user] = await db
    .select({ name: users.name, email: users.email })
    .from(users)
    .where(eq(users.tenantId, tenantId))
    .orderBy(users.createdAt, users.id)
    .limit(1);
  return user;
}
