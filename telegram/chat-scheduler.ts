// How the Telegram door takes its updates: concurrently across chats, one at a time and in
// order within a chat, with two bounds. Knows nothing of Telegram: a chat is a key, an update
// is a job.

export interface ChatSchedulerOptions {
  /** Jobs running at once (all chats). */
  readonly concurrency: number;
  /** Jobs in hand (running or waiting) before `full` turns true and the caller should wait. */
  readonly maxPending: number;
  /** Jobs of one chat waiting behind its running one; more are dropped (a flood). */
  readonly maxQueuedPerChat: number;
}

/** What happened to a job once it is over. `error`: it threw (the chain goes on regardless). */
export type JobSettled = (outcome: { readonly ok: true } | { readonly ok: false; readonly error: unknown }) => void;

interface Chain {
  tail: Promise<void>;
  queued: number;
}

/**
 * A per-chat serial scheduler with back-pressure.
 *
 * - `schedule(key, job)` runs `job` after every earlier job of the same key, and only while
 *   fewer than `concurrency` jobs run; it returns at once. A key with `maxQueuedPerChat` jobs
 *   already in hand drops the new one (`false`).
 * - Back-pressure is the caller's loop: `while (scheduler.full) await scheduler.room();`, so
 *   that what the caller checks after waiting (is it stopping? a duplicate?) happens with no
 *   other caller in between.
 * - `idle(ms)` waits for every job taken to settle (a graceful stop).
 */
export class ChatScheduler {
  private readonly options: ChatSchedulerOptions;
  private readonly chains = new Map<string, Chain>();
  private readonly jobs = new Set<Promise<void>>();
  private readonly runWaiters: (() => void)[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  /** Jobs running now, and jobs taken but not settled (running or waiting). */
  private running = 0;
  private pending = 0;

  constructor(options: ChatSchedulerOptions) {
    this.options = options;
  }

  /** True while `maxPending` jobs are in hand: wait for `room()` before scheduling more. */
  get full(): boolean {
    return this.pending >= this.options.maxPending;
  }

  /** Resolves when a job settles (one waiter per settled job); check `full` again after. */
  room(): Promise<void> {
    return new Promise<void>((resolve) => this.roomWaiters.push(resolve));
  }

  /** Jobs taken and not yet settled. */
  get inFlight(): number {
    return this.jobs.size;
  }

  /**
   * Queues `job` behind the earlier jobs of `key`; returns without waiting for it. False when
   * the key already has `maxQueuedPerChat` jobs in hand (the job is dropped, never run).
   * `settled` runs once the job is over and its slot released, before `idle()` sees it done.
   */
  schedule(key: string, job: () => Promise<void>, settled?: JobSettled): boolean {
    const chain = this.chains.get(key) ?? { tail: Promise.resolve(), queued: 0 };
    if (chain.queued >= this.options.maxQueuedPerChat) return false;
    chain.queued++;
    this.pending++;
    this.chains.set(key, chain);
    let outcome: Parameters<JobSettled>[0] = { ok: true };
    const task: Promise<void> = chain.tail
      .then(async () => {
        while (this.running >= this.options.concurrency) await new Promise<void>((resolve) => this.runWaiters.push(resolve));
        this.running++;
        try {
          await job();
        } finally {
          this.running--;
          this.runWaiters.shift()?.();
        }
      })
      .catch((error: unknown) => {
        outcome = { ok: false, error };
      })
      .finally(() => {
        chain.queued--;
        this.pending--;
        this.roomWaiters.shift()?.();
        if (this.chains.get(key) === chain && chain.queued === 0) this.chains.delete(key);
        this.jobs.delete(task);
        settled?.(outcome);
      });
    chain.tail = task;
    this.jobs.add(task);
    return true;
  }

  /** Waits until no job is in hand; false when `timeoutMs` passed first. */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.jobs.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.jobs]), new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    }
    return true;
  }
}
