import { Redis } from 'ioredis';
import { ProductError } from '../errors/index.ts';

/** Redis (REDIS_URL) did not answer; the message names the variable and the address. */
export class RedisUnavailableError extends ProductError {
  readonly category = 'unavailable' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * One PING before a process relies on Redis, so an unreachable server is one clear line
 * ("Cannot reach Redis at host:6379 (REDIS_URL): ECONNREFUSED") instead of BullMQ's bare
 * "Connection is closed." and a stack trace later.
 */
export async function assertRedisReachable(url: string, timeoutMs = 3_000): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let lastError: unknown;
  redis.on('error', (error) => (lastError = error));
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    const cause = lastError ?? error;
    const code = (cause as NodeJS.ErrnoException).code;
    const reason = code ?? (cause as Error).message ?? String(cause);
    throw new RedisUnavailableError(
      `Cannot reach Redis at ${describeRedisUrl(url)} (REDIS_URL): ${reason}. Start Redis, fix REDIS_URL, or unset it to run jobs in this process.`,
      { cause },
    );
  } finally {
    redis.disconnect();
  }
}

function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || '6379'}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}
