// The job layer's contract: the same interface and semantics on BullMQ (Redis, many workers)
// and in this process (one machine). The contract tests (test/jobs) run against both.

export const QUEUES = ['bot-ticks', 'reports', 'notifications', 'webhooks', 'agent-tasks', 'backtests'] as const;
export type QueueName = (typeof QUEUES)[number];

export interface JobOptions {
  /** A job with the same id is not added again while it is known (waiting, delayed, running or recently done). */
  readonly jobId?: string;
  readonly delayMs?: number;
  /** Tries in all, the first included (default 3). */
  readonly attempts?: number;
  /** First retry waits this long, then twice as long each time (default 1000 ms). */
  readonly backoffMs?: number;
}

/** A repeating schedule: every N milliseconds, or a cron pattern in a time zone. */
export type Repeat = { readonly everyMs: number } | { readonly cron: string; readonly timezone: string };

export interface Job<T = unknown> {
  readonly id: string;
  readonly queue: QueueName;
  readonly name: string;
  readonly data: T;
  /** 1 on the first try. */
  readonly attempt: number;
}

export type JobHandler<T = unknown> = (job: Job<T>) => Promise<void>;

export interface QueueCounts {
  readonly waiting: number;
  readonly delayed: number;
  readonly active: number;
  readonly completed: number;
  readonly failed: number;
}

export interface JobEvents {
  /** A job finished; `ms` from when it became due to when it finished. */
  onCompleted?(job: Job, ms: number): void;
  onFailed?(job: Job, error: Error, willRetry: boolean): void;
  /** A declared schedule was missing from the queue's store (Redis lost its data) and was declared again. */
  onScheduleRecreated?(queue: QueueName, key: string): void;
}

export interface Jobs {
  readonly kind: 'bullmq' | 'in-process';
  add<T>(queue: QueueName, name: string, data: T, options?: JobOptions): Promise<string>;
  /**
   * Creates or replaces the schedule `key` (idempotent: every worker may declare it at start;
   * it still fires once per occurrence across all of them).
   */
  schedule<T>(queue: QueueName, key: string, repeat: Repeat, name: string, data: T): Promise<void>;
  removeSchedule(queue: QueueName, key: string): Promise<void>;
  /** Starts handling the queue's jobs here, at most `concurrency` at once. */
  work(queue: QueueName, handler: JobHandler, options?: { concurrency?: number }): void;
  counts(queue: QueueName): Promise<QueueCounts>;
  /** Stops taking jobs and waits (up to `timeoutMs`) for the running ones to finish. */
  close(timeoutMs?: number): Promise<void>;
}

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 1_000;

export function backoffDelay(backoffMs: number, failedAttempts: number): number {
  return backoffMs * 2 ** (failedAttempts - 1);
}
