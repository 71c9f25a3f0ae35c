import { eq, sql, type SQL } from 'drizzle-orm';
import type Stripe from 'stripe';
import { queryRows, webhookEvents, type Database } from '../db/index.ts';
import { eventSchema, type StripeEvent } from './stripe-objects.ts';

/**
 * The webhook protocol, whatever the events mean: verify the signature, claim the event id
 * once (together with its effects), dispatch it to its handler, and answer Stripe (200, or
 * 400 for a bad signature, or 500 so it retries). What each event does to the mirror is
 * billing/stripe-mirror.ts.
 */
export interface WebhookResult {
  readonly status: 200 | 400 | 500;
  readonly body: { readonly received: boolean; readonly duplicate?: boolean; readonly ignored?: boolean; readonly error?: string };
}

/** Seconds Stripe's signature timestamp may be off (the SDK's default). */
const TOLERANCE_S = 300;
export const at = (secondsSinceEpoch: number | null | undefined) => (secondsSinceEpoch == null ? null : new Date(secondsSinceEpoch * 1000));

/**
 * One delivery: the signature checked by the SDK (400 if it fails), then the event's handler
 * from `handlers` (an event type without one is stored once and acknowledged). A handler
 * claims the event id with its effects, so a replay answers 200 and changes nothing; a
 * handler that throws leaves nothing of the event but a `failed` row and answers 500.
 */
export async function receiveWebhook(
  db: Database,
  stripe: Stripe,
  delivery: { rawBody: string; signature: string | undefined; secret: string },
  handlers: Readonly<Record<string, Handler>>,
): Promise<WebhookResult> {
  let event: StripeEvent;
  try {
    if (!delivery.signature) throw new Error('missing Stripe-Signature header');
    const verified = stripe.webhooks.constructEvent(delivery.rawBody, delivery.signature, delivery.secret, TOLERANCE_S);
    event = eventSchema.parse(verified);
  } catch (error) {
    return { status: 400, body: { received: false, error: `Webhook rejected: ${(error as Error).message}` } };
  }
  try {
    // The verified body is the event's JSON: stored as it came, not serialised again.
    const outcome = await (handlers[event.type] ?? ignoreEvent)(db, { event, payload: delivery.rawBody });
    if (outcome === 'duplicate') return { status: 200, body: { received: true, duplicate: true } };
    return { status: 200, body: { received: true, ...(outcome === 'ignored' ? { ignored: true } : {}) } };
  } catch (error) {
    // Nothing of the event was kept; note the failure (outside the rolled-back work) so
    // operators see it, and let Stripe retry.
    const message = (error as Error).message;
    await db
      .insert(webhookEvents)
      .values({ id: event.id, type: event.type, providerCreatedAt: at(event.created)!, payload: event, status: 'failed', error: message })
      .onConflictDoUpdate({
        target: webhookEvents.id,
        set: { status: 'failed', error: message, attempts: sql`${webhookEvents.attempts} + 1` },
        setWhere: eq(webhookEvents.status, 'failed'),
      })
      .catch(() => {});
    return { status: 500, body: { received: false, error: `Handler failed, Stripe will retry: ${message}` } };
  }
}

export interface Received {
  readonly event: StripeEvent;
  /** The event's JSON as delivered (what `webhook_events.payload` keeps). */
  readonly payload: string;
}

export type Outcome = 'processed' | 'duplicate' | 'ignored';

/**
 * Applies one event and claims its id atomically with the effects: in a single statement
 * (atomic by itself), or in a transaction that claims first.
 */
export type Handler = (db: Database, received: Received) => Promise<Outcome>;

/**
 * The claim of an event id (when `onlyIf` holds): a new row, or the row of an earlier failed
 * attempt. A processed event claims nothing, and a concurrent delivery of the same event waits
 * on the row until the first one commits or rolls back. Returns the id when claimed.
 */
export function claimEvent({ event, payload }: Received, status: 'processed' | 'ignored', onlyIf?: SQL): SQL {
  return sql`insert into webhook_events (id, type, provider_created_at, payload, status, processed_at)
    select ${event.id}, ${event.type}, ${at(event.created)!.toISOString()}::timestamptz, ${payload}::jsonb, ${status}::webhook_event_status, now()
    ${onlyIf ? sql`where ${onlyIf}` : sql``}
    on conflict (id) do update set attempts = webhook_events.attempts + 1, status = excluded.status, error = null, processed_at = excluded.processed_at
    where webhook_events.status = 'failed'
    returning id`;
}

/** An event type nothing reacts to: stored (once) and acknowledged. */
export const ignoreEvent: Handler = async (db, received) =>
  (await queryRows(db, claimEvent(received, 'ignored'))).length > 0 ? 'ignored' : 'duplicate';

/** A handler of several statements: the claim and its effects in one transaction. */
export function inTransaction(apply: (tx: Database, event: StripeEvent) => Promise<void>): Handler {
  return (db, received) =>
    db.transaction(async (tx) => {
      if ((await queryRows(tx, claimEvent(received, 'processed'))).length === 0) return 'duplicate';
      await apply(tx, received.event);
      return 'processed';
    });
}
