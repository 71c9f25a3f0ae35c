import { systemClock, type Clock, type ClockTimer } from '../../clock/index.ts';
import type { Database, Department } from '../../db/index.ts';
import { notificationsQueuedAfter, onNotificationQueued, outboxClock, type QueuedNotification } from '../../notifications/index.ts';
import { approvalsChangedAfter, type ApprovalChange } from '../../tools/index.ts';
import { cachedCandlesAfter, type CandleKey } from '../../trading/index.ts';

// The live events behind GET /api/v1/events, one hub per API process.
//
// One source of truth: the notification outbox. Every event a person is told about — a bot's
// trade or pause (the runner, in whichever worker process ticks the bot), a bot started or
// stopped, a backtest finished, an approval to decide or decided — is already queued there by
// its producer, in the transaction of the event, and Telegram delivers those same rows. The
// hub reads the rows as they are queued (notificationsQueuedAfter: the database every process
// shares is how a worker's event reaches this process; a producer in this process wakes the
// reader at once) instead of a second bus or a `web` channel with rows of its own, so the web
// and Telegram can never disagree about what happened. Approvals are read from the approvals
// themselves, as the Telegram door reads them to announce them (it queues cards only for the
// deciders it can reach, so the outbox's approval rows are Telegram's copies and skipped here):
// a request goes to the staff who may decide it, a decision to them and to who asked. New
// candles of a watched pair come from the candle cache the market feed writes (one reader per
// pair, however many watch it).
//
// Each event gets an id from one increasing counter, starting at this hub's start time × 1000,
// so ids also increase across restarts. The last `replayWindowMs` (10 minutes) of events are
// kept in memory: a client reconnecting with Last-Event-ID gets every event of its own after
// that id; an id this hub cannot answer for (older than the window, from before it started or
// from another process) gets a `reset` event, and the client refetches.

export const LIVE_EVENT_TYPES = [
  'trade',
  'bot_status',
  'backtest_finished',
  'approval_requested',
  'approval_decided',
  'candle',
  'notification',
] as const;
export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number];

/** Who an event is for: one person, the staff of a department, who may decide its approvals, or whoever watches a pair. */
export type Audience =
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'department'; readonly department: Department }
  | { readonly kind: 'approvers'; readonly department: Department }
  | { readonly kind: 'candles'; readonly watch: string };

export interface LiveEvent {
  readonly id: number;
  /** When the hub published it (its clock). */
  readonly at: number;
  readonly type: LiveEventType;
  readonly data: Record<string, unknown>;
  /** Everyone in any of these gets it, once. */
  readonly audiences: readonly Audience[];
  /** Approvals: only staff receive them, whatever the address. */
  readonly staffOnly: boolean;
  /** Not this person (who asked for an approval is not asked to decide it). */
  readonly exceptUserId: string | undefined;
}

/** A pair to watch: `binance:BTC/USDT:5m` (see watchKey). */
export type Watch = CandleKey;

export const watchKey = (watch: Watch): string => `${watch.exchange}:${watch.symbol}:${watch.timeframe}`;

export interface Subscriber {
  readonly userId: string;
  readonly staff: boolean;
  readonly department: Department | null;
  /** The departments whose approvals this person may decide (tools' mayDecide): none for a trader. */
  readonly approverOf: readonly Department[];
  readonly watches: readonly Watch[];
  /** Writes one event to the client (the hub does not wait for it). */
  send(event: LiveEvent): void;
  /** Writes a comment line (heartbeat). */
  comment(text: string): void;
  /** Ends the connection (the hub is stopping). */
  close(): void;
}

export type ReplayOutcome =
  | { readonly kind: 'replay'; readonly events: readonly LiveEvent[] }
  | { readonly kind: 'reset'; readonly reason: string; readonly lastEventId: number };

export interface LiveEventsOptions {
  readonly db: Database;
  /** Heartbeats, the replay window and the readers' schedules (tests: a ManualClock). */
  readonly clock?: Clock;
  /**
   * How often the outbox is read when nothing in this process woke the reader (default 50 ms:
   * a worker's event arrives within it, inside the 100 ms the fan-out may take; one index range
   * a read, notifications_channel_created_idx, 20 a second).
   */
  readonly pollIntervalMs?: number;
  /** How often the approvals are read (default 1 s; on the outbox reader's turns). */
  readonly approvalPollIntervalMs?: number;
  /** How often watched pairs' candle cache is read (default 2 s). */
  readonly candlePollIntervalMs?: number;
  /** A comment line to every client this often, so proxies keep the connection (default 15 s). */
  readonly heartbeatMs?: number;
  /** How long events stay replayable (default 10 minutes). */
  readonly replayWindowMs?: number;
  /** At most this many events kept (default 100,000): older ones are dropped as if out of the window. */
  readonly maxEvents?: number;
  /**
   * Rows are read again this far back (default 5 s), for transactions that committed after a
   * later one was read (a row's time is its transaction's start); each row is published once.
   */
  readonly lookbackMs?: number;
  /** With no client left, the readers keep going this long (default: the replay window), so a reconnect finds what it missed. */
  readonly lingerMs?: number;
  /**
   * A client that has not taken this many events yet (its connection's buffers full: a stalled
   * or very slow reader) is cut off, so it cannot hold memory without bound; it reconnects with
   * Last-Event-ID and gets the replay. Default 5,000 (above any one read's burst).
   */
  readonly maxPendingWrites?: number;
  /**
   * A notification queued by this process wakes the reader at once (default true). false: only
   * the poll finds it, as it finds a worker's (what the benchmark measures for other processes).
   */
  readonly wakeOnQueue?: boolean;
  /**
   * Subscribes to the database's notice that another process queued a notification (PostgreSQL
   * LISTEN on OUTBOX_QUEUED_CHANNEL; DatabaseHandle.listen); each notice reads the outbox at
   * once. Absent: other processes' events are found by the poll.
   */
  readonly listen?: ((onQueued: () => void) => Promise<() => Promise<void>>) | undefined;
  readonly onError?: (error: unknown, where: string) => void;
}

interface CandleWatcher {
  readonly watch: Watch;
  refs: number;
  /** Open time of the newest bar published (undefined: not read yet). */
  lastOpenMs: number | undefined;
  ready: Promise<void>;
}

export class LiveEvents {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #pollIntervalMs: number;
  readonly #candlePollIntervalMs: number;
  readonly #approvalPollIntervalMs: number;
  #approvalsReadAt = Number.NEGATIVE_INFINITY;
  readonly #heartbeatMs: number;
  readonly #windowMs: number;
  readonly #maxEvents: number;
  readonly #lookbackMs: number;
  readonly #lingerMs: number;
  readonly #wakeOnQueue: boolean;
  readonly #listen: LiveEventsOptions['listen'];
  #stopDatabaseListening: (() => Promise<void>) | undefined;
  /** See LiveEventsOptions.maxPendingWrites (the route applies it to each connection). */
  readonly maxPendingWrites: number;
  readonly #onError: (error: unknown, where: string) => void;

  #ring: LiveEvent[] = [];
  /** Ids up to this one are not answered for (before the start, or dropped from the ring). */
  #unknownThrough = 0;
  #nextId = 0;
  #running: Promise<void> | undefined;
  #stopListening: (() => void) | undefined;
  #cursorMs = 0;
  #seen = new Map<string, number>();
  #approvalCursorMs = 0;
  #approvalsSeen = new Map<string, number>();
  #polling: Promise<void> | undefined;
  #pollAgain = false;
  #pollTimer: ClockTimer | undefined;
  #candleTimer: ClockTimer | undefined;
  /** The candle reader's pass in flight, awaited by stop() as the outbox's `#polling` is. */
  #readingCandles: Promise<void> | undefined;
  #heartbeatTimer: ClockTimer | undefined;
  #lingerTimer: ClockTimer | undefined;
  #stopped = false;

  readonly #subscribers = new Set<Subscriber>();
  readonly #byAudience = new Map<string, Set<Subscriber>>();
  readonly #watchers = new Map<string, CandleWatcher>();

  constructor(options: LiveEventsOptions) {
    this.#db = options.db;
    this.#clock = options.clock ?? systemClock;
    this.#pollIntervalMs = options.pollIntervalMs ?? 50;
    this.#candlePollIntervalMs = options.candlePollIntervalMs ?? 2_000;
    this.#approvalPollIntervalMs = options.approvalPollIntervalMs ?? 1_000;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#windowMs = options.replayWindowMs ?? 10 * 60_000;
    this.#maxEvents = options.maxEvents ?? 100_000;
    this.#lookbackMs = options.lookbackMs ?? 5_000;
    this.#lingerMs = options.lingerMs ?? this.#windowMs;
    this.#wakeOnQueue = options.wakeOnQueue ?? true;
    this.#listen = options.listen;
    this.maxPendingWrites = options.maxPendingWrites ?? 5_000;
    this.#onError = options.onError ?? (() => {});
  }

  /** Clients connected now. */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Pairs whose candles are being read now. */
  get watchedPairs(): number {
    return this.#watchers.size;
  }

  /** The readers are running (a client is connected, or one left less than `lingerMs` ago). */
  get running(): boolean {
    return this.#running !== undefined;
  }

  /** The newest event's id (0: none yet). */
  get lastEventId(): number {
    return this.#nextId === 0 ? 0 : this.#nextId - 1;
  }

  /** Starts the readers if they are not running (the first client does it). */
  start(): Promise<void> {
    this.#stopped = false;
    this.#clock.clearTimer(this.#lingerTimer);
    this.#lingerTimer = undefined;
    if (!this.#running) {
      this.#running = (async () => {
        const base = Math.max(this.#clock.now() * 1000, this.#nextId);
        this.#nextId = base + 1;
        this.#unknownThrough = base;
        this.#ring = [];
        this.#seen.clear();
        this.#approvalsSeen.clear();
        this.#cursorMs = (await outboxClock(this.#db)).getTime();
        this.#approvalCursorMs = this.#cursorMs;
        // What was queued before the start is not news: the rows the lookback will read again are marked seen.
        await this.#readOutbox(this.#cursorMs);
        await this.#readApprovals(this.#approvalCursorMs);
        if (this.#wakeOnQueue) this.#stopListening = onNotificationQueued(() => this.wake());
        if (this.#listen)
          this.#stopDatabaseListening = await this.#listen(() => this.wake()).catch((error: unknown) => {
            this.#onError(error, 'to listen for other processes’ notifications (the poll finds them)');
            return undefined;
          });
        this.#schedulePoll(this.#pollIntervalMs);
        this.#scheduleHeartbeat();
        this.#scheduleCandles();
      })();
      this.#running.catch(() => {
        this.#running = undefined;
      });
    }
    return this.#running;
  }

  /** Reads the outbox now (a producer in this process queued something). */
  wake(): void {
    if (!this.#running || this.#stopped) return;
    this.#schedulePoll(0);
  }

  /**
   * Adds a client: the readers start, its pairs are watched. Returns what it missed after
   * `lastEventId` (its own events only), or a reset when that cannot be answered, and the undo.
   */
  async subscribe(subscriber: Subscriber, lastEventId?: number): Promise<{ replay: ReplayOutcome | undefined; unsubscribe: () => void }> {
    await this.start();
    const replay = lastEventId === undefined ? undefined : this.replay(subscriber, lastEventId);
    this.#subscribers.add(subscriber);
    for (const key of this.#audienceKeys(subscriber)) {
      const set = this.#byAudience.get(key) ?? new Set<Subscriber>();
      this.#byAudience.set(key, set);
      set.add(subscriber);
    }
    for (const watch of subscriber.watches) this.#watch(watch);
    let done = false;
    const unsubscribe = () => {
      if (done) return;
      done = true;
      this.#subscribers.delete(subscriber);
      for (const key of this.#audienceKeys(subscriber)) {
        const set = this.#byAudience.get(key);
        set?.delete(subscriber);
        if (set?.size === 0) this.#byAudience.delete(key);
      }
      for (const watch of subscriber.watches) this.#unwatch(watch);
      if (this.#subscribers.size === 0) this.#linger();
    };
    // Candles of a new pair start from its newest cached bar: wait for it, so none is skipped or sent twice.
    await Promise.all(subscriber.watches.map((watch) => this.#watchers.get(watchKey(watch))?.ready));
    return { replay, unsubscribe };
  }

  /** Events for this subscriber after `lastEventId`, or why they cannot be given. */
  replay(subscriber: Subscriber, lastEventId: number): ReplayOutcome {
    this.#prune();
    const last = this.lastEventId;
    if (lastEventId > last)
      return { kind: 'reset', reason: `event ${lastEventId} is not from this server (its newest is ${last}); refetch`, lastEventId: last };
    if (lastEventId < this.#unknownThrough)
      return {
        kind: 'reset',
        reason: `events after ${lastEventId} are older than the ${Math.round(this.#windowMs / 60_000)}-minute replay window or from before this server started; refetch`,
        lastEventId: last,
      };
    const keys = new Set(this.#audienceKeys(subscriber));
    const events = this.#ring.filter((event) => event.id > lastEventId && this.#reaches(event, subscriber, keys));
    return { kind: 'replay', events };
  }

  /** Publishes an event to its audience now (the readers call this; so may tests and benchmarks of the hub itself). */
  publish(
    type: LiveEventType,
    data: Record<string, unknown>,
    audience: Audience | readonly Audience[],
    options: { staffOnly?: boolean; exceptUserId?: string | undefined } = {},
  ): LiveEvent {
    const audiences = Array.isArray(audience) ? (audience as readonly Audience[]) : [audience as Audience];
    const event: LiveEvent = {
      id: this.#nextId++,
      at: this.#clock.now(),
      type,
      data,
      audiences,
      staffOnly: options.staffOnly ?? false,
      exceptUserId: options.exceptUserId,
    };
    this.#ring.push(event);
    this.#prune();
    const sent = audiences.length > 1 ? new Set<Subscriber>() : undefined;
    for (const target of audiences) {
      const subscribers = this.#byAudience.get(audienceKey(target));
      if (!subscribers) continue;
      for (const subscriber of subscribers) {
        if (event.staffOnly && !subscriber.staff) continue;
        if (subscriber.userId === event.exceptUserId) continue;
        if (sent) {
          if (sent.has(subscriber)) continue;
          sent.add(subscriber);
        }
        subscriber.send(event);
      }
    }
    return event;
  }

  /**
   * Stops the readers and ends every client's connection (a server shutting down); resolves once
   * no read of the database is in flight any more, so the database may close after it.
   */
  stop(): Promise<void> {
    const inFlight = [this.#running, this.#polling, this.#readingCandles];
    this.#stopped = true;
    this.#stopListening?.();
    this.#stopListening = undefined;
    this.#stopDatabaseListening?.().catch((error: unknown) => this.#onError(error, 'to stop listening'));
    this.#stopDatabaseListening = undefined;
    for (const timer of [this.#pollTimer, this.#candleTimer, this.#heartbeatTimer, this.#lingerTimer]) this.#clock.clearTimer(timer);
    this.#pollTimer = this.#candleTimer = this.#heartbeatTimer = this.#lingerTimer = undefined;
    this.#running = undefined;
    const connected = [...this.#subscribers];
    this.#subscribers.clear();
    for (const subscriber of connected) subscriber.close();
    this.#byAudience.clear();
    this.#watchers.clear();
    return Promise.allSettled(inFlight).then(() => undefined);
  }

  // --- the outbox reader -------------------------------------------------------------------

  #schedulePoll(ms: number): void {
    if (this.#polling) {
      if (ms === 0) this.#pollAgain = true;
      return;
    }
    this.#clock.clearTimer(this.#pollTimer);
    this.#pollTimer = this.#clock.setTimer(() => void this.#poll(), ms, { unref: true });
  }

  async #poll(): Promise<void> {
    this.#pollTimer = undefined;
    if (this.#stopped || this.#polling) return;
    this.#polling = (async () => {
      do {
        this.#pollAgain = false;
        try {
          await this.#readOutbox();
        } catch (error) {
          this.#onError(error, 'reading the notification outbox');
        }
        if (this.#clock.now() - this.#approvalsReadAt >= this.#approvalPollIntervalMs)
          try {
            this.#approvalsReadAt = this.#clock.now();
            await this.#readApprovals();
          } catch (error) {
            this.#onError(error, 'reading the approvals');
          }
      } while (this.#pollAgain && !this.#stopped);
    })();
    await this.#polling;
    this.#polling = undefined;
    if (!this.#stopped && this.#running) this.#schedulePoll(this.#pollIntervalMs);
  }

  /** Publishes the rows not seen yet; `before`: only marks those queued up to then as seen (the start). */
  async #readOutbox(before?: number): Promise<void> {
    const limit = 1_000;
    let after = this.#cursorMs - this.#lookbackMs;
    let afterId: string | undefined;
    for (;;) {
      const rows = await notificationsQueuedAfter(this.#db, new Date(after), limit, afterId);
      for (const row of rows) {
        const createdMs = row.createdAt.getTime();
        if (before !== undefined) {
          if (createdMs <= before) this.#seen.set(row.id, createdMs);
          continue;
        }
        if (createdMs > this.#cursorMs) this.#cursorMs = createdMs;
        if (this.#seen.has(row.id)) continue;
        this.#seen.set(row.id, createdMs);
        this.#publishNotification(row);
      }
      if (rows.length < limit) break;
      after = rows[rows.length - 1]!.createdAt.getTime();
      afterId = rows[rows.length - 1]!.id;
    }
    const forgetBefore = this.#cursorMs - this.#lookbackMs - 1_000;
    for (const [id, createdMs] of this.#seen) if (createdMs < forgetBefore) this.#seen.delete(id);
  }

  #publishNotification(row: QueuedNotification): void {
    const audience: Audience = row.recipientUserId
      ? { kind: 'user', userId: row.recipientUserId }
      : { kind: 'department', department: row.recipientDepartment! };
    if (!row.recipientUserId && !row.recipientDepartment) return;
    const p = row.payload;
    switch (row.type) {
      case 'trade_opened':
      case 'trade_closed':
      case 'stop_loss_hit':
        this.publish(
          'trade',
          {
            kind: row.type === 'trade_opened' ? 'opened' : row.type === 'trade_closed' ? 'closed' : 'stop_loss',
            ...p,
            at: row.createdAt.toISOString(),
          },
          audience,
        );
        return;
      case 'bot_status':
        this.publish('bot_status', p, audience);
        return;
      case 'bot_paused':
        this.publish(
          'bot_status',
          { botId: p.botId, ...(p.botName ? { botName: p.botName } : {}), status: 'paused', reason: p.reason },
          audience,
        );
        return;
      case 'backtest_finished':
        this.publish('backtest_finished', p, audience);
        return;
      case 'approval_requested':
      case 'approval_decided':
        // Telegram's copies of what the approvals say (cards for the deciders it reaches): read from the approvals instead.
        return;
      default:
        this.publish('notification', { type: row.type, payload: p }, audience);
    }
  }

  // --- the approvals -----------------------------------------------------------------------

  /** Publishes the approvals' changes not seen yet; `before`: only marks those up to then as seen (the start). */
  async #readApprovals(before?: number): Promise<void> {
    const limit = 500;
    let after = this.#approvalCursorMs - this.#lookbackMs;
    for (;;) {
      const changes = await approvalsChangedAfter(this.#db, new Date(after), limit);
      for (const change of changes) {
        const changedMs = change.changedAt.getTime();
        const key = `${change.id}:${change.status}`;
        if (before !== undefined) {
          if (changedMs <= before) this.#approvalsSeen.set(key, changedMs);
          continue;
        }
        if (changedMs > this.#approvalCursorMs) this.#approvalCursorMs = changedMs;
        if (this.#approvalsSeen.has(key)) continue;
        this.#approvalsSeen.set(key, changedMs);
        this.#publishApproval(change);
      }
      if (changes.length < limit) break;
      after = changes[changes.length - 1]!.changedAt.getTime();
    }
    const forgetBefore = this.#approvalCursorMs - this.#lookbackMs - 1_000;
    for (const [key, changedMs] of this.#approvalsSeen) if (changedMs < forgetBefore) this.#approvalsSeen.delete(key);
  }

  #publishApproval(change: ApprovalChange): void {
    const approvers: Audience = { kind: 'approvers', department: change.approverDepartment };
    if (change.status === 'pending') {
      this.publish(
        'approval_requested',
        {
          approvalId: change.id,
          tool: change.tool,
          summary: change.summary,
          approverDepartment: change.approverDepartment,
          ...(change.requestedBy ? { requestedBy: change.requestedBy } : {}),
          expiresAt: change.expiresAt.toISOString(),
        },
        approvers,
        { staffOnly: true, exceptUserId: change.requestedByUserId ?? undefined },
      );
      return;
    }
    this.publish(
      'approval_decided',
      {
        approvalId: change.id,
        summary: change.summary,
        decision: change.status,
        ...(change.decidedBy ? { decidedBy: change.decidedBy } : {}),
        ...(change.decisionNote ? { note: change.decisionNote } : {}),
      },
      change.requestedByUserId ? [approvers, { kind: 'user', userId: change.requestedByUserId }] : approvers,
      { staffOnly: true },
    );
  }

  // --- candles of watched pairs ------------------------------------------------------------

  #watch(watch: Watch): void {
    const key = watchKey(watch);
    const existing = this.#watchers.get(key);
    if (existing) {
      existing.refs++;
      return;
    }
    const watcher: CandleWatcher = { watch, refs: 1, lastOpenMs: undefined, ready: Promise.resolve() };
    watcher.ready = cachedCandlesAfter(this.#db, watch, undefined)
      .then(([newest]) => {
        watcher.lastOpenMs = newest?.openTimeMs ?? 0;
      })
      .catch((error: unknown) => this.#onError(error, `reading the candle cache of ${key}`));
    this.#watchers.set(key, watcher);
  }

  #unwatch(watch: Watch): void {
    const key = watchKey(watch);
    const watcher = this.#watchers.get(key);
    if (watcher && --watcher.refs <= 0) this.#watchers.delete(key);
  }

  #scheduleCandles(): void {
    this.#candleTimer = this.#clock.setTimer(
      () => {
        this.#candleTimer = undefined;
        this.#readingCandles = this.#readCandles().finally(() => {
          this.#readingCandles = undefined;
          if (!this.#stopped && this.#running) this.#scheduleCandles();
        });
      },
      this.#candlePollIntervalMs,
      { unref: true },
    );
  }

  async #readCandles(): Promise<void> {
    for (const [key, watcher] of this.#watchers) {
      if (watcher.lastOpenMs === undefined) continue;
      try {
        const bars = await cachedCandlesAfter(this.#db, watcher.watch, watcher.lastOpenMs);
        for (const bar of bars) {
          watcher.lastOpenMs = bar.openTimeMs;
          this.publish(
            'candle',
            {
              exchange: watcher.watch.exchange,
              symbol: watcher.watch.symbol,
              timeframe: watcher.watch.timeframe,
              openTime: new Date(bar.openTimeMs).toISOString(),
              open: bar.open,
              high: bar.high,
              low: bar.low,
              close: bar.close,
              volumeBase: bar.volumeBase,
            },
            { kind: 'candles', watch: key },
          );
        }
      } catch (error) {
        this.#onError(error, `reading the candle cache of ${key}`);
      }
    }
  }

  // --- heartbeats, the window, lingering ---------------------------------------------------

  #scheduleHeartbeat(): void {
    this.#heartbeatTimer = this.#clock.setTimer(
      () => {
        for (const subscriber of this.#subscribers) subscriber.comment('heartbeat');
        if (!this.#stopped && this.#running) this.#scheduleHeartbeat();
      },
      this.#heartbeatMs,
      { unref: true },
    );
  }

  #prune(): void {
    const oldest = this.#clock.now() - this.#windowMs;
    let drop = 0;
    while (drop < this.#ring.length && (this.#ring[drop]!.at < oldest || this.#ring.length - drop > this.#maxEvents)) drop++;
    if (drop > 0) {
      this.#unknownThrough = this.#ring[drop - 1]!.id;
      this.#ring = this.#ring.slice(drop);
    }
  }

  #linger(): void {
    this.#clock.clearTimer(this.#lingerTimer);
    this.#lingerTimer = this.#clock.setTimer(
      () => {
        this.#lingerTimer = undefined;
        if (this.#subscribers.size === 0) void this.stop();
      },
      this.#lingerMs,
      { unref: true },
    );
  }

  #audienceKeys(subscriber: Subscriber): string[] {
    return [
      audienceKey({ kind: 'user', userId: subscriber.userId }),
      ...(subscriber.staff && subscriber.department ? [audienceKey({ kind: 'department', department: subscriber.department })] : []),
      ...subscriber.approverOf.map((department) => audienceKey({ kind: 'approvers', department })),
      ...subscriber.watches.map((watch) => audienceKey({ kind: 'candles', watch: watchKey(watch) })),
    ];
  }

  #reaches(event: LiveEvent, subscriber: Subscriber, keys: ReadonlySet<string>): boolean {
    if (event.staffOnly && !subscriber.staff) return false;
    if (subscriber.userId === event.exceptUserId) return false;
    return event.audiences.some((audience) => keys.has(audienceKey(audience)));
  }
}

function audienceKey(audience: Audience): string {
  switch (audience.kind) {
    case 'user':
      return `user:${audience.userId}`;
    case 'department':
      return `department:${audience.department}`;
    case 'approvers':
      return `approvers:${audience.department}`;
    case 'candles':
      return `candles:${audience.watch}`;
  }
}
