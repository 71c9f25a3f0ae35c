import type { PlanId, PlanLimits } from '../db/index.ts';

export interface PlanDefinition {
  readonly id: PlanId;
  readonly name: string;
  readonly currency: 'brl';
  /** Price of one month, in centavos (BRL cents). */
  readonly monthlyPriceCents: number;
  /** Price of one year paid up front, in centavos; two months free against monthly. */
  readonly yearlyPriceCents: number;
  readonly limits: PlanLimits;
}

/** The plans, defined once; the database and Stripe mirror this list. */
export const PLANS: Readonly<Record<PlanId, PlanDefinition>> = {
  free: {
    id: 'free',
    name: 'Free',
    currency: 'brl',
    monthlyPriceCents: 0,
    yearlyPriceCents: 0,
    limits: { botsAllowed: 1, liveTradingAllowed: false, backtestsPerDay: 5, symbolsPerBot: 1, agentAccess: 'support' },
  },
  pro: {
    id: 'pro',
    name: 'Pro',
    currency: 'brl',
    monthlyPriceCents: 9_990,
    yearlyPriceCents: 99_900,
    limits: { botsAllowed: 5, liveTradingAllowed: true, backtestsPerDay: 50, symbolsPerBot: 4, agentAccess: 'all' },
  },
  enterprise: {
    id: 'enterprise',
    name: 'Enterprise',
    currency: 'brl',
    monthlyPriceCents: 49_990,
    yearlyPriceCents: 499_900,
    limits: { botsAllowed: 50, liveTradingAllowed: true, backtestsPerDay: 1_000, symbolsPerBot: 20, agentAccess: 'all' },
  },
};

/** Monthly recurring revenue of one subscription, in centavos (yearly prices spread over 12 months, rounded). */
export function monthlyRecurringCents(amountCents: number, interval: 'month' | 'year'): number {
  return interval === 'year' ? Math.round(amountCents / 12) : amountCents;
}

/** Stripe price lookup key of a plan and interval: how `billing sync` finds its own prices. */
export function priceLookupKey(planId: string, interval: 'month' | 'year'): string {
  return `botcriptofy_${planId}_${interval}`;
}

/** The plan and interval a lookup key names, if it is one of ours. */
export function parsePriceLookupKey(
  key: string | null | undefined,
): { planId: keyof typeof PLANS; interval: 'month' | 'year' } | undefined {
  const match = /^botcriptofy_(free|pro|enterprise)_(month|year)$/.exec(key ?? '');
  return match ? { planId: match[1] as keyof typeof PLANS, interval: match[2] as 'month' | 'year' } : undefined;
}
