export { PLANS, monthlyRecurringCents, type PlanDefinition } from './plans.ts';
export { checkBacktestQuota, checkBotStart, currentPlan, currentSubscription, type Entitlement } from './entitlements.ts';
export { customerBilling, type CustomerBilling } from './customer.ts';
export {
  amountAtRisk,
  arpuCents,
  arrCents,
  calendarMonths,
  customerChurnPct,
  DAY_MS,
  FINANCE_FIGURES,
  FINANCE_WINDOWS,
  financeFigures,
  financeSummary,
  lastDays,
  ltvCents,
  monthlyChurnPct,
  mrrAt,
  mrrMovements,
  netNewMrrCents,
  paymentRisk,
  refundTotals,
  revenueByPlan,
  revenueChurnPct,
  revenueMonths,
  type FigureDefinition,
  type FinanceFigures,
  type FinanceSummary,
  type MonthMovement,
  type MrrMovement,
  type MrrSnapshot,
  type PaymentRisk,
  type PlanRevenue,
  type RevenueMonth,
  type Window,
} from './figures.ts';
export { parsePriceLookupKey, priceLookupKey } from './plans.ts';
export { createStripeClient, describeStripeFailure, type StripeClientOptions } from './stripe-client.ts';
export { receiveStripeWebhook, webhookTestHooks } from './stripe-mirror.ts';
export type { WebhookResult } from './webhook-protocol.ts';
export { BillingError, BillingService, StripeNotConfiguredError, type CatalogSyncReport } from './service.ts';
export { mirrorSubscriptionObject } from './mirror-helpers.ts';
export { formatBrlCents } from './format.ts';
export {
  downgradeToFree,
  failedInvoicesWithoutRun,
  getInvoice,
  mirroredMrr,
  paymentFailedKey,
  queuePaymentFailedNotices,
  type PaymentFailedPayload,
} from './dunning.ts';
