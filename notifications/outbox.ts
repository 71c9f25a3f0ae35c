import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock/index.ts';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  notificationPreferences,
  notifications,
  queryRows,
  staff,
  users,
  type Database,
  type Department,
  type NotificationLevel,
} from '../db/index.ts';
import type { ClaimedNotification, NotificationChannel, OutgoingNotification } from './channel.ts';
import type { Delivery, DeliveryJournal } from './delivery-journal.ts';
import { levelFor } from './preferences.ts';
import {
  InvalidNotificationError,
  renderDigest,
  renderNotification,
  streamOnlyTypes,
  undigestibleTypes,
  type RenderedMessage,
} from './templates.ts';
import type { Locale } from '../i18n/index.ts';

export type { ClaimedNotification } from './channel.ts';

export interface NotificationOutboxOptions {
  readonly db: Database;
  /** Where the messages go (Telegram: telegram/outbox's TelegramChannel). */
  // biome-ignore lint/suspicious/noExplicitAny: the outbox hands a channel back only the addresses it gave (any address type plugs in)
  readonly channel: NotificationChannel<any>;
  /** Rows held at once by this sender (claimed, waiting for a slot or in flight). Default: 10 s of the global rate, at least 10. */
  readonly batchSize?: number;
  /** Rows of one recipient claimed at once. Default: 5 s of the per-chat rate, at least 1. */
  readonly perRecipient?: number;
  /**
   * A backlog for one reader goes out as one digest message (Telegram lets a bot send one
   * message a second to a chat): from this many of their rows claimed at once (default 3),
   * at most `max` rows per claim (default 30). Approvals, charts and reports always go alone.
   * `false`: every row is its own message.
   */
  readonly digest?: { readonly after?: number; readonly max?: number } | false;
  /** How long a claim keeps other senders off a row. Default 60 s. */
  readonly leaseMs?: number;
  /** Margin kept between the end of a send (request timeout included) and the end of the lease. Default 2 s. */
  readonly leaseSafetyMs?: number;
  /** How often an idle sender looks for due rows. Default 1 s. */
  readonly pollIntervalMs?: number;
  /** Retry delays after a failed send: base × 2^(attempt−1), ±20 % jitter, capped. */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** The channel unreachable: everything waits this long, doubling per consecutive outage, capped. */
  readonly outagePause?: { readonly baseMs?: number; readonly maxMs?: number };
  readonly logger?: Logger;
  /** Registers <channel>_notifications_total{type,outcome}, <channel>_rate_limited_total and the backlog and digest gauges here. */
  readonly metricsRegistry?: Registry;
  /**
   * Time for leases, retries and polling (tests give the limiter and the outbox the same
   * ManualClock). Lease and retry instants are written from it, not from the database's now().
   */
  readonly clock?: Clock;
  /**
   * Where "the channel accepted message M for row R" is written before the database is told,
   * so a database outage at that moment cannot make the row go out again (Redis when the
   * deployment has it, a file otherwise). Without one, such a row is sent again after its lease.
   */
  readonly journal?: DeliveryJournal;
  /** A different message for some rows (the bot's own approval keyboards, say); undefined = the templates. */
  readonly render?: (row: ClaimedNotification, locale: Locale) => RenderedMessage | undefined;
}

export type Outcome =
  | 'sent'
  | 'skipped'
  | 'failed'
  | 'retry'
  | 'rate_limited'
  | 'released'
  | 'fanned_out'
  | 'lease_lost'
  | 'journaled'
  | 'reconciled';

export interface OutboxReport {
  claimed: number;
  sent: number;
  skipped: number;
  failed: number;
  retry: number;
  rateLimited: number;
  released: number;
  fannedOut: number;
  leaseLost: number;
  /** Rows that went out inside a digest message (counted in `sent` too). */
  digested: number;
  /** Accepted by the channel while the database could not record it: kept in the journal, recorded when the database is back. */
  journaled: number;
  /** Rows recorded as sent from the journal (by this sender's own retry, or found when a lapsed row was claimed): not sent again. */
  reconciled: number;
  /** Failed sends the channel may have accepted all the same (retried: the one way to send twice). */
  maybeDelivered: number;
}

const emptyReport = (): OutboxReport => ({
  claimed: 0,
  sent: 0,
  skipped: 0,
  failed: 0,
  retry: 0,
  rateLimited: 0,
  released: 0,
  fannedOut: 0,
  leaseLost: 0,
  digested: 0,
  journaled: 0,
  reconciled: 0,
  maybeDelivered: 0,
});
const reportKey: Record<Outcome, keyof OutboxReport> = {
  sent: 'sent',
  skipped: 'skipped',
  failed: 'failed',
  retry: 'retry',
  rate_limited: 'rateLimited',
  released: 'released',
  fanned_out: 'fannedOut',
  lease_lost: 'leaseLost',
  journaled: 'journaled',
  reconciled: 'reconciled',
};

interface DigestPart {
  readonly row: ClaimedNotification;
  readonly message: RenderedMessage;
  readonly silent: boolean;
}

interface Digest {
  readonly recipient: Recipient & { readonly address: unknown };
  readonly parts: readonly DigestPart[];
}

interface Recipient {
  /** Where the channel reaches them; null: not reachable on it. */
  readonly address: unknown;
  readonly locale: Locale;
  readonly active: boolean;
  readonly levels: Map<string, NotificationLevel>;
}

/**
 * Delivers the `notifications` outbox through one channel (Telegram: telegram/outbox's
 * OutboxSender). Below, "Telegram" stands for the channel; its name prefixes the metrics.
 *
 * **Claiming.** A sender takes due rows (pending, `nextAttemptAt` passed, no live lease) by
 * setting `claimedUntil = (this sender's) now + lease` in one statement (`for update skip locked`, the
 * conditions checked on the locked row), at most `perRecipient` rows per person (up to the
 * digest's `max` of the types a digest can carry) and none for a person whose rows another
 * sender holds. A person with `digest.after` or more of those rows at once gets them as one
 * digest message. Every later write of that row (sent, failed,
 * retry, release) is fenced on the exact `claimedUntil` it wrote, so a sender that lost its
 * lease can never overwrite the row. A slot is only taken while the lease still covers the
 * whole request (its timeout included) plus a margin; otherwise the row is released for
 * the next claim. Several senders (processes, machines) therefore never send the same row.
 * Lease and retry instants are this sender's clock (so a test can move it), not the
 * database's: senders on machines whose clocks differ by less than `leaseSafetyMs` still
 * never overlap, since a sender stops taking slots that much before its lease ends.
 *
 * **Never lost.** Rows leave `pending` only as sent, skipped (preference off, no linked
 * chat) or failed (Telegram refused the message for good: 403, 400; or an invalid payload).
 * Telegram down, 5xx, timeouts: the row stays pending with `attempts`, `lastError` and an
 * exponential `nextAttemptAt`, for as long as it takes. A sender that dies leaves its rows
 * to be claimed again when their lease ends.
 *
 * **Twice only where Telegram's answer is lost.** The moment Telegram's answer arrives the
 * sender writes it to the delivery journal (Redis, or an fsynced file without Redis), then
 * marks the row sent by a single-row UPDATE. When the database cannot take that UPDATE
 * (crashed, restarting, failing over), the delivery stays in the journal: this sender writes
 * it to the row as soon as the database answers again, and any sender that claims the row
 * after its lease ran out (`lapsed`) finds it in the journal and records it instead of
 * sending. The journal is written while the lease still has at least `leaseSafetyMs` to run,
 * so no other sender can have claimed the row yet. A message can therefore reach a person
 * twice in exactly two ways, both at-least-once rather than lost: (1) the request failed
 * after Telegram may have accepted it — a timeout, a connection cut mid-request — and is
 * retried (counted in `telegram_outbox_maybe_delivered_total`); (2) the sending process died
 * between Telegram's answer and the journal write (a few milliseconds), or the journal and
 * the database were both unreachable at that moment. A graceful stop finishes every request
 * in flight and records it before returning, so restarts and deploys open neither.
 */
export class NotificationOutbox {
  private readonly db: Database;
  // biome-ignore lint/suspicious/noExplicitAny: as above, the address type is the channel's own
  private readonly channel: NotificationChannel<any>;
  private readonly batchSize: number;
  private readonly perRecipient: number;
  private readonly digestAfter: number;
  private readonly digestMax: number;
  private readonly leaseMs: number;
  private readonly leaseSafetyMs: number;
  private readonly pollIntervalMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly outageBaseMs: number;
  private readonly outageMaxMs: number;
  private readonly logger: Logger | undefined;
  private readonly renderOverride: NotificationOutboxOptions['render'];
  private readonly clock: Clock;
  private readonly journal: DeliveryJournal | undefined;
  /** Journaled deliveries the database has not taken yet (retried before each claim). */
  private readonly unrecorded = new Map<string, Delivery>();
  private leftoversLoaded = false;
  private readonly counters:
    | {
        outcomes: Counter<'type' | 'outcome'>;
        rateLimited: Counter;
        maybeDelivered: Counter<'type'>;
        digests: Counter;
        backlog: Gauge<'measure'>;
      }
    | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopController = new AbortController();
  private loopPromise: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private consecutiveOutages = 0;
  private woken = false;
  private claiming = 0;
  /** Totals since construction. */
  readonly totals: OutboxReport = emptyReport();

  constructor(options: NotificationOutboxOptions) {
    this.db = options.db;
    this.channel = options.channel;
    this.batchSize = options.batchSize ?? Math.max(10, Math.ceil(options.channel.ratePerS * 10));
    this.perRecipient = options.perRecipient ?? Math.max(1, Math.ceil(options.channel.perReaderRatePerS * 5));
    const digest = options.digest ?? {};
    this.digestAfter = digest === false ? Infinity : Math.max(2, digest.after ?? 3);
    this.digestMax = digest === false ? this.perRecipient : Math.max(this.digestAfter, digest.max ?? 30);
    this.leaseMs = options.leaseMs ?? 60_000;
    this.leaseSafetyMs = options.leaseSafetyMs ?? 2_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.backoffBaseMs = options.backoff?.baseMs ?? 2_000;
    this.backoffMaxMs = options.backoff?.maxMs ?? 10 * 60_000;
    this.outageBaseMs = options.outagePause?.baseMs ?? 1_000;
    this.outageMaxMs = options.outagePause?.maxMs ?? 30_000;
    this.logger = options.logger;
    this.renderOverride = options.render;
    this.clock = options.clock ?? systemClock;
    this.journal = options.journal;
    if (this.leaseMs <= this.channel.maxCallMs + this.leaseSafetyMs) {
      throw new RangeError(
        `leaseMs (${this.leaseMs}) must exceed the request timeout (${this.channel.maxCallMs}) plus the safety margin (${this.leaseSafetyMs})`,
      );
    }
    if (options.metricsRegistry) {
      const { name, label } = this.channel;
      this.counters = {
        outcomes: new Counter({
          name: `${name}_notifications_total`,
          help: 'Outbox rows handled by this process, by notification type and outcome (sent, skipped, failed, retry, rate_limited, released, fanned_out, lease_lost).',
          labelNames: ['type', 'outcome'],
          registers: [options.metricsRegistry],
        }),
        rateLimited: new Counter({
          name: `${name}_rate_limited_total`,
          help: `429 answers from ${label}.`,
          registers: [options.metricsRegistry],
        }),
        maybeDelivered: new Counter({
          name: `${name}_outbox_maybe_delivered_total`,
          help: `Sends that failed after ${label} may have accepted the message (a timeout, a connection cut mid-request); each is retried and may reach the person twice.`,
          labelNames: ['type'],
          registers: [options.metricsRegistry],
        }),
        backlog: new Gauge({
          name: `${name}_outbox_backlog`,
          help: 'The outbox as the last scrape read it: pending rows (pending), seconds since the oldest pending row was queued (oldest_seconds), pending rows of the reader with the most (largest_reader).',
          labelNames: ['measure'],
          registers: [options.metricsRegistry],
          collect: async () => {
            try {
              const backlog = await this.backlog();
              this.counters?.backlog.set({ measure: 'pending' }, backlog.pending);
              this.counters?.backlog.set({ measure: 'oldest_seconds' }, backlog.oldestSeconds);
              this.counters?.backlog.set({ measure: 'largest_reader' }, backlog.largestReader);
            } catch {
              // The database is away: the scrape keeps the last values (database_up says why).
            }
          },
        }),
        digests: new Counter({
          name: `${name}_digests_total`,
          help: "Digest messages sent: one reader's backlog of notifications as one message.",
          registers: [options.metricsRegistry],
        }),
      };
    }
  }

  /** Rows this sender holds right now. */
  get holding(): number {
    return this.inFlight.size;
  }

  /**
   * Claims, rows and requests being worked on right now — not parked waiting for a sending
   * slot or a timer. A test holds its manual clock still while this is above zero, so time
   * only moves when the sender is waiting for it.
   */
  get working(): number {
    return this.inFlight.size - this.channel.waiting + this.claiming;
  }

  get running(): boolean {
    return this.loopPromise !== undefined;
  }

  /** Starts the delivery loop (returns at once). */
  start(): void {
    if (this.loopPromise) return;
    this.stopController = new AbortController();
    this.loopPromise = this.loop().catch((error: unknown) => {
      this.logger?.error({ err: error }, `${this.channel.name} outbox loop crashed`);
    });
  }

  /** Producers in this process may call this after queuing, to skip the poll interval. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Graceful stop: claims nothing more, releases the rows still waiting for a slot (another
   * sender may take them at once), and waits for the requests in flight to be answered and
   * recorded (at most `timeoutMs`; default: the request timeout plus 5 s).
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    // Also for a sender driven by runOnce() (a job): its rows waiting for a slot are released.
    this.stopController.abort();
    if (!this.loopPromise && this.inFlight.size === 0) return;
    this.wakeUp?.();
    const timeoutMs = options.timeoutMs ?? this.channel.maxCallMs + 5_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const drained = (async () => {
      await this.loopPromise;
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      return 'drained' as const;
    })();
    const result = await Promise.race([drained, timeout]);
    clearTimeout(timer);
    if (result === 'timeout')
      this.logger?.warn({ holding: this.inFlight.size }, `${this.channel.name} outbox stopped before every request in flight was answered`);
    this.loopPromise = undefined;
  }

  /**
   * One round for a job runner (BullMQ): claims up to a batch of due rows, delivers them
   * within the limits and returns when each is recorded.
   */
  async runOnce(): Promise<OutboxReport> {
    const report = emptyReport();
    await this.reconcile(report);
    const room = this.batchSize - this.inFlight.size;
    if (room <= 0) return report;
    const tasks = await this.claimAndDispatch(room, report);
    await Promise.allSettled(tasks);
    return report;
  }

  /**
   * Keeps the limiter fed without claiming more often than needed (on the embedded database
   * a claim blocks this thread for a few milliseconds): a claim when fewer than `lowWater`
   * rows are waiting for a slot, of up to `claimSize` rows; when nothing was due, the next
   * look is after the poll interval (or a wake(), or a finished row).
   */
  private async loop(): Promise<void> {
    const signal = this.stopController.signal;
    const claimSize = Math.max(10, Math.ceil(this.channel.ratePerS * 5));
    const lowWater = Math.max(5, Math.ceil(this.channel.ratePerS * 2));
    let nothingDueSince = 0;
    while (!signal.aborted) {
      const pausedUntil = this.channel.pausedUntil;
      if (pausedUntil > 0) {
        await this.idle(pausedUntil - this.channel.now());
        continue;
      }
      const room = Math.min(claimSize, this.batchSize - this.inFlight.size);
      const hungry = this.channel.waiting < lowWater;
      const lookAgain = this.woken || this.clock.now() - nothingDueSince >= this.pollIntervalMs;
      this.woken = false;
      if (room > 0 && hungry && lookAgain) {
        let claimed = 0;
        try {
          await this.reconcile();
          claimed = (await this.claimAndDispatch(room)).length;
        } catch (error) {
          this.logger?.error({ err: error }, `${this.channel.name} outbox: claiming rows failed (database unavailable?)`);
        }
        nothingDueSince = claimed === 0 ? this.clock.now() : 0;
        if (claimed > 0) continue;
      }
      await this.idle(this.pollIntervalMs);
    }
  }

  /** Waits for the poll interval, a finished row, a wake() or stop(). */
  private idle(ms: number): Promise<void> {
    // A stop() that came while a claim was running finds no wakeUp to call: not waiting at all.
    if (this.stopController.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.clock.clearTimer(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = this.clock.setTimer(done, Math.max(1, ms));
      this.wakeUp = done;
    });
  }

  private async claimAndDispatch(limit: number, report?: OutboxReport): Promise<Promise<void>[]> {
    // Counted as working until every claimed row is tracked in flight: reading the journal
    // and the recipients is work too (a test's clock must not move meanwhile).
    this.claiming++;
    try {
      return await this.dispatchClaimed(limit, report);
    } finally {
      this.claiming--;
    }
  }

  private async dispatchClaimed(limit: number, report?: OutboxReport): Promise<Promise<void>[]> {
    const leaseStart = this.channel.now();
    const rows = await this.claim(limit);
    if (rows.length === 0) return [];
    this.count(report, 'claimed', rows.length);
    const journaled = await this.journaledAmong(rows);
    // The slot must be granted early enough for the request (timeout included) and the
    // final write to finish inside the lease.
    const slotDeadline = leaseStart + this.leaseMs - this.channel.maxCallMs - this.leaseSafetyMs;
    const userRows = rows.filter((row) => row.recipientUserId !== null);
    const recipients = userRows.length > 0 ? await this.recipients(userRows) : new Map<string, Recipient>();
    const digests = this.planDigests(rows, recipients, journaled);
    const inDigest = new Set(digests.flatMap((digest) => digest.parts.map((part) => part.row.id)));
    const tasks: Promise<void>[] = [];
    const track = (work: Promise<unknown>) => {
      const task = work
        .then(() => undefined)
        .finally(() => {
          this.inFlight.delete(task);
          this.wakeUp?.();
        });
      this.inFlight.add(task);
      tasks.push(task);
    };
    for (const row of rows) {
      if (inDigest.has(row.id)) continue;
      const known = journaled.get(row.id);
      track(
        (known
          ? this.recordJournaled(row, known)
          : this.deliver(row, row.recipientUserId ? recipients.get(row.recipientUserId) : undefined, slotDeadline, report)
        )
          .then((outcome) => {
            if (outcome === 'fanned_out') this.woken = true; // its per-person rows are due now
            this.record(report, row, outcome);
          })
          .catch((error: unknown) => {
            this.logger?.error(
              { err: error, notificationId: row.id },
              `${this.channel.name} outbox: recording a delivery failed; the row will be retried after its lease`,
            );
          }),
      );
    }
    for (const digest of digests) {
      track(
        this.deliverDigest(digest, slotDeadline, report).catch((error: unknown) => {
          this.logger?.error(
            { err: error, notificationIds: digest.parts.map((part) => part.row.id) },
            `${this.channel.name} outbox: recording a digest failed; its rows will be retried after their lease`,
          );
        }),
      );
    }
    return tasks;
  }

  private count(report: OutboxReport | undefined, key: keyof OutboxReport, n = 1): void {
    this.totals[key] += n;
    if (report) report[key] += n;
  }

  private record(report: OutboxReport | undefined, row: ClaimedNotification, outcome: Outcome): void {
    this.count(report, reportKey[outcome]);
    this.counters?.outcomes.inc({ type: row.type, outcome });
    if (outcome === 'rate_limited') this.counters?.rateLimited.inc();
  }

  /** Claims up to `limit` due rows; see the class comment. */
  async claim(limit: number): Promise<ClaimedNotification[]> {
    const now = new Date(this.clock.now()).toISOString();
    const rows = await queryRows<{
      id: string;
      tenant_id: string;
      recipient_user_id: string | null;
      recipient_department: Department | null;
      type: string;
      payload: Record<string, unknown> | string;
      dedupe_key: string | null;
      attempts: number | string;
      claim_token: string;
      lapsed: boolean | string;
    }>(
      this.db,
      // Fairness: at most perRecipient rows per person, oldest first, none for a person whose
      // rows are held; the ranking is one scan of the pending rows, the locking only of the picked ones.
      sql`with busy as (
            select distinct coalesce(recipient_user_id::text, recipient_department::text, '') as k
            from notifications where status = 'pending' and channel = ${this.channel.name} and claimed_until > ${now}::timestamptz
          ),
          due as (
            select n.id, n.created_at, n.type in (${sql.join(
              undigestibleTypes.map((type) => sql`${type}`),
              sql`, `,
            )}) as alone,
                   row_number() over (
                     partition by coalesce(n.recipient_user_id::text, n.recipient_department::text, ''), n.type in (${sql.join(
                       undigestibleTypes.map((type) => sql`${type}`),
                       sql`, `,
                     )})
                     order by n.created_at, n.id) as rn
            from notifications n
            where n.status = 'pending'
              and n.channel = ${this.channel.name}
              and (n.next_attempt_at is null or n.next_attempt_at <= ${now}::timestamptz)
              and (n.claimed_until is null or n.claimed_until <= ${now}::timestamptz)
              and not exists (select 1 from busy b where b.k = coalesce(n.recipient_user_id::text, n.recipient_department::text, ''))
          ),
          chosen as (
            -- The few rows picked, locked without waiting: a row another claimer is taking is
            -- skipped (no blocking, no deadlock), and the conditions are checked on the row.
            select n.id, n.claimed_until as previous_claim from notifications n
            where n.id in (select id from due where rn <= (case when alone then ${this.perRecipient}::int else ${this.digestMax}::int end) order by created_at, id limit ${limit})
              and n.status = 'pending'
              and (n.next_attempt_at is null or n.next_attempt_at <= ${now}::timestamptz)
              and (n.claimed_until is null or n.claimed_until <= ${now}::timestamptz)
            for update of n skip locked
          )
          update notifications n set claimed_until = ${now}::timestamptz + ${this.leaseMs}::int * interval '1 millisecond'
          from chosen
          where n.id = chosen.id
          returning n.id, n.tenant_id, n.recipient_user_id, n.recipient_department, n.type, n.payload, n.dedupe_key, n.attempts,
                    n.claimed_until::text as claim_token, chosen.previous_claim is not null as lapsed`,
    );
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      recipientUserId: row.recipient_user_id,
      recipientDepartment: row.recipient_department,
      type: row.type,
      payload: typeof row.payload === 'string' ? (JSON.parse(row.payload) as Record<string, unknown>) : row.payload,
      dedupeKey: row.dedupe_key,
      attempts: Number(row.attempts),
      claimToken: row.claim_token,
      lapsed: row.lapsed === true || row.lapsed === 't' || row.lapsed === 'true',
    }));
  }

  /**
   * The readers with at least `digestAfter` rows in this claim that can share a message
   * (rendered, not off, no buttons): those rows go as one digest, the rest alone.
   */
  private planDigests(
    rows: readonly ClaimedNotification[],
    recipients: Map<string, Recipient>,
    journaled: Map<string, Delivery>,
  ): Digest[] {
    const byReader = new Map<string, ClaimedNotification[]>();
    for (const row of rows) {
      if (
        row.recipientUserId === null ||
        journaled.has(row.id) ||
        (undigestibleTypes as readonly string[]).includes(row.type) ||
        (streamOnlyTypes as readonly string[]).includes(row.type)
      )
        continue;
      byReader.set(row.recipientUserId, [...(byReader.get(row.recipientUserId) ?? []), row]);
    }
    const digests: Digest[] = [];
    for (const [userId, candidates] of byReader) {
      const recipient = recipients.get(userId);
      if (candidates.length < this.digestAfter || !recipient?.active || recipient.address === null) continue;
      const parts: DigestPart[] = [];
      for (const row of candidates) {
        const level = levelFor(recipient.levels, row.type);
        if (level === 'off') continue;
        let message: RenderedMessage;
        try {
          message = this.renderOverride?.(row, recipient.locale) ?? renderNotification(row.type, row.payload, recipient.locale);
        } catch (error) {
          if (error instanceof InvalidNotificationError) continue; // failed alone, with its reason
          throw error;
        }
        if (!message.replyMarkup) parts.push({ row, message, silent: level === 'silent' });
      }
      if (parts.length >= this.digestAfter) digests.push({ recipient, parts });
    }
    return digests;
  }

  /**
   * One message for several rows of one reader: as many as fit in Telegram's limit go out
   * together and are recorded with the same message id; the rest are released for the next claim.
   */
  private async deliverDigest(digest: Digest, slotDeadline: number, report: OutboxReport | undefined): Promise<void> {
    const { message, taken } = renderDigest(
      digest.parts.map((part) => part.message),
      digest.recipient.locale,
    );
    const included = digest.parts.slice(0, taken);
    for (const part of digest.parts.slice(taken))
      this.record(report, part.row, await this.finish(part.row, { status: 'pending', claimedUntil: null }, undefined, 'released'));
    const rows = included.map((part) => part.row);
    let messageId: number;
    try {
      const sent = await this.channel.send(
        digest.recipient.address,
        { kind: 'text', message },
        { silent: included.every((part) => part.silent), deadline: slotDeadline, signal: this.stopController.signal },
      );
      this.consecutiveOutages = 0;
      messageId = sent.messageId;
    } catch (error) {
      const outcomes = await this.onSendError(rows, error, report);
      for (const [i, row] of rows.entries()) this.record(report, row, outcomes[i]!);
      return;
    }
    const sentAtMs = this.clock.now();
    for (const row of rows) {
      const outcome = await this.recordDelivery(row, { id: row.id, messageId, sentAtMs });
      this.record(report, row, outcome);
      if (outcome === 'sent') this.count(report, 'digested');
    }
    this.counters?.digests.inc();
  }

  /** Address on the channel, language, status and notification settings of the people in a batch. */
  private async recipients(rows: readonly ClaimedNotification[]): Promise<Map<string, Recipient>> {
    const ids = [...new Set(rows.map((row) => row.recipientUserId!))];
    const people = await this.db
      .select({ id: users.id, locale: users.locale, status: users.status })
      .from(users)
      .where(inArray(users.id, ids));
    const addresses = await this.channel.addresses(this.db, ids);
    const types = [...new Set(rows.map((row) => row.type)), '*'];
    const levels = await this.db
      .select()
      .from(notificationPreferences)
      .where(and(inArray(notificationPreferences.userId, ids), inArray(notificationPreferences.type, types)));
    const out = new Map<string, Recipient>();
    for (const person of people) {
      out.set(person.id, {
        address: addresses.get(person.id) ?? null,
        locale: person.locale,
        active: person.status === 'active',
        levels: new Map(),
      });
    }
    for (const level of levels) out.get(level.userId)?.levels.set(level.type, level.level);
    return out;
  }

  private async deliver(
    row: ClaimedNotification,
    recipient: Recipient | undefined,
    slotDeadline: number,
    report: OutboxReport | undefined,
  ): Promise<Outcome> {
    if ((streamOnlyTypes as readonly string[]).includes(row.type))
      return this.finish(row, { status: 'skipped', lastError: `${row.type} is shown on the web events stream only` });
    if (row.recipientUserId === null) return this.fanOut(row);
    if (!recipient) return this.finish(row, { status: 'skipped', lastError: 'recipient no longer exists' });
    if (!recipient.active) return this.finish(row, { status: 'skipped', lastError: 'recipient is disabled' });
    if (recipient.address === null) return this.finish(row, { status: 'skipped', lastError: this.channel.unreachable.person });
    const level = levelFor(recipient.levels, row.type);
    if (level === 'off')
      return this.finish(row, { status: 'skipped', lastError: `notifications of type ${row.type} are off for this person` });
    let outgoing: OutgoingNotification;
    try {
      // What the channel draws itself (a chart) is drawn before a slot is taken.
      outgoing = (await this.channel.prepare?.(row, { db: this.db, locale: recipient.locale })) ?? {
        kind: 'text',
        message: this.renderOverride?.(row, recipient.locale) ?? renderNotification(row.type, row.payload, recipient.locale),
      };
    } catch (error) {
      if (!(error instanceof InvalidNotificationError)) throw error;
      return this.finish(row, { status: 'failed', lastError: error.message.slice(0, 500) });
    }
    let delivery: Delivery;
    try {
      const sent = await this.channel.send(recipient.address, outgoing, {
        silent: level === 'silent',
        deadline: slotDeadline,
        signal: this.stopController.signal,
      });
      this.consecutiveOutages = 0;
      delivery = { id: row.id, messageId: sent.messageId, sentAtMs: this.clock.now() };
    } catch (error) {
      return (await this.onSendError([row], error, report))[0]!;
    }
    return this.recordDelivery(row, delivery);
  }

  /**
   * What a failed send means for its rows (one, or the rows of a digest): released for the
   * next claim, retried after a backoff or Telegram's retry_after, or failed for good.
   */
  private async onSendError(rows: readonly ClaimedNotification[], error: unknown, report: OutboxReport | undefined): Promise<Outcome[]> {
    const each = (outcome: (row: ClaimedNotification) => Promise<Outcome>) => Promise.all(rows.map(outcome));
    const failure = this.channel.classify(error);
    if (!failure) throw error;
    const ids = rows.map((row) => row.id);
    const name = this.channel.name;
    switch (failure.kind) {
      case 'released':
        return each((row) => this.finish(row, { status: 'pending', claimedUntil: null }, failure.retryInMs, 'released'));
      case 'rate_limited':
        this.logger?.warn(
          { notificationIds: ids, retryAfterS: failure.retryAfterS, global: failure.global },
          `${name} 429: waiting retry_after`,
        );
        return each((row) =>
          this.finish(
            row,
            { status: 'pending', claimedUntil: null, lastError: failure.description.slice(0, 500) },
            failure.retryAfterS * 1000,
            'rate_limited',
          ),
        );
      case 'permanent':
        this.logger?.warn(
          { notificationIds: ids, code: failure.code, reason: failure.description },
          `${name} refused a notification for good`,
        );
        return each((row) =>
          this.finish(row, { status: 'failed', attempts: row.attempts + 1, lastError: failure.description.slice(0, 500) }),
        );
      case 'transient': {
        if (failure.outage) this.onOutage();
        if (failure.maybeDelivered) {
          for (const row of rows) {
            this.count(report, 'maybeDelivered');
            this.counters?.maybeDelivered.inc({ type: row.type });
          }
          this.logger?.warn(
            { notificationIds: ids, reason: failure.description },
            `${name} may have accepted a notification whose send failed; the retry may deliver it twice`,
          );
        }
        const attempts = Math.max(...rows.map((row) => row.attempts)) + 1;
        const delay = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.min(attempts - 1, 30)) * (0.8 + Math.random() * 0.4);
        this.logger?.warn(
          { notificationIds: ids, attempts, retryInMs: Math.round(delay), reason: failure.description },
          `${name} send failed; will retry`,
        );
        return each((row) =>
          this.finish(
            row,
            { status: 'pending', claimedUntil: null, attempts: row.attempts + 1, lastError: failure.description.slice(0, 500) },
            Math.round(delay),
            'retry',
          ),
        );
      }
    }
  }

  /**
   * Telegram accepted the row's message: journal it, then mark the row sent. Nothing else
   * runs between the answer and these two writes.
   */
  private async recordDelivery(row: ClaimedNotification, delivery: Delivery): Promise<Outcome> {
    let journaled = false;
    if (this.journal) {
      try {
        await this.journal.record(delivery);
        journaled = true;
      } catch (error) {
        this.logger?.warn(
          { notificationId: row.id, err: error },
          `${this.channel.name} outbox: the delivery journal is unavailable; recording the delivery in the database only`,
        );
      }
    }
    let outcome: Outcome;
    try {
      outcome = await this.finish(row, {
        status: 'sent',
        sentAt: new Date(delivery.sentAtMs),
        channelMessageId: delivery.messageId,
        attempts: row.attempts + 1,
        lastError: null,
      });
    } catch (error) {
      if (!journaled) throw error;
      this.unrecorded.set(row.id, delivery);
      this.logger?.warn(
        { notificationId: row.id, err: error },
        `${this.channel.name} outbox: delivered but the database could not record it; kept in the delivery journal until it can`,
      );
      return 'journaled';
    }
    if (journaled) await this.journal!.forget([row.id]).catch(() => {});
    return outcome;
  }

  /** The journal's entries for rows whose earlier holder's lease ran out (only those can have one). */
  private async journaledAmong(rows: readonly ClaimedNotification[]): Promise<Map<string, Delivery>> {
    const found = new Map<string, Delivery>();
    const lapsed = rows.filter((row) => row.lapsed);
    for (const row of lapsed) {
      const mine = this.unrecorded.get(row.id);
      if (mine) found.set(row.id, mine);
    }
    if (!this.journal || lapsed.length === 0) return found;
    try {
      for (const [id, delivery] of await this.journal.lookup(lapsed.filter((row) => !found.has(row.id)).map((row) => row.id)))
        found.set(id, delivery);
    } catch (error) {
      this.logger?.warn(
        { rows: lapsed.length, err: error },
        `${this.channel.name} outbox: could not read the delivery journal; rows whose earlier lease lapsed are sent anyway`,
      );
    }
    return found;
  }

  /** A claimed row the journal says Telegram already accepted: recorded as sent, not sent again. */
  private async recordJournaled(row: ClaimedNotification, delivery: Delivery): Promise<Outcome> {
    const outcome = await this.finish(row, {
      status: 'sent',
      sentAt: new Date(delivery.sentAtMs),
      channelMessageId: delivery.messageId,
      attempts: row.attempts + 1,
      lastError: null,
    });
    this.unrecorded.delete(row.id);
    await this.journal?.forget([row.id]).catch(() => {});
    this.logger?.info(
      { notificationId: row.id },
      `${this.channel.name} outbox: recorded a delivery from the journal instead of sending it again`,
    );
    return outcome === 'sent' ? 'reconciled' : outcome;
  }

  /**
   * Writes the deliveries the database could not take (and, once, those a previous run of
   * this journal left) to their rows. A row another sender already recorded is left as it is.
   */
  private async reconcile(report?: OutboxReport): Promise<void> {
    if (!this.journal) return;
    this.claiming++;
    try {
      if (!this.leftoversLoaded) {
        for (const delivery of await this.journal.leftovers()) this.unrecorded.set(delivery.id, delivery);
        this.leftoversLoaded = true;
      }
      for (const delivery of [...this.unrecorded.values()]) {
        const updated = await this.db
          .update(notifications)
          .set({
            status: 'sent',
            sentAt: new Date(delivery.sentAtMs),
            channelMessageId: delivery.messageId,
            attempts: sql`${notifications.attempts} + 1`,
            claimedUntil: null,
            lastError: null,
          })
          .where(and(eq(notifications.id, delivery.id), eq(notifications.status, 'pending')))
          .returning({ id: notifications.id, type: notifications.type });
        this.unrecorded.delete(delivery.id);
        await this.journal.forget([delivery.id]).catch(() => {});
        if (updated[0]) {
          this.count(report, 'reconciled');
          this.counters?.outcomes.inc({ type: updated[0].type, outcome: 'reconciled' });
        }
      }
    } finally {
      this.claiming--;
    }
  }

  private onOutage(): void {
    this.consecutiveOutages++;
    const pause = Math.min(this.outageMaxMs, this.outageBaseMs * 2 ** Math.min(this.consecutiveOutages - 1, 20));
    this.channel.pauseAll(this.channel.now() + pause);
  }

  /** Writes the row's outcome, fenced on this sender's lease. */
  private async finish(
    row: ClaimedNotification,
    set: Partial<typeof notifications.$inferInsert>,
    retryInMs?: number,
    outcome?: Outcome,
  ): Promise<Outcome> {
    const values: Record<string, unknown> = { ...set };
    if (set.status !== 'pending') values.claimedUntil = null;
    if (retryInMs !== undefined) values.nextAttemptAt = new Date(this.clock.now() + Math.max(0, Math.ceil(retryInMs)));
    const updated = await this.db
      .update(notifications)
      .set(values)
      .where(
        and(
          eq(notifications.id, row.id),
          eq(notifications.status, 'pending'),
          sql`${notifications.claimedUntil} = ${row.claimToken}::timestamptz`,
        ),
      )
      .returning({ id: notifications.id });
    if (updated.length === 0) {
      this.logger?.error(
        { notificationId: row.id, status: set.status },
        `${this.channel.name} outbox: lease lost before the outcome was recorded`,
      );
      return 'lease_lost';
    }
    return outcome ?? (set.status as Outcome);
  }

  /**
   * A department row becomes one row per active staff member of the department the channel reaches
   * (dedupe key `<parent key or id>:user:<user id>`, so a repeated fan-out adds nothing), in
   * the same transaction that marks the department row done (`sent`, no message id of its
   * own; `skipped` when the channel reaches nobody in the department).
   */
  private async fanOut(row: ClaimedNotification): Promise<Outcome> {
    const department = row.recipientDepartment;
    if (!department) return this.finish(row, { status: 'failed', lastError: 'no recipient (neither a user nor a department)' });
    return this.db
      .transaction(async (tx) => {
        const active = await tx
          .selectDistinct({ userId: staff.userId })
          .from(staff)
          .innerJoin(users, eq(users.id, staff.userId))
          .where(and(eq(staff.department, department), eq(users.status, 'active')));
        const reached =
          active.length > 0
            ? await this.channel.addresses(
                tx,
                active.map((member) => member.userId),
              )
            : new Map<string, unknown>();
        const members = active.filter((member) => reached.has(member.userId));
        if (members.length > 0) {
          await tx
            .insert(notifications)
            .values(
              members.map((member) => ({
                tenantId: row.tenantId,
                recipientUserId: member.userId,
                channel: this.channel.name,
                type: row.type,
                payload: row.payload,
                dedupeKey: `${row.dedupeKey ?? row.id}:user:${member.userId}`,
              })),
            )
            .onConflictDoNothing();
        }
        const [done] = await tx
          .update(notifications)
          .set(
            members.length > 0
              ? { status: 'sent', sentAt: new Date(this.clock.now()), claimedUntil: null, lastError: null }
              : { status: 'skipped', claimedUntil: null, lastError: this.channel.unreachable.department(department) },
          )
          .where(
            and(
              eq(notifications.id, row.id),
              eq(notifications.status, 'pending'),
              sql`${notifications.claimedUntil} = ${row.claimToken}::timestamptz`,
            ),
          )
          .returning({ id: notifications.id });
        if (!done) {
          tx.rollback();
        }
        return members.length > 0 ? ('fanned_out' as const) : ('skipped' as const);
      })
      .catch((error: unknown) => {
        if ((error as Error).name === 'TransactionRollbackError') return 'lease_lost' as const;
        throw error;
      });
  }

  /** How far behind delivery is: what the backlog alert reads (`<channel>_outbox_backlog`, telegram_outbox_backlog today). */
  async backlog(): Promise<{ pending: number; oldestSeconds: number; largestReader: number }> {
    const now = new Date(this.clock.now()).toISOString();
    const [row] = await queryRows<{ pending: string | number; oldest_s: string | number | null; largest: string | number | null }>(
      this.db,
      sql`with p as (
            select coalesce(recipient_user_id::text, recipient_department::text, '') as k, created_at from notifications where status = 'pending' and channel = ${this.channel.name}
          )
          select (select count(*) from p) as pending,
                 (select extract(epoch from ${now}::timestamptz - min(created_at)) from p) as oldest_s,
                 (select max(c) from (select count(*) as c from p group by k) per_reader) as largest`,
    );
    return {
      pending: Number(row?.pending ?? 0),
      oldestSeconds: Math.max(0, Number(row?.oldest_s ?? 0)),
      largestReader: Number(row?.largest ?? 0),
    };
  }

  /** Convenience for tests and tools: the rows still due or held (not sent, skipped or failed). */
  async pendingCount(): Promise<number> {
    const [row] = await queryRows<{ n: string | number }>(
      this.db,
      sql`select count(*) as n from notifications where status = 'pending' and channel = ${this.channel.name}`,
    );
    return Number(row?.n ?? 0);
  }
}
