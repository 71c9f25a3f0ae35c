import type { Database } from '../db/index.ts';
import { subscriptionSchema } from './stripe-objects.ts';
import { mirrorSubscription } from './stripe-mirror.ts';

/** Mirrors a Stripe subscription object as of now: what an API call just returned. */
export async function mirrorSubscriptionObject(db: Database, object: unknown): Promise<void> {
  const sub = subscriptionSchema.parse(object);
  await db.transaction((tx) => mirrorSubscription(tx, sub, new Date()));
}
