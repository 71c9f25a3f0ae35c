import type * as schema from '../db/index.ts';
import type { PlanId } from '../db/index.ts';
import { PLANS, monthlyRecurringCents } from '../billing/index.ts';
import { DAY, addMonths, type Generation, type Insert } from './generation.ts';

/**
 * Month-by-month life of one customer: subscriptions, their changes, invoices, payments and
 * refunds; returns the plan held at `asOf`. `invoices.number` is the last invoice number used
 * (invoices are numbered across every customer).
 */
export function simulateBilling(g: Generation, invoices: { number: number }, tenantId: string, customerId: string, signup: Date): PlanId {
  const { rng, asOf, data } = g;
  let planId: PlanId = rng.weighted([
    ['free', 50],
    ['pro', 38],
    ['enterprise', 12],
  ] as const);
  let interval: 'month' | 'year' = planId !== 'free' && rng.chance(0.2) ? 'year' : 'month';
  let subscriptionId = rng.uuid();
  let startedAt = signup;
  let periodStart = signup;
  const trial = planId === 'pro' && asOf - signup.getTime() < 14 * DAY && rng.chance(0.6);
  const price = (p: PlanId, i: 'month' | 'year') => (i === 'year' ? PLANS[p].yearlyPriceCents : PLANS[p].monthlyPriceCents);
  const mrr = (p: PlanId, i: 'month' | 'year') => monthlyRecurringCents(price(p, i), i);
  const openSubscription = (at: Date) => {
    subscriptionId = rng.uuid();
    startedAt = at;
    periodStart = at;
    data.subscriptionChanges.push({
      id: rng.uuid(),
      tenantId,
      subscriptionId,
      kind: 'created',
      fromPlanId: null,
      toPlanId: planId,
      // A trial brings no revenue until it converts.
      mrrBeforeCents: 0,
      mrrAfterCents: trial ? 0 : mrr(planId, interval),
      occurredAt: at,
    });
  };
  openSubscription(signup);
  const push = (
    status: (typeof schema.subscriptionStatuses)[number],
    periodEnd: Date,
    extra: Partial<Insert<typeof schema.subscriptions>> = {},
  ) => {
    data.subscriptions.push({
      id: subscriptionId,
      tenantId,
      customerId,
      planId,
      interval,
      status,
      amountCents: price(planId, interval),
      currentPeriodStart: periodStart,
      currentPeriodEnd: periodEnd,
      startedAt,
      createdAt: startedAt,
      updatedAt: new Date(Math.min(asOf, periodStart.getTime())),
      ...extra,
    });
  };
  if (trial) {
    push('trialing', new Date(signup.getTime() + 14 * DAY), { trialEnd: new Date(signup.getTime() + 14 * DAY) });
    return planId;
  }
  for (;;) {
    const periodEnd = addMonths(periodStart, interval === 'year' ? 12 : 1);
    let endStatus: 'canceled' | null = null;
    if (planId !== 'free') {
      const amount = price(planId, interval);
      const invoiceId = rng.uuid();
      const failed = rng.chance(0.07);
      const recovered = failed && rng.chance(0.6);
      const paid = !failed || recovered;
      // Stripe retries for up to 3 weeks; until then the invoice stays open and the subscription past_due.
      const open = failed && !recovered && asOf - periodStart.getTime() < 21 * DAY;
      const paidAt = paid ? new Date(periodStart.getTime() + (recovered ? rng.int(3, 7) * DAY : rng.int(1, 60) * 60_000)) : null;
      data.invoices.push({
        id: invoiceId,
        tenantId,
        customerId,
        subscriptionId,
        planId,
        number: `BCF-${++invoices.number}`,
        status: paid ? 'paid' : open ? 'open' : 'uncollectible',
        amountDueCents: amount,
        amountPaidCents: paid ? amount : 0,
        periodStart,
        periodEnd,
        dueAt: periodStart,
        paidAt,
        attemptCount: failed ? (recovered ? 2 : 4) : 1,
        nextPaymentAttemptAt: open ? new Date(asOf + 2 * DAY) : null,
        createdAt: periodStart,
        updatedAt: paidAt ?? periodStart,
      });
      if (failed) {
        data.payments.push({
          id: rng.uuid(),
          tenantId,
          invoiceId,
          status: 'failed',
          amountCents: amount,
          failureCode: rng.pick(['card_declined', 'insufficient_funds', 'expired_card']),
          failureMessage: 'Pagamento recusado pelo emissor',
          createdAt: new Date(periodStart.getTime() + 60_000),
        });
      }
      if (paid && paidAt) {
        const paymentId = rng.uuid();
        const refunded = rng.chance(0.015);
        data.payments.push({
          id: paymentId,
          tenantId,
          invoiceId,
          status: refunded ? 'refunded' : 'succeeded',
          amountCents: amount,
          refundedCents: refunded ? amount : 0,
          createdAt: paidAt,
          updatedAt: paidAt,
        });
        if (refunded) {
          data.refunds.push({
            id: rng.uuid(),
            tenantId,
            paymentId,
            amountCents: amount,
            reason: 'requested_by_customer',
            createdAt: new Date(paidAt.getTime() + rng.int(1, 6) * DAY),
          });
        }
      }
      if (!paid && !open) endStatus = 'canceled';
      if (!paid && open) {
        push('past_due', periodEnd);
        return planId;
      }
    }
    if (periodEnd.getTime() > asOf) {
      if (endStatus === null) {
        const cancelAtPeriodEnd = planId !== 'free' && rng.chance(0.05);
        push('active', periodEnd, { cancelAtPeriodEnd });
        return planId;
      }
    }
    // What happens at the end of this period.
    const roll = rng.next();
    const voluntaryChurn = planId !== 'free' && roll < 0.03;
    if (endStatus === 'canceled' || voluntaryChurn || periodEnd.getTime() > asOf) {
      const endedAt = endStatus === 'canceled' ? new Date(periodStart.getTime() + 21 * DAY) : periodEnd;
      if (endedAt.getTime() > asOf) {
        // Still within the period (or Stripe's retries): the subscription has not ended yet.
        push(endStatus === 'canceled' ? 'past_due' : 'active', periodEnd, { cancelAtPeriodEnd: endStatus !== 'canceled' });
        return planId;
      }
      push('canceled', periodEnd, { canceledAt: endedAt, endedAt, updatedAt: endedAt });
      data.subscriptionChanges.push({
        id: rng.uuid(),
        tenantId,
        subscriptionId,
        kind: 'canceled',
        fromPlanId: planId,
        toPlanId: null,
        mrrBeforeCents: mrr(planId, interval),
        mrrAfterCents: 0,
        occurredAt: endedAt,
      });
      planId = 'free';
      interval = 'month';
      openSubscription(endedAt);
      continue;
    }
    const change = rng.next();
    const upgrade = (planId === 'free' && change < 0.05) || (planId === 'pro' && change < 0.015);
    const downgrade = planId === 'enterprise' && change < 0.03;
    if ((upgrade || downgrade) && interval === 'month') {
      const from = planId;
      planId = upgrade ? (planId === 'free' ? 'pro' : 'enterprise') : 'pro';
      data.subscriptionChanges.push({
        id: rng.uuid(),
        tenantId,
        subscriptionId,
        kind: upgrade ? 'upgraded' : 'downgraded',
        fromPlanId: from,
        toPlanId: planId,
        mrrBeforeCents: mrr(from, interval),
        mrrAfterCents: mrr(planId, interval),
        occurredAt: periodEnd,
      });
    }
    periodStart = periodEnd;
  }
}
