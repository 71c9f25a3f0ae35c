export { PLANS, monthlyRecurringCents, type PlanDefinition } from './plans.ts';
