import { Queue, Worker, type Job as BullJob } from 'bullmq';
import { systemClock, type Clock, type ClockTimer } from '../clock/index.ts';
import { safeJobId } from './ids.ts';
import { RedisOutageLog, type JobsLogger } from './redis-outage.ts';
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  type Job,
  type JobEvents,
  type JobHandler,
  type JobOptions,
  type Jobs,
  type QueueCounts,
  type QueueName,
  type Repeat,
} from './types.ts';

/** BullMQ keeps this many finished jobs per queue (for de-duplication and inspection). */
const KEEP_COMPLETED = 1_000;
const KEEP_FAILED = 5_000;
/** How often the declared schedules are checked against Redis by default. */
export const DEFAULT_SCHEDULE_CHECK_MS = 30_000;

interface DeclaredSchedule {
  readonly queue: QueueName;
  readonly key: string;
  readonly repeat: Repeat;
  readonly name: string;
  readonly data: unknown;
}

export interface BullMqJobsOptions {
  readonly url: string;
  readonly prefix?: string;
  readonly events?: JobEvents;
  /** Connection trouble is logged here: one line when Redis goes away, one with the counts when it is back. */
  readonly logger?: JobsLogger;
  /** How often the schedules this process declared are checked and re-created if missing (default 30 s). */
  readonly scheduleCheckMs?: number;
  /** Time for the schedule checks (tests move a ManualClock). */
  readonly clock?: Clock;
}

/**
 * The job layer on BullMQ over Redis: queues shared by every worker process, each job run by
 * one of them, schedules (job schedulers) firing once per occurrence across all of them, and
 * jobs kept in Redis across restarts.
 *
 * **Schedules heal.** A schedule lives in Redis only, so a Redis that lost its data
 * (restarted without persistence, failed over to an empty replica, flushed) would forget
 * every one of them while the workers keep running. Each process therefore remembers the
 * schedules it declared and checks them every `scheduleCheckMs` and whenever a connection
 * to Redis is re-established; a missing one is declared again (an idempotent upsert, so
 * several workers doing it at once still leave one schedule), reported through
 * `events.onScheduleRecreated` and a warning.
 */
export class BullMqJobs implements Jobs {
  readonly kind = 'bullmq' as const;
  readonly #connection: { url: string };
  readonly #prefix: string;
  readonly #events: JobEvents;
  readonly #logger: JobsLogger | undefined;
  readonly #clock: Clock;
  readonly #scheduleCheckMs: number;
  readonly #outage: RedisOutageLog;
  readonly #queues = new Map<QueueName, Queue>();
  readonly #workers: Worker[] = [];
  readonly #schedules = new Map<string, DeclaredSchedule>();
  #checkTimer: ClockTimer | undefined;
  #checking: Promise<number> | undefined;
  #closed = false;

  constructor(options: BullMqJobsOptions) {
    this.#connection = { url: options.url };
    this.#prefix = options.prefix ?? 'botcriptofy';
    this.#events = options.events ?? {};
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#scheduleCheckMs = options.scheduleCheckMs ?? DEFAULT_SCHEDULE_CHECK_MS;
    this.#outage = new RedisOutageLog(this.#logger, () => this.#clock.now());
  }

  #queue(name: QueueName): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.#connection, prefix: this.#prefix });
      // Without a listener BullMQ prints each connection error as raw text on stderr.
      queue.on('error', (error) => this.#outage.failed(`queue:${name}`, error));
      // Each (re)connection: Redis may have come back empty.
      queue.backend.connection.on('ready', () => void this.checkSchedules().catch(() => 0));
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Whether connection errors were seen since Redis last answered. */
  get redisDown(): boolean {
    return this.#outage.down;
  }

  /**
   * Declares again every schedule of this process that Redis no longer has; returns how many
   * were missing. Runs on a timer and on reconnection; concurrent calls share one check.
   */
  checkSchedules(): Promise<number> {
    if (this.#closed) return Promise.resolve(0);
    this.#checking ??= this.#checkOnce().finally(() => (this.#checking = undefined));
    return this.#checking;
  }

  async #checkOnce(): Promise<number> {
    let recreated = 0;
    for (const declared of [...this.#schedules.values()]) {
      const existing = await this.#queue(declared.queue).getJobScheduler(declared.key);
      this.#outage.recovered();
      if (existing) continue;
      if (this.#closed || this.#schedules.get(`${declared.queue}/${declared.key}`) !== declared) continue;
      await this.#upsert(declared);
      recreated++;
      this.#logger?.warn(
        { queue: declared.queue, schedule: declared.key },
        'schedule missing from Redis (restarted empty, failed over or flushed): declared again',
      );
      this.#events.onScheduleRecreated?.(declared.queue, declared.key);
    }
    return recreated;
  }

  #armCheck(): void {
    if (this.#checkTimer || this.#closed) return;
    const tick = () => {
      this.#checkTimer = undefined;
      void this.checkSchedules()
        .catch(() => 0)
        .finally(() => this.#armCheck());
    };
    this.#checkTimer = this.#clock.setTimer(tick, this.#scheduleCheckMs, { unref: true });
  }

  async #upsert(declared: DeclaredSchedule): Promise<void> {
    const { queue, key, repeat, name, data } = declared;
    await this.#queue(queue).upsertJobScheduler(
      key,
      'everyMs' in repeat ? { every: repeat.everyMs } : { pattern: repeat.cron, tz: repeat.timezone },
      {
        name,
        data,
        opts: { attempts: 1, removeOnComplete: { count: KEEP_COMPLETED }, removeOnFail: { count: KEEP_FAILED } },
      },
    );
  }

  async add<T>(queue: QueueName, name: string, data: T, options: JobOptions = {}): Promise<string> {
    const job = await this.#queue(queue).add(name, data, {
      ...(options.jobId ? { jobId: safeJobId(options.jobId) } : {}),
      ...(options.delayMs ? { delay: options.delayMs } : {}),
      attempts: options.attempts ?? DEFAULT_ATTEMPTS,
      backoff: { type: 'exponential', delay: options.backoffMs ?? DEFAULT_BACKOFF_MS },
      removeOnComplete: { count: KEEP_COMPLETED },
      removeOnFail: { count: KEEP_FAILED },
    });
    return job.id!;
  }

  async schedule<T>(queue: QueueName, key: string, repeat: Repeat, name: string, data: T): Promise<void> {
    const declared: DeclaredSchedule = { queue, key, repeat, name, data };
    await this.#upsert(declared);
    this.#schedules.set(`${queue}/${key}`, declared);
    this.#armCheck();
  }

  async removeSchedule(queue: QueueName, key: string): Promise<void> {
    this.#schedules.delete(`${queue}/${key}`);
    await this.#queue(queue).removeJobScheduler(key);
  }

  work(queue: QueueName, handler: JobHandler, options: { concurrency?: number } = {}): void {
    const toJob = (job: BullJob, attempt: number): Job => ({ id: job.id!, queue, name: job.name, data: job.data as unknown, attempt });
    const worker = new Worker(queue, (job) => handler(toJob(job, job.attemptsMade + 1)), {
      connection: this.#connection,
      prefix: this.#prefix,
      concurrency: options.concurrency ?? 1,
    });
    worker.on('completed', () => this.#outage.recovered());
    worker.on('completed', (job) =>
      this.#events.onCompleted?.(toJob(job, job.attemptsMade), Date.now() - (job.timestamp + (job.delay ?? 0))),
    );
    worker.on('failed', (job, error) => {
      if (job) this.#events.onFailed?.(toJob(job, job.attemptsMade), error, job.attemptsMade < (job.opts.attempts ?? 1));
    });
    // BullMQ reconnects by itself; the errors meanwhile are logged once per outage.
    worker.on('error', (error) => this.#outage.failed(`worker:${queue}`, error));
    this.#workers.push(worker);
  }

  async counts(queue: QueueName): Promise<QueueCounts> {
    const counts = await this.#queue(queue).getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized');
    return {
      waiting: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0),
      delayed: counts['delayed'] ?? 0,
      active: counts['active'] ?? 0,
      completed: counts['completed'] ?? 0,
      failed: counts['failed'] ?? 0,
    };
  }

  async close(timeoutMs = 10_000): Promise<void> {
    this.#closed = true;
    this.#clock.clearTimer(this.#checkTimer);
    this.#checkTimer = undefined;
    // Workers finish their running jobs first (BullMQ's graceful close), then the queues go.
    const closing = Promise.allSettled(this.#workers.map((worker) => worker.close()));
    const timedOut = await Promise.race([
      closing.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref()),
    ]);
    if (timedOut) await Promise.allSettled(this.#workers.map((worker) => worker.close(true)));
    await Promise.allSettled([...this.#queues.values()].map((queue) => queue.close()));
  }

  /** Removes every key of the used queues under this prefix (tests); works after close(). */
  async obliterate(): Promise<void> {
    for (const name of this.#queues.keys()) {
      const queue = new Queue(name, { connection: this.#connection, prefix: this.#prefix });
      await queue.obliterate({ force: true });
      await queue.close();
    }
  }
}
