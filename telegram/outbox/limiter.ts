/**
 * Telegram's outgoing limits, enforced before a request leaves the process: at most
 * `ratePerS` messages per second for the whole bot and `chatRatePerS` per chat.
 *
 * Both limits are kept as minimum spacings between the moments a send is granted
 * (1000 / ratePerS ms overall, 1000 / chatRatePerS ms per chat), so any 1-second window
 * holds at most `ratePerS` sends overall and `chatRatePerS` per chat, with no bursts for
 * Telegram's flood control to punish. Waiting senders are served first come, first served
 * among those whose chat is free: a chat that must wait never holds up the others.
 *
 * A 429 pauses its chat (and the whole bot when the flood limit is global) for Telegram's
 * `retry_after`; nothing is granted to a paused chat until then.
 */

export interface RateLimiterOptions {
  readonly ratePerS: number;
  readonly chatRatePerS: number;
  /** Clock in milliseconds (tests); defaults to performance.now() on the epoch scale. */
  readonly now?: () => number;
  /** Told of every grant, at the instant it is made (metrics, tests). */
  readonly onGrant?: (chat: string, at: number) => void;
}

export interface AcquireOptions {
  /** Give up (LimiterDeadlineError) when no slot can be granted by this instant (ms, limiter clock). */
  readonly deadline?: number;
  /** Give up (LimiterAbortedError) when aborted while waiting. */
  readonly signal?: AbortSignal;
}

export class LimiterDeadlineError extends Error {
  /** Earliest instant the chat could have been served (ms, limiter clock). */
  readonly earliest: number;
  constructor(earliest: number) {
    super('no sending slot before the deadline');
    this.name = 'LimiterDeadlineError';
    this.earliest = earliest;
  }
}

export class LimiterAbortedError extends Error {
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

const epochOffset = Date.now() - performance.now();
const defaultNow = () => epochOffset + performance.now();

export class RateLimiter {
  readonly ratePerS: number;
  readonly chatRatePerS: number;
  readonly now: () => number;
  private readonly onGrant: ((chat: string, at: number) => void) | undefined;
  private readonly globalSpacingMs: number;
  private readonly chatSpacingMs: number;
  /** Earliest instant of the next global grant. */
  private globalNext = 0;
  private globalPausedUntil = 0;
  /** Per chat: earliest instant of its next grant (spacing or pause, whichever is later). */
  private readonly chatNext = new Map<string, number>();
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** Counters for reports and metrics. */
  granted = 0;

  constructor(options: RateLimiterOptions) {
    if (!(options.ratePerS > 0) || !(options.chatRatePerS > 0)) throw new RangeError('rates must be positive');
    this.ratePerS = options.ratePerS;
    this.chatRatePerS = options.chatRatePerS;
    this.globalSpacingMs = 1000 / options.ratePerS;
    this.chatSpacingMs = 1000 / options.chatRatePerS;
    this.now = options.now ?? defaultNow;
    this.onGrant = options.onGrant;
  }

  /** Waits for a slot to send one message to `chat`, and takes it. */
  acquire(chat: string, options: AcquireOptions = {}): Promise<void> {
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
    this.chatNext.set(chat, Math.max(this.chatNext.get(chat) ?? 0, untilMs));
    this.pump();
  }

  /** Nothing goes anywhere before `untilMs` (a global 429, or Telegram unreachable). */
  pauseAll(untilMs: number): void {
    this.globalPausedUntil = Math.max(this.globalPausedUntil, untilMs);
    this.pump();
  }

  /** Until when the whole bot is paused (0 when it is not). */
  get pausedUntil(): number {
    return this.globalPausedUntil > this.now() ? this.globalPausedUntil : 0;
  }

  /** Earliest instant a message to `chat` could be granted, ignoring other waiters. */
  readyAt(chat: string): number {
    return Math.max(this.now(), this.globalNext, this.globalPausedUntil, this.chatNext.get(chat) ?? 0);
  }

  /** How many senders are waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
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
        const earliest = Math.max(now, this.globalPausedUntil, this.chatNext.get(waiter.chat) ?? 0);
        if (earliest > waiter.deadline) {
          this.remove(waiter);
          waiter.reject(new LimiterDeadlineError(earliest));
        }
      }
      if (this.waiters.length === 0) break;
      const globalReady = Math.max(this.globalNext, this.globalPausedUntil);
      if (globalReady <= now) {
        const next = this.waiters.find((waiter) => (this.chatNext.get(waiter.chat) ?? 0) <= now);
        if (next) {
          this.remove(next);
          this.globalNext = now + this.globalSpacingMs;
          this.chatNext.set(next.chat, now + this.chatSpacingMs);
          this.granted++;
          this.onGrant?.(next.chat, now);
          next.resolve();
          continue;
        }
      }
      let wakeAt = Infinity;
      for (const waiter of this.waiters) wakeAt = Math.min(wakeAt, Math.max(globalReady, this.chatNext.get(waiter.chat) ?? 0));
      this.arm(wakeAt);
      return;
    }
    this.forgetIdleChats();
    this.arm(Infinity);
  }

  private arm(at: number): void {
    if (at === this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity) return;
    // Timers may fire a little early on the millisecond grid: pump() re-checks and re-arms.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, Math.ceil(at - this.now())));
  }

  /** Chats whose spacing has passed need no entry (keeps the map small with many chats). */
  private forgetIdleChats(): void {
    if (this.chatNext.size < 10_000) return;
    const now = this.now();
    for (const [chat, next] of this.chatNext) if (next <= now) this.chatNext.delete(chat);
  }
}
