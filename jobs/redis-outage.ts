/** The few logger methods the job layer uses (pino's Logger has them). */
export interface JobsLogger {
  error(object: object, message: string): void;
  warn(object: object, message: string): void;
}

/**
 * Turns the stream of connection errors BullMQ's queues, workers and their Redis clients
 * emit during an outage (several a second per connection) into two log lines: one when the
 * first error arrives, one with the counts when Redis answers again.
 */
export class RedisOutageLog {
  readonly #logger: JobsLogger | undefined;
  readonly #now: () => number;
  #since: number | undefined;
  #errors = 0;
  readonly #sources = new Set<string>();

  constructor(logger: JobsLogger | undefined, now: () => number) {
    this.#logger = logger;
    this.#now = now;
  }

  get down(): boolean {
    return this.#since !== undefined;
  }

  /**
   * An error event of a queue or worker (`source`). Connection errors count toward the
   * outage; anything else (a job whose keys vanished with a flushed Redis, say) is a line
   * of its own.
   */
  failed(source: string, error: Error): void {
    if (!isConnectionError(error)) {
      this.#logger?.warn({ source, err: { message: error.message } }, 'job layer error');
      return;
    }
    this.#errors++;
    this.#sources.add(source);
    if (this.#since !== undefined) return;
    this.#since = this.#now();
    const code = (error as NodeJS.ErrnoException).code;
    this.#logger?.error(
      { source, err: { message: error.message, ...(code ? { code } : {}) } },
      'redis unreachable: jobs and schedules wait until it answers again',
    );
  }

  /** Redis answered a command again. */
  recovered(): void {
    if (this.#since === undefined) return;
    this.#logger?.warn(
      { downMs: this.#now() - this.#since, errors: this.#errors, sources: [...this.#sources].sort() },
      'redis reachable again',
    );
    this.#since = undefined;
    this.#errors = 0;
    this.#sources.clear();
  }
}

/** Node's socket errors and ioredis's words for a connection that is gone. */
function isConnectionError(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  return /connection is closed|connect e|socket|reached the max retries|stream isn't writeable/i.test(error.message);
}
