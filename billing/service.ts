import { and, desc, eq, inArray, isNotNull } from 'drizzle-orm';
import type Stripe from 'stripe';
import { appendAudit } from '../audit/index.ts';
import { customers, payments, plans, subscriptions, users, type Database, type PlanId, type TenantScope } from '../db/index.ts';
import { PLANS, priceLookupKey } from './plans.ts';
import { mirrorSubscriptionObject } from './mirror-helpers.ts';
import { ProductError } from '../errors/index.ts';

export class StripeNotConfiguredError extends ProductError {
  readonly category = 'unavailable' as const;
  constructor(operation: string) {
    super(
      `${operation} needs Stripe: set STRIPE_SECRET_KEY. Without it billing runs in local mode (figures and plan limits work, nothing is charged).`,
    );
    this.name = 'StripeNotConfiguredError';
  }
}

export class BillingError extends ProductError {
  readonly category = 'conflict' as const;
  constructor(message: string) {
    super(message);
    this.name = 'BillingError';
  }
}

export interface CatalogSyncReport {
  readonly products: { readonly planId: PlanId; readonly productId: string; readonly created: boolean }[];
  readonly prices: { readonly lookupKey: string; readonly priceId: string; readonly created: boolean }[];
}

type Interval = 'month' | 'year';

/** Who asked for a billing change (written in its audit row). */
type BillingActor = { kind: 'staff' | 'trader' | 'system'; id?: string };

/**
 * Every change to a trader's subscription goes through here, whoever asks (API, CLI, the
 * subscriptions agent's tool after approval). Stripe is the source of truth; what it returns
 * is mirrored at once, and its webhooks keep the mirror current afterwards.
 */
export class BillingService {
  private readonly db: Database;
  private readonly stripe: Stripe | undefined;

  constructor(db: Database, stripe: Stripe | undefined) {
    this.db = db;
    this.stripe = stripe;
  }

  get localMode(): boolean {
    return this.stripe === undefined;
  }

  private requireStripe(operation: string): Stripe {
    if (!this.stripe) throw new StripeNotConfiguredError(operation);
    return this.stripe;
  }

  /** Writes the plans defined in code into the plans table (ids from Stripe are kept). */
  async ensurePlanRows(): Promise<void> {
    for (const plan of Object.values(PLANS)) {
      await this.db
        .insert(plans)
        .values({
          id: plan.id,
          name: plan.name,
          currency: plan.currency,
          monthlyPriceCents: plan.monthlyPriceCents,
          yearlyPriceCents: plan.yearlyPriceCents,
          limits: plan.limits,
        })
        .onConflictDoUpdate({
          target: plans.id,
          set: {
            name: plan.name,
            monthlyPriceCents: plan.monthlyPriceCents,
            yearlyPriceCents: plan.yearlyPriceCents,
            limits: plan.limits,
            updatedAt: new Date(),
          },
        });
    }
  }

  /**
   * Creates or updates one product per paid plan and one price per interval, found again by
   * their lookup keys, so running it twice changes nothing. A changed amount gets a new
   * price that takes the lookup key over (prices are immutable on Stripe).
   */
  async syncCatalog(): Promise<CatalogSyncReport> {
    const stripe = this.requireStripe('billing sync');
    await this.ensurePlanRows();
    const report: CatalogSyncReport = { products: [], prices: [] };
    const paid = Object.values(PLANS).filter((plan) => plan.monthlyPriceCents > 0);
    const keys = paid.flatMap((plan) => (['month', 'year'] as const).map((interval) => priceLookupKey(plan.id, interval)));
    const existing = await stripe.prices.list({ lookup_keys: keys, active: true, expand: ['data.product'], limit: 100 });
    for (const plan of paid) {
      const [row] = await this.db.select().from(plans).where(eq(plans.id, plan.id));
      const known = existing.data.find((price) => price.lookup_key?.startsWith(`botcriptofy_${plan.id}_`));
      let productId = row?.stripeProductId ?? (typeof known?.product === 'string' ? known.product : known?.product?.id);
      let createdProduct = false;
      if (productId) {
        await stripe.products.update(productId, { name: `BotCriptoFy ${plan.name}`, metadata: { planId: plan.id } });
      } else {
        productId = (
          await stripe.products.create(
            { name: `BotCriptoFy ${plan.name}`, metadata: { planId: plan.id } },
            { idempotencyKey: `product-${plan.id}` },
          )
        ).id;
        createdProduct = true;
      }
      report.products.push({ planId: plan.id, productId, created: createdProduct });
      const priceIds: Record<Interval, string> = { month: '', year: '' };
      for (const interval of ['month', 'year'] as const) {
        const lookupKey = priceLookupKey(plan.id, interval);
        const amount = interval === 'month' ? plan.monthlyPriceCents : plan.yearlyPriceCents;
        const current = existing.data.find((price) => price.lookup_key === lookupKey);
        if (current && current.unit_amount === amount && current.currency === plan.currency) {
          priceIds[interval] = current.id;
          report.prices.push({ lookupKey, priceId: current.id, created: false });
          continue;
        }
        const price = await stripe.prices.create({
          product: productId,
          currency: plan.currency,
          unit_amount: amount,
          recurring: { interval },
          lookup_key: lookupKey,
          transfer_lookup_key: true,
          metadata: { planId: plan.id },
        });
        priceIds[interval] = price.id;
        report.prices.push({ lookupKey, priceId: price.id, created: true });
      }
      await this.db
        .update(plans)
        .set({
          stripeProductId: productId,
          stripeMonthlyPriceId: priceIds.month,
          stripeYearlyPriceId: priceIds.year,
          updatedAt: new Date(),
        })
        .where(eq(plans.id, plan.id));
    }
    return report;
  }

  private async priceId(planId: PlanId, interval: Interval): Promise<string> {
    const [row] = await this.db.select().from(plans).where(eq(plans.id, planId));
    const id = interval === 'month' ? row?.stripeMonthlyPriceId : row?.stripeYearlyPriceId;
    if (!id) throw new BillingError(`The ${PLANS[planId].name} plan has no Stripe price yet: run \`botcriptofy billing sync\`.`);
    return id;
  }

  /** The trader's Stripe customer, created on first use and linked to the tenant. */
  async ensureCustomer(scope: TenantScope): Promise<string> {
    const stripe = this.requireStripe('Creating a Stripe customer');
    const [customer] = await this.db.select().from(customers).where(eq(customers.tenantId, scope.tenantId));
    if (customer?.stripeCustomerId) return customer.stripeCustomerId;
    const [user] = await this.db.select().from(users).where(eq(users.tenantId, scope.tenantId)).limit(1);
    if (!user) throw new BillingError('This account has no user to bill.');
    const created = await stripe.customers.create(
      { email: user.email, name: user.name, metadata: { tenantId: scope.tenantId } },
      { idempotencyKey: `customer-${scope.tenantId}` },
    );
    if (customer)
      await this.db.update(customers).set({ stripeCustomerId: created.id, updatedAt: new Date() }).where(eq(customers.id, customer.id));
    else
      await this.db
        .insert(customers)
        .values({ tenantId: scope.tenantId, stripeCustomerId: created.id, email: user.email, name: user.name });
    return created.id;
  }

  /** A Stripe Checkout link to subscribe to a paid plan, with an optional free trial. */
  async checkoutLink(
    scope: TenantScope,
    request: { planId: PlanId; interval: Interval; successUrl: string; cancelUrl: string; trialDays?: number },
  ): Promise<{ url: string; sessionId: string }> {
    const stripe = this.requireStripe('A checkout link');
    if (request.planId === 'free') throw new BillingError('The Free plan needs no checkout.');
    // A second checkout would start a second subscription, billed beside the first.
    const [current] = await this.db
      .select({ planId: subscriptions.planId, status: subscriptions.status })
      .from(subscriptions)
      .where(and(eq(subscriptions.tenantId, scope.tenantId), inArray(subscriptions.status, ['active', 'trialing', 'past_due'])))
      .orderBy(desc(subscriptions.startedAt))
      .limit(1);
    if (current)
      throw new BillingError(
        `This account already has the ${PLANS[current.planId as PlanId]?.name ?? current.planId} plan (${current.status}); change or cancel it in the customer portal, not with a second checkout.`,
      );
    const customer = await this.ensureCustomer(scope);
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer,
      client_reference_id: scope.tenantId,
      line_items: [{ price: await this.priceId(request.planId, request.interval), quantity: 1 }],
      success_url: request.successUrl,
      cancel_url: request.cancelUrl,
      metadata: { tenantId: scope.tenantId },
      subscription_data: { metadata: { tenantId: scope.tenantId }, ...(request.trialDays ? { trial_period_days: request.trialDays } : {}) },
    });
    if (!session.url) throw new BillingError('Stripe returned a checkout session without a URL.');
    return { url: session.url, sessionId: session.id };
  }

  /**
   * A Stripe customer portal link, where the trader changes the card, reads invoices or cancels
   * (the webhooks mirror what they do there); the customer is created on first use.
   */
  async portalLink(scope: TenantScope, request: { returnUrl: string }): Promise<{ url: string; sessionId: string }> {
    const stripe = this.requireStripe('A customer portal link');
    const customer = await this.ensureCustomer(scope);
    const session = await stripe.billingPortal.sessions.create({ customer, return_url: request.returnUrl });
    return { url: session.url, sessionId: session.id };
  }

  private async currentStripeSubscription(scope: TenantScope) {
    const [row] = await this.db
      .select()
      .from(subscriptions)
      .where(
        and(
          eq(subscriptions.tenantId, scope.tenantId),
          isNotNull(subscriptions.stripeSubscriptionId),
          inArray(subscriptions.status, ['active', 'trialing', 'past_due']),
        ),
      )
      .orderBy(desc(subscriptions.startedAt))
      .limit(1);
    if (!row) throw new BillingError('This account has no paid subscription on Stripe; subscribe through a checkout link first.');
    return row;
  }

  /** Upgrade or downgrade between paid plans, prorated; moving to Free cancels at period end. */
  async changePlan(scope: TenantScope, target: { planId: PlanId; interval: Interval }, actor: BillingActor): Promise<void> {
    const stripe = this.requireStripe('Changing plans');
    const current = await this.currentStripeSubscription(scope);
    if (target.planId === 'free') {
      await this.cancelAtPeriodEnd(scope, actor);
      return;
    }
    const remote = await stripe.subscriptions.retrieve(current.stripeSubscriptionId!);
    const item = remote.items.data[0];
    if (!item) throw new BillingError('The Stripe subscription has no item to change.');
    const updated = await stripe.subscriptions.update(current.stripeSubscriptionId!, {
      items: [{ id: item.id, price: await this.priceId(target.planId, target.interval) }],
      proration_behavior: 'create_prorations',
      cancel_at_period_end: false,
    });
    await mirrorSubscriptionObject(this.db, updated);
    await appendAudit(this.db, {
      tenantId: scope.tenantId,
      actorKind: actor.kind,
      actorId: actor.id ?? null,
      action: 'billing.change_plan',
      outcome: 'ok',
      args: { from: current.planId, to: target.planId, interval: target.interval },
    });
  }

  async cancelAtPeriodEnd(scope: TenantScope, actor: BillingActor): Promise<void> {
    await this.#setCancelAtPeriodEnd(scope, actor, true);
  }

  /** Refunds a payment (whole or part) on Stripe; the charge.refunded webhook mirrors it. */
  async refund(
    paymentId: string,
    amountCents: number | undefined,
    reason: string,
    actor: BillingActor,
  ): Promise<{ refundId: string; amountCents: number }> {
    const stripe = this.requireStripe('A refund');
    const [payment] = await this.db.select().from(payments).where(eq(payments.id, paymentId));
    if (!payment || payment.status === 'failed') throw new BillingError(`No refundable payment ${paymentId}.`);
    const refundable = payment.amountCents - payment.refundedCents;
    const amount = amountCents ?? refundable;
    if (amount <= 0 || amount > refundable) throw new BillingError(`Can refund at most ${refundable} centavos of this payment.`);
    const target = payment.stripeChargeId?.startsWith('ch_')
      ? { charge: payment.stripeChargeId }
      : payment.stripePaymentIntentId
        ? { payment_intent: payment.stripePaymentIntentId }
        : undefined;
    if (!target) throw new BillingError('This payment has no Stripe charge to refund (it was recorded in local mode).');
    const refund = await stripe.refunds.create(
      { ...target, amount, reason: 'requested_by_customer', metadata: { note: reason } },
      { idempotencyKey: `refund-${paymentId}-${amount}-${payment.refundedCents}` },
    );
    await appendAudit(this.db, {
      tenantId: payment.tenantId,
      actorKind: actor.kind,
      actorId: actor.id ?? null,
      action: 'billing.refund',
      outcome: 'ok',
      args: { paymentId, amountCents: amount, reason },
    });
    return { refundId: refund.id, amountCents: amount };
  }

  async resume(scope: TenantScope, actor: BillingActor): Promise<void> {
    await this.#setCancelAtPeriodEnd(scope, actor, false);
  }

  /** Cancels at the end of the period paid for (true), or takes that back (false); mirrored and audited. */
  async #setCancelAtPeriodEnd(scope: TenantScope, actor: BillingActor, cancel: boolean): Promise<void> {
    const stripe = this.requireStripe(cancel ? 'Cancelling' : 'Resuming');
    const current = await this.currentStripeSubscription(scope);
    await mirrorSubscriptionObject(
      this.db,
      await stripe.subscriptions.update(current.stripeSubscriptionId!, { cancel_at_period_end: cancel }),
    );
    await appendAudit(this.db, {
      tenantId: scope.tenantId,
      actorKind: actor.kind,
      actorId: actor.id ?? null,
      action: cancel ? 'billing.cancel_at_period_end' : 'billing.resume',
      outcome: 'ok',
      args: { planId: current.planId },
    });
  }
}
