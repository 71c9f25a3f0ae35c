import crypto from 'node:crypto';
import { systemClock, type Clock, type ClockTimer } from '../clock/index.ts';
import { safeJobId } from './ids.ts';
import { assertCron, nextCronTime } from './cron.ts';
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  backoffDelay,
  type Job,
  type JobEvents,
  type JobHandler,
  type JobOptions,
  type Jobs,
  type QueueCounts,
  type QueueName,
  type Repeat,
} from './types.ts';

interface Entry {
  readonly job: { id: string; queue: QueueName; name: string; data: unknown };
  attempt: number;
  dueAt: number;
  readonly attempts: number;
  readonly backoffMs: number;
}

interface QueueState {
  readonly waiting: Entry[];
  readonly delayed: Set<Entry>;
  active: number;
  completed: number;
  failed: number;
  handler?: JobHandler;
  concurrency: number;
  /** Ids known to this queue, for `jobId` de-duplication (kept for recently finished jobs too). */
  readonly known: Map<string, 'pending' | 'done'>;
  readonly schedules: Map<string, { timer: ClockTimer; stop: () => void }>;
}

const KEEP_FINISHED_IDS = 10_000;

/**
 * The job layer in this process: the same semantics as the BullMQ one for a single machine
 * (retries with exponential backoff, delayed and repeatable jobs, concurrency limits, id
 * de-duplication, graceful drain), with no Redis. Jobs live in memory: what is queued when the
 * process stops is lost, which is why durable work (notifications, webhooks) keeps its own
 * state in PostgreSQL and jobs only drive it.
 */
export class InProcessJobs implements Jobs {
  readonly kind = 'in-process' as const;
  readonly #queues = new Map<QueueName, QueueState>();
  readonly #events: JobEvents;
  readonly #running = new Set<Promise<void>>();
  readonly #clock: Clock;
  #closed = false;

  /** `clock`: delays, retries and schedules run on it (tests move a ManualClock). */
  constructor(events: JobEvents = {}, options: { clock?: Clock } = {}) {
    this.#events = events;
    this.#clock = options.clock ?? systemClock;
  }

  #queue(name: QueueName): QueueState {
    let state = this.#queues.get(name);
    if (!state) {
      state = {
        waiting: [],
        delayed: new Set(),
        active: 0,
        completed: 0,
        failed: 0,
        concurrency: 1,
        known: new Map(),
        schedules: new Map(),
      };
      this.#queues.set(name, state);
    }
    return state;
  }

  async add<T>(queue: QueueName, name: string, data: T, options: JobOptions = {}): Promise<string> {
    if (this.#closed) throw new Error('the job runner is closed');
    const state = this.#queue(queue);
    const id = options.jobId ? safeJobId(options.jobId) : crypto.randomUUID();
    if (state.known.has(id)) return id;
    state.known.set(id, 'pending');
    const entry: Entry = {
      job: { id, queue, name, data },
      attempt: 1,
      dueAt: this.#clock.now() + (options.delayMs ?? 0),
      attempts: options.attempts ?? DEFAULT_ATTEMPTS,
      backoffMs: options.backoffMs ?? DEFAULT_BACKOFF_MS,
    };
    this.#enqueue(state, entry);
    return id;
  }

  #enqueue(state: QueueState, entry: Entry): void {
    const wait = entry.dueAt - this.#clock.now();
    if (wait > 0) {
      state.delayed.add(entry);
      this.#clock.setTimer(
        () => {
          if (!state.delayed.delete(entry) || this.#closed) return;
          state.waiting.push(entry);
          this.#pump(state);
        },
        wait,
        { unref: true },
      );
      return;
    }
    state.waiting.push(entry);
    this.#pump(state);
  }

  #pump(state: QueueState): void {
    while (!this.#closed && state.handler && state.active < state.concurrency && state.waiting.length > 0) {
      const entry = state.waiting.shift()!;
      state.active += 1;
      const run = this.#run(state, entry).finally(() => {
        state.active -= 1;
        this.#running.delete(run);
        this.#pump(state);
      });
      this.#running.add(run);
    }
  }

  async #run(state: QueueState, entry: Entry): Promise<void> {
    const job: Job = { ...entry.job, attempt: entry.attempt };
    try {
      await state.handler!(job);
      state.completed += 1;
      this.#finish(state, entry.job.id);
      this.#events.onCompleted?.(job, this.#clock.now() - entry.dueAt);
    } catch (error) {
      const willRetry = entry.attempt < entry.attempts && !this.#closed;
      this.#events.onFailed?.(job, error as Error, willRetry);
      if (willRetry) {
        const delay = backoffDelay(entry.backoffMs, entry.attempt);
        entry.attempt += 1;
        entry.dueAt = this.#clock.now() + delay;
        this.#enqueue(state, entry);
      } else {
        state.failed += 1;
        this.#finish(state, entry.job.id);
      }
    }
  }

  #finish(state: QueueState, id: string): void {
    state.known.set(id, 'done');
    if (state.known.size > KEEP_FINISHED_IDS) {
      for (const [key, status] of state.known) {
        if (status === 'done') {
          state.known.delete(key);
          break;
        }
      }
    }
  }

  async schedule<T>(queue: QueueName, key: string, repeat: Repeat, name: string, data: T): Promise<void> {
    if ('cron' in repeat) assertCron(repeat.cron, repeat.timezone);
    await this.removeSchedule(queue, key);
    const state = this.#queue(queue);
    let stopped = false;
    const nextAt = (from: number) =>
      'everyMs' in repeat
        ? Math.floor(from / repeat.everyMs) * repeat.everyMs + repeat.everyMs
        : nextCronTime(repeat.cron, repeat.timezone, new Date(from)).getTime();
    const arm = (at: number) => {
      const timer = this.#clock.setTimer(
        () => {
          if (stopped || this.#closed) return;
          // One job per occurrence, named by it, as BullMQ's job schedulers do.
          void this.add(queue, name, data, { jobId: safeJobId(`schedule:${key}:${at}`), attempts: 1 }).catch(() => {});
          arm(nextAt(at));
        },
        Math.max(0, at - this.#clock.now()),
        { unref: true },
      );
      state.schedules.set(key, {
        timer,
        stop: () => {
          stopped = true;
          this.#clock.clearTimer(timer);
        },
      });
    };
    arm(nextAt(this.#clock.now()));
  }

  async removeSchedule(queue: QueueName, key: string): Promise<void> {
    const state = this.#queue(queue);
    state.schedules.get(key)?.stop();
    state.schedules.delete(key);
  }

  work(queue: QueueName, handler: JobHandler, options: { concurrency?: number } = {}): void {
    const state = this.#queue(queue);
    state.handler = handler;
    state.concurrency = options.concurrency ?? 1;
    this.#pump(state);
  }

  async counts(queue: QueueName): Promise<QueueCounts> {
    const state = this.#queue(queue);
    return {
      waiting: state.waiting.length,
      delayed: state.delayed.size,
      active: state.active,
      completed: state.completed,
      failed: state.failed,
    };
  }

  async close(timeoutMs = 10_000): Promise<void> {
    this.#closed = true;
    for (const state of this.#queues.values()) for (const schedule of state.schedules.values()) schedule.stop();
    const drained = Promise.allSettled([...this.#running]);
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }
}
