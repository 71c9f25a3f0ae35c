import { Queue, Worker, type Job as BullJob } from 'bullmq';
import { safeJobId } from './ids.ts';
import { DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS, type Job, type JobEvents, type JobHandler, type JobOptions, type Jobs, type QueueCounts, type QueueName, type Repeat } from './types.ts';

/** BullMQ keeps this many finished jobs per queue (for de-duplication and inspection). */
const KEEP_COMPLETED = 1_000;
const KEEP_FAILED = 5_000;

/**
 * The job layer on BullMQ over Redis: queues shared by every worker process, each job run by
 * one of them, schedules (job schedulers) firing once per occurrence across all of them, and
 * jobs kept in Redis across restarts.
 */
export class BullMqJobs implements Jobs {
  readonly kind = 'bullmq' as const;
  readonly #connection: { url: string };
  readonly #prefix: string;
  readonly #events: JobEvents;
  readonly #queues = new Map<QueueName, Queue>();
  readonly #workers: Worker[] = [];

  constructor(options: { url: string; prefix?: string; events?: JobEvents }) {
    this.#connection = { url: options.url };
    this.#prefix = options.prefix ?? 'botcriptofy';
    this.#events = options.events ?? {};
  }

  #queue(name: QueueName): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.#connection, prefix: this.#prefix });
      this.#queues.set(name, queue);
    }
    return queue;
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
    await this.#queue(queue).upsertJobScheduler(key, 'everyMs' in repeat ? { every: repeat.everyMs } : { pattern: repeat.cron, tz: repeat.timezone }, {
      name,
      data,
      opts: { attempts: 1, removeOnComplete: { count: KEEP_COMPLETED }, removeOnFail: { count: KEEP_FAILED } },
    });
  }

  async removeSchedule(queue: QueueName, key: string): Promise<void> {
    await this.#queue(queue).removeJobScheduler(key);
  }

  work(queue: QueueName, handler: JobHandler, options: { concurrency?: number } = {}): void {
    const toJob = (job: BullJob, attempt: number): Job => ({ id: job.id!, queue, name: job.name, data: job.data as unknown, attempt });
    const worker = new Worker(queue, (job) => handler(toJob(job, job.attemptsMade + 1)), { connection: this.#connection, prefix: this.#prefix, concurrency: options.concurrency ?? 1 });
    worker.on('completed', (job) => this.#events.onCompleted?.(toJob(job, job.attemptsMade), Date.now() - (job.timestamp + (job.delay ?? 0))));
    worker.on('failed', (job, error) => {
      if (job) this.#events.onFailed?.(toJob(job, job.attemptsMade), error, job.attemptsMade < (job.opts.attempts ?? 1));
    });
    // Connection trouble is reported and retried by BullMQ itself; keep the process alive.
    worker.on('error', () => {});
    this.#workers.push(worker);
  }

  async counts(queue: QueueName): Promise<QueueCounts> {
    const counts = await this.#queue(queue).getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized');
    return { waiting: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0), delayed: counts['delayed'] ?? 0, active: counts['active'] ?? 0, completed: counts['completed'] ?? 0, failed: counts['failed'] ?? 0 };
  }

  async close(timeoutMs = 10_000): Promise<void> {
    // Workers finish their running jobs first (BullMQ's graceful close), then the queues go.
    const closing = Promise.allSettled(this.#workers.map((worker) => worker.close()));
    const timedOut = await Promise.race([closing.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref())]);
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
