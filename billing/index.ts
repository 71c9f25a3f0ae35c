export { PLANS, monthlyRecurringCents, type PlanDefinition } from './plans.ts';
export { checkBotStart, currentPlan, type Entitlement } from './entitlements.ts';
