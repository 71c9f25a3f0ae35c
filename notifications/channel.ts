import type { Database, Department } from '../db/index.ts';
import type { Locale } from '../i18n/index.ts';
import type { RenderedMessage } from './templates.ts';

// A channel is how notifications reach people: Telegram today (telegram/outbox), the web
// events stream and e-mail later. The outbox (./outbox.ts) owns the protocol — claiming,
// leases, retries, digests, preferences, fan-out, the delivery journal — and hands each
// message to the channel it was built with; the channel owns addresses, sending, its own
// pace and what its errors mean.

let queuedFor: readonly [string, ...string[]] = ['telegram'];

/**
 * The channels every notification is queued for, one outbox row each: each channel's outbox
 * claims only its own rows, so one channel's outage or pace never holds another's. Telegram is
 * the only one today (the web events stream reads the rows as they are written and needs none
 * of its own); a process that delivers e-mail too sets both with setDeliveryChannels at start.
 */
export function deliveryChannels(): readonly [string, ...string[]] {
  return queuedFor;
}

/** Replaces the channels notifications are queued for (every process of a deployment sets the same); returns the undo. */
export function setDeliveryChannels(names: readonly [string, ...string[]]): () => void {
  const before = queuedFor;
  queuedFor = [...names];
  return () => {
    queuedFor = before;
  };
}

/** One outbox row as a sender holds it (see NotificationOutbox.claim). */
export interface ClaimedNotification {
  readonly id: string;
  readonly tenantId: string;
  readonly recipientUserId: string | null;
  readonly recipientDepartment: Department | null;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly dedupeKey: string | null;
  readonly attempts: number;
  /** The lease as the database wrote it: every later write of this sender is fenced on it. */
  readonly claimToken: string;
  /** An earlier holder's lease ran out without an outcome (it died, or the database was away): the journal may know it was sent. */
  readonly lapsed: boolean;
}

/** What goes out: the templates' text (HTML subset, optional buttons), or a picture with a caption. */
export type OutgoingNotification =
  | { readonly kind: 'text'; readonly message: RenderedMessage }
  | { readonly kind: 'photo'; readonly png: Buffer; readonly caption: string };

export interface SendContext {
  /** The reader's preference is `silent`: no sound. */
  readonly silent: boolean;
  /** The send must be under way by then (the lease must cover the request), or it is given up as `released`. */
  readonly deadline: number;
  /** The outbox is stopping. */
  readonly signal: AbortSignal;
}

/**
 * What a failed send means, in the outbox's terms:
 * - `released`: it never left (no sending slot before the deadline, or the outbox is
 *   stopping); the row goes back for the next claim, after `retryInMs` when given.
 * - `rate_limited`: the channel said "slow down"; sent again after `retryAfterS`.
 * - `permanent`: refused for good (blocked, no such chat, malformed); the row fails.
 * - `transient`: the channel or the network is down, 5xx, a timeout; retried with backoff.
 *   `outage`: the whole channel looks unreachable (everything pauses); `maybeDelivered`: it
 *   may have been accepted before the failure (the retry may deliver it twice).
 */
export type DeliveryFailure =
  | { readonly kind: 'released'; readonly retryInMs?: number | undefined }
  | { readonly kind: 'rate_limited'; readonly retryAfterS: number; readonly global: boolean; readonly description: string }
  | { readonly kind: 'permanent'; readonly code: number; readonly description: string }
  | { readonly kind: 'transient'; readonly outage: boolean; readonly maybeDelivered: boolean; readonly description: string };

export interface NotificationChannel<Address = unknown> {
  /** Lower-case name: prefixes the outbox's metrics (`<name>_notifications_total`, …) and logs. */
  readonly name: string;
  /** For people: "Telegram". */
  readonly label: string;
  /** Messages per second the channel allows overall and per reader (the outbox sizes its claims from them). */
  readonly ratePerS: number;
  readonly perReaderRatePerS: number;
  /** The longest one send can take (its request timeout): a lease must outlast it. */
  readonly maxCallMs: number;
  /** Sends waiting for a slot right now. */
  readonly waiting: number;
  /** Everything is paused until then (ms on the channel's clock; 0 = not paused). */
  readonly pausedUntil: number;
  /** The channel's clock (the one `deadline` and `pausedUntil` are on). */
  now(): number;
  /** Pauses every send until then (the channel looks down). */
  pauseAll(untilMs: number): void;
  /** Where each of these people is reached (absent: not reachable on this channel). */
  addresses(db: Database, userIds: readonly string[]): Promise<Map<string, Address>>;
  /** Why rows are skipped for want of an address. */
  readonly unreachable: { readonly person: string; department(department: string): string };
  /**
   * A row the channel draws itself (a chart, as a picture); undefined for the templates' text.
   * May throw InvalidNotificationError: the row then fails with its message.
   */
  prepare?(
    row: ClaimedNotification,
    context: { readonly db: Database; readonly locale: Locale },
  ): Promise<OutgoingNotification | undefined>;
  /** Sends one message; resolves with the channel's message id once it was accepted. */
  send(address: Address, outgoing: OutgoingNotification, context: SendContext): Promise<{ readonly messageId: number }>;
  /** What a failed send means; undefined when the error is not a delivery failure (it is rethrown). */
  classify(error: unknown): DeliveryFailure | undefined;
}

const channels = new Map<string, NotificationChannel<never>>();

/**
 * Makes a channel known to this process (what `registeredChannels` lists, e.g. for status
 * pages); a second channel of the same name replaces the first. Returns the undo.
 */
export function registerChannel<Address>(channel: NotificationChannel<Address>): () => void {
  const known = channel as unknown as NotificationChannel<never>;
  channels.set(channel.name, known);
  return () => {
    if (channels.get(channel.name) === known) channels.delete(channel.name);
  };
}

/** The channels registered in this process, by name. */
export function registeredChannels(): ReadonlyMap<string, NotificationChannel<never>> {
  return channels;
}
