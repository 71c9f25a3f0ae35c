import { z } from 'zod';

// The parts of Stripe's objects that billing reads, validated at the webhook boundary. Both
// the older layout (period and subscription on the object) and the newer one (on subscription
// items / invoice parent and line pricing) are accepted.

const id = z.string().min(1);
const expandable = z.union([id, z.object({ id }).loose()]).transform((value) => (typeof value === 'string' ? value : value.id));
const seconds = z.number().int();

export const priceSchema = z
  .object({
    id,
    lookup_key: z.string().nullish(),
    unit_amount: z.number().int().nullish(),
    currency: z.string().default('brl'),
    recurring: z
      .object({ interval: z.enum(['day', 'week', 'month', 'year']) })
      .loose()
      .nullish(),
  })
  .loose();

export const subscriptionSchema = z
  .object({
    id,
    customer: expandable,
    status: z.enum(['trialing', 'active', 'past_due', 'unpaid', 'canceled', 'incomplete', 'incomplete_expired', 'paused']),
    cancel_at_period_end: z.boolean().default(false),
    canceled_at: seconds.nullish(),
    ended_at: seconds.nullish(),
    trial_end: seconds.nullish(),
    start_date: seconds,
    current_period_start: seconds.optional(),
    current_period_end: seconds.optional(),
    metadata: z.record(z.string(), z.string()).default({}),
    items: z.object({
      data: z
        .array(
          z
            .object({
              price: priceSchema,
              quantity: z.number().int().nullish(),
              current_period_start: seconds.optional(),
              current_period_end: seconds.optional(),
            })
            .loose(),
        )
        .min(1, { error: 'subscription has no items' }),
    }),
  })
  .loose();
export type StripeSubscription = z.infer<typeof subscriptionSchema>;

export const invoiceSchema = z
  .object({
    id,
    customer: expandable,
    number: z.string().nullish(),
    status: z.enum(['draft', 'open', 'paid', 'uncollectible', 'void']),
    currency: z.string().default('brl'),
    amount_due: z.number().int(),
    amount_paid: z.number().int(),
    attempt_count: z.number().int().default(0),
    next_payment_attempt: seconds.nullish(),
    period_start: seconds,
    period_end: seconds,
    created: seconds,
    due_date: seconds.nullish(),
    subscription: expandable.nullish(),
    payment_intent: expandable.nullish(),
    charge: expandable.nullish(),
    status_transitions: z.object({ paid_at: seconds.nullish() }).loose().default({ paid_at: null }),
    parent: z
      .object({ subscription_details: z.object({ subscription: expandable }).loose().nullish() })
      .loose()
      .nullish(),
    lines: z
      .object({
        data: z.array(
          z
            .object({
              price: priceSchema.nullish(),
              pricing: z
                .object({ price_details: z.object({ price: expandable }).loose().nullish() })
                .loose()
                .nullish(),
            })
            .loose(),
        ),
      })
      .default({ data: [] }),
  })
  .loose();
export type StripeInvoice = z.infer<typeof invoiceSchema>;

export const chargeSchema = z
  .object({
    id,
    amount: z.number().int(),
    amount_refunded: z.number().int(),
    currency: z.string().default('brl'),
    payment_intent: expandable.nullish(),
    refunds: z
      .object({ data: z.array(z.object({ id, amount: z.number().int(), created: seconds, reason: z.string().nullish() }).loose()) })
      .loose()
      .nullish(),
  })
  .loose();

export const checkoutSessionSchema = z
  .object({
    id,
    customer: expandable.nullish(),
    client_reference_id: z.string().nullish(),
    customer_details: z.object({ email: z.string().nullish(), name: z.string().nullish() }).loose().nullish(),
    metadata: z.record(z.string(), z.string()).default({}),
  })
  .loose();

export const eventSchema = z
  .object({
    id,
    type: z.string(),
    created: seconds,
    data: z.object({ object: z.record(z.string(), z.unknown()) }),
  })
  .loose();
export type StripeEvent = z.infer<typeof eventSchema>;
