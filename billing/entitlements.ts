import { and, desc, eq, gte, inArray, ne, sql } from 'drizzle-orm';
import { backtests, bots, subscriptions, type Database, type PlanId, type TenantScope } from '../db/index.ts';
import { PLANS, type PlanDefinition } from './plans.ts';

/** Subscriptions that still grant their plan (past_due keeps access while Stripe retries). */
const GRANTING = ['active', 'trialing', 'past_due'] as const;

/**
 * The query behind currentSubscription, built once per database handle (asked on every GET /me
 * and plan check), for the columns its callers read: each column more is decoded on every call.
 */
const currentSubscriptionQuery = (db: Database) =>
  db
    .select({
      planId: subscriptions.planId,
      status: subscriptions.status,
      amountCents: subscriptions.amountCents,
      interval: subscriptions.interval,
      currentPeriodEnd: subscriptions.currentPeriodEnd,
      cancelAtPeriodEnd: subscriptions.cancelAtPeriodEnd,
    })
    .from(subscriptions)
    .where(and(eq(subscriptions.tenantId, sql.placeholder('tenantId')), inArray(subscriptions.status, [...GRANTING])))
    .orderBy(desc(subscriptions.startedAt))
    .limit(1)
    .prepare('current_subscription');
const currentSubscriptionQueries = new WeakMap<Database, ReturnType<typeof currentSubscriptionQuery>>();

/** What currentSubscription reads of the subscription. */
export type CurrentSubscription = Pick<
  typeof subscriptions.$inferSelect,
  'planId' | 'status' | 'amountCents' | 'interval' | 'currentPeriodEnd' | 'cancelAtPeriodEnd'
>;

/** The tenant's newest subscription that still grants its plan, if any, and that plan (Free without one). */
export async function currentSubscription(
  db: Database,
  scope: TenantScope,
): Promise<{ readonly plan: PlanDefinition; readonly subscription: CurrentSubscription | undefined }> {
  let query = currentSubscriptionQueries.get(db);
  if (!query) {
    query = currentSubscriptionQuery(db);
    currentSubscriptionQueries.set(db, query);
  }
  const [subscription] = await query.execute({ tenantId: scope.tenantId });
  return { plan: PLANS[(subscription?.planId ?? 'free') as PlanId], subscription };
}

/** The plan a tenant holds now; Free when it has no granting subscription. */
export async function currentPlan(db: Database, scope: TenantScope): Promise<PlanDefinition> {
  return (await currentSubscription(db, scope)).plan;
}

export type Entitlement = { readonly allowed: true } | { readonly allowed: false; readonly reason: string; readonly upgradeTo?: PlanId };

function upgradeFor(plan: PlanDefinition, need: (candidate: PlanDefinition) => boolean): PlanId | undefined {
  const order: PlanId[] = ['free', 'pro', 'enterprise'];
  return order.slice(order.indexOf(plan.id) + 1).find((id) => need(PLANS[id]));
}

/** May this bot start running? Counts the tenant's other running bots against the plan. */
export async function checkBotStart(
  db: Database,
  scope: TenantScope,
  bot: { readonly id: string; readonly mode: 'paper' | 'live'; readonly symbols: readonly string[] },
): Promise<Entitlement> {
  const plan = await currentPlan(db, scope);
  if (bot.mode === 'live' && !plan.limits.liveTradingAllowed) {
    const upgradeTo = upgradeFor(plan, (p) => p.limits.liveTradingAllowed);
    return {
      allowed: false,
      reason: `Live trading is not included in the ${plan.name} plan; upgrade to ${upgradeTo ? PLANS[upgradeTo].name : 'a paid plan'} to trade live.`,
      ...(upgradeTo ? { upgradeTo } : {}),
    };
  }
  if (bot.symbols.length > plan.limits.symbolsPerBot) {
    const upgradeTo = upgradeFor(plan, (p) => p.limits.symbolsPerBot >= bot.symbols.length);
    return {
      allowed: false,
      reason: `The ${plan.name} plan allows ${plan.limits.symbolsPerBot} symbol(s) per bot; this bot has ${bot.symbols.length}.`,
      ...(upgradeTo ? { upgradeTo } : {}),
    };
  }
  const running = await db.$count(bots, and(eq(bots.tenantId, scope.tenantId), eq(bots.status, 'running'), ne(bots.id, bot.id)));
  if (running >= plan.limits.botsAllowed) {
    const upgradeTo = upgradeFor(plan, (p) => p.limits.botsAllowed > running);
    return {
      allowed: false,
      reason: `The ${plan.name} plan allows ${plan.limits.botsAllowed} running bot(s) and ${running} already run${upgradeTo ? `; upgrade to ${PLANS[upgradeTo].name} for more` : ''}.`,
      ...(upgradeTo ? { upgradeTo } : {}),
    };
  }
  return { allowed: true };
}

/** May the tenant run another backtest today (UTC day)? */
export async function checkBacktestQuota(db: Database, scope: TenantScope, now: Date = new Date()): Promise<Entitlement> {
  const plan = await currentPlan(db, scope);
  const startOfDay = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const today = await db.$count(backtests, and(eq(backtests.tenantId, scope.tenantId), gte(backtests.createdAt, startOfDay)));
  if (today < plan.limits.backtestsPerDay) return { allowed: true };
  const upgradeTo = upgradeFor(plan, (p) => p.limits.backtestsPerDay > today);
  return {
    allowed: false,
    reason: `The ${plan.name} plan allows ${plan.limits.backtestsPerDay} backtests a day and ${today} ran today${upgradeTo ? `; upgrade to ${PLANS[upgradeTo].name} for more` : ''}.`,
    ...(upgradeTo ? { upgradeTo } : {}),
  };
}
