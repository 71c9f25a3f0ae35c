import { monotonicClock, type Clock, type ClockTimer } from '../../clock/index.ts';
import type { SharedLimits, WindowShape } from './shared-limits.ts';
import { ProductError } from '../../errors/index.ts';

/**
 * Telegram's outgoing limits, enforced before a request leaves the process: at most
 * `ratePerS` messages per second for the whole bot and `chatRatePerS` per chat.
 *
 * Each limit is a sliding window over the moments sends are granted: at most N = ⌊rate⌋
 * (at least 1) grants in any N / rate seconds plus `jitterMs`, and grants at least
 * 1 / rate apart (no bursts for Telegram's flood control to punish). The `jitterMs`
 * (default 25 ms) is how much later one request may reach Telegram than the next one without
 * Telegram counting N + 1 in its own one-second window; it costs 2.4 % of the rate at 30/s.
 * One chat gets a wider allowance, `chatJitterMs` (default 250 ms): its messages are a second
 * apart, so a single request held up by a busy process (the soak measured arrivals up to
 * ~200 ms later than their grants, with several processes sending on a loaded 2-core
 * machine) is enough for Telegram to count two in its second. It costs a fifth of a chat's
 * rate, which digests make up for (a backlog goes out as one message).
 * Waiting senders are served first come, first served among those whose chat is free: a
 * chat that must wait never holds up the others.
 *
 * A 429 pauses its chat (and the whole bot when the flood limit is global) for Telegram's
 * `retry_after`; nothing is granted to a paused chat until then.
 *
 * With `shared` (Redis, when the deployment has several processes sending for the bot), a
 * grant of this limiter is then confirmed against the deployment's windows and pauses, and
 * waits there when other processes took the slots: N processes together stay within
 * Telegram's limits. Should Redis not answer (reported once through `onSharedUnavailable`),
 * a request with a deadline (the outbox's) waits for it until the deadline, and one without
 * (a reply in a conversation) goes out within this process's own limits.
 */

export interface RateLimiterOptions {
  readonly ratePerS: number;
  readonly chatRatePerS: number;
  /** Time and timers (tests move a ManualClock); defaults to the monotonic system clock. */
  readonly clock?: Clock;
  /** Allowance for requests reaching Telegram unevenly late (ms), on the bot's limit. Default 25. */
  readonly jitterMs?: number;
  /** The same allowance on each chat's limit. Default 250. */
  readonly chatJitterMs?: number;
  /** Told of every grant, at the instant it is made (metrics, tests). */
  readonly onGrant?: (chat: string, at: number) => void;
  /** The deployment-wide limits every sending process shares. */
  readonly shared?: SharedLimits;
  /** The shared limits could not be reached (once per outage). */
  readonly onSharedUnavailable?: (error: unknown) => void;
}

export interface AcquireOptions {
  /** Give up (LimiterDeadlineError) when no slot can be granted by this instant (ms, limiter clock). */
  readonly deadline?: number;
  /** Give up (LimiterAbortedError) when aborted while waiting. */
  readonly signal?: AbortSignal;
}

export class LimiterDeadlineError extends ProductError {
  readonly category = 'unavailable' as const;
  /** Earliest instant the chat could have been served (ms, limiter clock). */
  readonly earliest: number;
  constructor(earliest: number) {
    super('no sending slot before the deadline');
    this.name = 'LimiterDeadlineError';
    this.earliest = earliest;
  }
}

export class LimiterAbortedError extends ProductError {
  readonly category = 'unavailable' as const;
  constructor() {
    super('stopped while waiting for a sending slot');
    this.name = 'LimiterAbortedError';
  }
}

interface Waiter {
  readonly chat: string;
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** At most `count` grants in any `windowMs`, and at least `spacingMs` apart. */
class Window implements WindowShape {
  readonly count: number;
  readonly windowMs: number;
  readonly spacingMs: number;
  constructor(ratePerS: number, jitterMs: number) {
    this.count = Math.max(1, Math.floor(ratePerS));
    this.windowMs = (this.count * 1000) / ratePerS + jitterMs;
    this.spacingMs = 1000 / ratePerS;
  }
  /** Earliest next grant after the grants in `times` (oldest first, at most `count` kept). */
  next(times: readonly number[]): number {
    if (times.length === 0) return 0;
    const bySpacing = times[times.length - 1]! + this.spacingMs;
    return times.length >= this.count ? Math.max(bySpacing, times[times.length - this.count]! + this.windowMs) : bySpacing;
  }
  record(times: number[], at: number): void {
    times.push(at);
    if (times.length > this.count) times.splice(0, times.length - this.count);
  }
}

interface ChatState {
  readonly times: number[];
  pausedUntil: number;
}

/** How long a sender waits before asking unreachable shared limits again. */
const SHARED_RETRY_MS = 500;

export class RateLimiter {
  readonly ratePerS: number;
  readonly chatRatePerS: number;
  readonly clock: Clock;
  private readonly onGrant: ((chat: string, at: number) => void) | undefined;
  private readonly global: Window;
  private readonly perChat: Window;
  private readonly globalTimes: number[] = [];
  private globalPausedUntil = 0;
  private readonly chats = new Map<string, ChatState>();
  private readonly waiters: Waiter[] = [];
  private timer: ClockTimer | undefined;
  private timerAt = Infinity;
  private readonly shared: SharedLimits | undefined;
  private readonly onSharedUnavailable: ((error: unknown) => void) | undefined;
  private sharedDown = false;
  /** Grants of this limiter waiting for the deployment's windows (on a timer), and asking Redis. */
  private sharedSleeping = 0;
  private sharedAsking = 0;
  /** Counters for reports and metrics. */
  granted = 0;

  constructor(options: RateLimiterOptions) {
    if (!(options.ratePerS > 0) || !(options.chatRatePerS > 0)) throw new RangeError('rates must be positive');
    this.ratePerS = options.ratePerS;
    this.chatRatePerS = options.chatRatePerS;
    const jitterMs = options.jitterMs ?? 25;
    this.global = new Window(options.ratePerS, jitterMs);
    this.perChat = new Window(options.chatRatePerS, options.chatJitterMs ?? 250);
    this.clock = options.clock ?? monotonicClock;
    this.onGrant = options.onGrant;
    this.shared = options.shared;
    this.onSharedUnavailable = options.onSharedUnavailable;
  }

  /** The windows of the bot and of one chat, as the shared limits need them. */
  get shapes(): { global: WindowShape; perChat: WindowShape } {
    return { global: this.global, perChat: this.perChat };
  }

  /** Requests asking the shared limits right now (I/O, not waiting for time). */
  get asking(): number {
    return this.sharedAsking;
  }

  /** Milliseconds on the limiter's clock. */
  now(): number {
    return this.clock.now();
  }

  /** Waits for a slot to send one message to `chat`, and takes it. */
  async acquire(chat: string, options: AcquireOptions = {}): Promise<void> {
    await this.acquireHere(chat, options);
    if (this.shared) await this.confirmShared(this.shared, chat, options);
  }

  /** Asks the deployment's windows until they grant, the deadline passes or the wait is aborted. */
  private async confirmShared(shared: SharedLimits, chat: string, options: AcquireOptions): Promise<void> {
    const deadline = options.deadline ?? Infinity;
    for (;;) {
      if (options.signal?.aborted) throw new LimiterAbortedError();
      let answer: Awaited<ReturnType<SharedLimits['take']>>;
      this.sharedAsking++;
      try {
        answer = await shared.take(chat, this.now());
      } catch (error) {
        if (!this.sharedDown) this.onSharedUnavailable?.(error);
        this.sharedDown = true;
        // A reply someone waits for goes out within this process's own limits; a queued
        // notification (it has a deadline) waits for Redis, so processes that cannot see each
        // other's sends never add up past Telegram's limits.
        if (options.deadline === undefined) return;
        answer = { granted: false, retryAt: this.now() + SHARED_RETRY_MS };
      } finally {
        this.sharedAsking--;
      }
      if (answer.granted) {
        this.sharedDown = false;
        this.onGrant?.(chat, this.now());
        return;
      }
      if (answer.retryAt > deadline) throw new LimiterDeadlineError(answer.retryAt);
      this.sharedSleeping++;
      try {
        await this.sleepUntil(answer.retryAt, options.signal);
      } finally {
        this.sharedSleeping--;
      }
    }
  }

  private sleepUntil(at: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.clock.clearTimer(timer);
        reject(new LimiterAbortedError());
      };
      const timer = this.clock.setTimer(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(1, Math.ceil(at - this.now())),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** This process's own limits (the whole story without `shared`). */
  private acquireHere(chat: string, options: AcquireOptions): Promise<void> {
    const deadline = options.deadline ?? Infinity;
    if (options.signal?.aborted) return Promise.reject(new LimiterAbortedError());
    const earliest = this.readyAt(chat);
    if (earliest > deadline) return Promise.reject(new LimiterDeadlineError(earliest));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        chat,
        deadline,
        resolve,
        reject,
        signal: options.signal,
        onAbort: () => {
          this.remove(waiter);
          reject(new LimiterAbortedError());
          this.pump();
        },
      };
      options.signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** Nothing goes to `chat` before `untilMs` (a 429 for that chat). */
  pauseChat(chat: string, untilMs: number): void {
    const state = this.chatState(chat);
    state.pausedUntil = Math.max(state.pausedUntil, untilMs);
    this.pump();
    void this.shared?.pauseChat(chat, untilMs, this.now()).catch(() => {});
  }

  /** Nothing goes anywhere before `untilMs` (a global 429, or Telegram unreachable). */
  pauseAll(untilMs: number): void {
    this.globalPausedUntil = Math.max(this.globalPausedUntil, untilMs);
    this.pump();
    void this.shared?.pauseAll(untilMs, this.now()).catch(() => {});
  }

  /** Until when the whole bot is paused (0 when it is not). */
  get pausedUntil(): number {
    return this.globalPausedUntil > this.now() ? this.globalPausedUntil : 0;
  }

  /** Earliest instant a message to `chat` could be granted, ignoring other waiters. */
  readyAt(chat: string): number {
    return Math.max(this.now(), this.globalReady(), this.chatReady(chat));
  }

  private globalReady(): number {
    return Math.max(this.global.next(this.globalTimes), this.globalPausedUntil);
  }

  private chatReady(chat: string): number {
    const state = this.chats.get(chat);
    return state ? Math.max(this.perChat.next(state.times), state.pausedUntil) : 0;
  }

  private chatState(chat: string): ChatState {
    let state = this.chats.get(chat);
    if (!state) {
      state = { times: [], pausedUntil: 0 };
      this.chats.set(chat, state);
    }
    return state;
  }

  /** How many senders are waiting for a slot (here, or on a timer for the deployment's windows). */
  get waiting(): number {
    return this.waiters.length + this.sharedSleeping;
  }

  private remove(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  private pump(): void {
    for (;;) {
      const now = this.now();
      // Waiters whose deadline can no longer be met give up now, not at the deadline.
      for (const waiter of [...this.waiters]) {
        const earliest = Math.max(now, this.globalPausedUntil, this.chatReady(waiter.chat));
        if (earliest > waiter.deadline) {
          this.remove(waiter);
          waiter.reject(new LimiterDeadlineError(earliest));
        }
      }
      if (this.waiters.length === 0) break;
      const globalReady = this.globalReady();
      if (globalReady <= now) {
        const next = this.waiters.find((waiter) => this.chatReady(waiter.chat) <= now);
        if (next) {
          this.remove(next);
          this.global.record(this.globalTimes, now);
          this.perChat.record(this.chatState(next.chat).times, now);
          this.granted++;
          if (!this.shared) this.onGrant?.(next.chat, now);
          next.resolve();
          continue;
        }
      }
      let wakeAt = Infinity;
      for (const waiter of this.waiters) wakeAt = Math.min(wakeAt, Math.max(globalReady, this.chatReady(waiter.chat)));
      this.arm(wakeAt);
      return;
    }
    this.forgetIdleChats();
    this.arm(Infinity);
  }

  private arm(at: number): void {
    if (at === this.timerAt) return;
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity) return;
    // Timers may fire a little early on the millisecond grid: pump() re-checks and re-arms.
    this.timer = this.clock.setTimer(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.pump();
      },
      Math.max(0, Math.ceil(at - this.now())),
    );
  }

  /** Chats whose window has passed need no entry (keeps the map small with many chats). */
  private forgetIdleChats(): void {
    if (this.chats.size < 10_000) return;
    const now = this.now();
    for (const [chat, state] of this.chats) {
      const last = state.times[state.times.length - 1] ?? 0;
      if (state.pausedUntil <= now && last + this.perChat.windowMs <= now) this.chats.delete(chat);
    }
  }
}
