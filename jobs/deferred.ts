import type { JobHandler, JobOptions, Jobs, QueueCounts, QueueName, Repeat } from './types.ts';

/**
 * A runner whose code is imported as it is created, behind the same interface: BullMQ (about
 * 5 MB of a process's heap, with msgpackr) is loaded only by a process that has Redis configured,
 * so `start` and `worker` on the in-process runner never load it. Calls made meanwhile wait for
 * it, in the order they were made.
 */
export class DeferredJobs implements Jobs {
  readonly kind: Jobs['kind'];
  readonly #jobs: Promise<Jobs>;

  constructor(kind: Jobs['kind'], load: () => Promise<Jobs>) {
    this.kind = kind;
    this.#jobs = load();
    // work() cannot report a failed load; the calls that return promises (schedule, add, close) do.
    this.#jobs.catch(() => {});
  }

  async add<T>(queue: QueueName, name: string, data: T, options?: JobOptions): Promise<string> {
    return (await this.#jobs).add(queue, name, data, options);
  }

  async schedule<T>(queue: QueueName, key: string, repeat: Repeat, name: string, data: T): Promise<void> {
    return (await this.#jobs).schedule(queue, key, repeat, name, data);
  }

  async removeSchedule(queue: QueueName, key: string): Promise<void> {
    return (await this.#jobs).removeSchedule(queue, key);
  }

  work(queue: QueueName, handler: JobHandler, options?: { concurrency?: number }): void {
    void this.#jobs.then(
      (jobs) => jobs.work(queue, handler, options),
      () => {},
    );
  }

  async counts(queue: QueueName): Promise<QueueCounts> {
    return (await this.#jobs).counts(queue);
  }

  async close(timeoutMs?: number): Promise<void> {
    return (await this.#jobs).close(timeoutMs);
  }
}
