/**
 * Time as the product's long-running parts see it: what time it is, and "call me in N ms".
 * The running product uses the system clock; tests hand the same code a ManualClock and move
 * time themselves, so a lease, a backoff or a schedule is tested without waiting for it.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` once `ms` have passed on this clock. An unref'd timer does not keep the process alive. */
  setTimer(callback: () => void, ms: number, options?: { unref?: boolean }): ClockTimer;
  clearTimer(timer: ClockTimer | undefined): void;
}

/** A timer of some clock: only that clock's clearTimer reads it. */
export type ClockTimer = { readonly __clockTimer: true };

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, ms, options) {
    const timer = setTimeout(callback, Math.max(0, ms));
    if (options?.unref) timer.unref();
    return timer as unknown as ClockTimer;
  },
  clearTimer(timer) {
    if (timer) clearTimeout(timer as unknown as NodeJS.Timeout);
  },
};

const epochOffset = Date.now() - performance.now();

/**
 * The system clock read through the monotonic timer, on the epoch scale: never steps back
 * when the wall clock is adjusted, which pacing (rate limits) needs.
 */
export const monotonicClock: Clock = { ...systemClock, now: () => epochOffset + performance.now() };

interface ManualTimer extends ClockTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
}

/** Turns of the event loop given to the code a timer woke before time moves on. */
const SETTLE_TURNS = 20;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A clock that moves only when told to. `advance` fires the timers that fall due, in order,
 * each at its own instant, and lets the work they start run (promise callbacks and I/O that
 * is already done) before moving on. Work waiting on real I/O (a database, a socket) is
 * not waited for: `runUntil` moves time in steps until a condition holds, which is what a
 * test of asynchronous machinery needs.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: ManualTimer[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, ms: number): ClockTimer {
    const timer: ManualTimer = { __clockTimer: true, at: this.#now + Math.max(0, ms), seq: this.#seq++, callback };
    this.#timers.push(timer);
    return timer;
  }

  clearTimer(timer: ClockTimer | undefined): void {
    if (!timer) return;
    this.#timers = this.#timers.filter((t) => t !== timer);
  }

  /** Timers still to fire. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Lets the work already started run: promise callbacks and finished I/O. */
  async settle(turns = SETTLE_TURNS): Promise<void> {
    for (let i = 0; i < turns; i++) await nextTurn();
  }

  /** Moves time forward by `ms`, firing every timer due on the way at its own instant. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + Math.max(0, ms);
    await this.settle();
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.callback();
      await this.settle();
    }
    this.#now = target;
  }

  /**
   * Time passes all at once, as for a process that was suspended (a laptop asleep, a paused
   * VM): the timers due meanwhile fire late, at the new time, in order.
   */
  async jump(ms: number): Promise<void> {
    this.#now += Math.max(0, ms);
    await this.advance(0);
  }

  /**
   * Moves time until `condition` holds: to the next timer, or by `stepMs` when none is due
   * sooner, letting real I/O come back between moves. While `idle` says no (a request is on
   * its way, say), time stands still, so what happens on arrival carries the instant it was
   * sent at. Throws after `maxMs` of clock time, or a minute of real time.
   */
  async runUntil(
    condition: () => boolean | Promise<boolean>,
    options: { stepMs?: number; maxMs?: number; idle?: () => boolean; what?: string } = {},
  ): Promise<void> {
    const stepMs = options.stepMs ?? 100;
    const maxMs = options.maxMs ?? 10 * 60_000;
    const until = this.#now + maxMs;
    const realDeadline = Date.now() + 60_000;
    const what = options.what ?? 'condition';
    for (;;) {
      await this.settle();
      if (await condition()) return;
      if (this.#now >= until) throw new Error(`${what}: not met within ${maxMs} ms of clock time`);
      if (Date.now() > realDeadline)
        throw new Error(`${what}: not met within a minute of real time (clock moved to +${maxMs - (until - this.#now)} ms)`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (options.idle && !options.idle()) continue;
      const next = this.#timers.reduce((soonest, t) => Math.min(soonest, t.at), Infinity);
      await this.advance(Math.max(0, Math.min(stepMs, next - this.#now)));
    }
  }
}

/** Resolves after `ms` of real time, or at once when `signal` aborts (a loop's pause that a shutdown cuts short). */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
