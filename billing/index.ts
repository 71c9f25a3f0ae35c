export { PLANS, monthlyRecurringCents, type PlanDefinition } from './plans.ts';
export { checkBacktestQuota, checkBotStart, currentPlan, type Entitlement } from './entitlements.ts';
export {
  amountAtRisk,
  financeSummary,
  mrrSummary,
  mrrMovements,
  mrrSnapshot,
  paymentRisk,
  refundTotals,
  revenueByPlan,
  type FinanceSummary,
  type MonthMovement,
  type MrrSnapshot,
  type MrrSummary,
  type PaymentRisk,
  type PlanRevenue,
} from './finance.ts';
export { parsePriceLookupKey, priceLookupKey } from './plans.ts';
export { createStripeClient, type StripeClientOptions } from './stripe-client.ts';
export { receiveStripeWebhook, webhookTestHooks, type WebhookResult } from './webhooks.ts';
export { BillingError, BillingService, StripeNotConfiguredError, type CatalogSyncReport } from './service.ts';
export { mirrorSubscriptionObject } from './mirror-helpers.ts';
export { formatBrlCents } from './format.ts';
export { downgradeToFree, mirroredMrr, paymentFailedKey, queuePaymentFailedNotices, type PaymentFailedPayload } from './dunning.ts';
