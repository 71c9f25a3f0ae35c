import { Redis } from 'ioredis';

/**
 * Who owns which bot. A lock has a TTL and is renewed by its holder's heartbeat; when a worker
 * dies its locks lapse and another worker takes the bots over. Values are the holder's token,
 * so only the holder renews or releases (compare-and-set in Lua).
 */
export interface BotLocks {
  acquire(botId: string): Promise<boolean>;
  /** Renews the given locks; returns the ones still held (the others were lost). */
  renew(botIds: readonly string[]): Promise<Set<string>>;
  release(botId: string): Promise<void>;
  /** Announces this worker alive (for sharing bots fairly) and counts the live ones. */
  heartbeat(): Promise<number>;
  close(): Promise<void>;
}

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Locks in Redis (`SET key token NX PX ttl`), shared by every worker process. */
export class RedisBotLocks implements BotLocks {
  readonly #redis: Redis;
  readonly #token: string;
  readonly #ttlMs: number;
  readonly #prefix: string;
  readonly #kind: string;
  #announced = false;

  /** `kind` names the locked things in the key: `bot-lock` (default) or `feed-lock` (market-feed.ts's fetcher leases). */
  constructor(options: { url: string; workerId: string; ttlMs: number; prefix?: string; kind?: string }) {
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: 2, lazyConnect: false });
    this.#redis.on('error', () => {}); // reconnects on its own; a failed renew drops the bots
    this.#token = options.workerId;
    this.#ttlMs = options.ttlMs;
    this.#prefix = options.prefix ?? 'botcriptofy';
    this.#kind = options.kind ?? 'bot-lock';
  }

  #key(botId: string): string {
    return `${this.#prefix}:${this.#kind}:${botId}`;
  }

  async acquire(botId: string): Promise<boolean> {
    return (await this.#redis.set(this.#key(botId), this.#token, 'PX', this.#ttlMs, 'NX')) === 'OK';
  }

  async renew(botIds: readonly string[]): Promise<Set<string>> {
    if (botIds.length === 0) return new Set();
    const pipeline = this.#redis.pipeline();
    for (const id of botIds) pipeline.eval(RENEW, 1, this.#key(id), this.#token, this.#ttlMs);
    const results = (await pipeline.exec()) ?? [];
    return new Set(botIds.filter((_, i) => results[i]?.[1] === 1));
  }

  async release(botId: string): Promise<void> {
    await this.#redis.eval(RELEASE, 1, this.#key(botId), this.#token);
  }

  async heartbeat(): Promise<number> {
    const key = `${this.#prefix}:workers`;
    const now = Date.now();
    this.#announced = true;
    await this.#redis
      .multi()
      .zadd(key, now, this.#token)
      .zremrangebyscore(key, 0, now - this.#ttlMs)
      .exec();
    return this.#redis.zcard(key);
  }

  async close(): Promise<void> {
    // Only an instance that announced the worker withdraws it (a feed-lock instance shares the token).
    if (this.#announced) await this.#redis.zrem(`${this.#prefix}:workers`, this.#token).catch(() => 0);
    this.#redis.disconnect();
  }
}

/** One machine, one worker: every lock is this process's. */
export class LocalBotLocks implements BotLocks {
  readonly #held = new Set<string>();
  async acquire(botId: string): Promise<boolean> {
    this.#held.add(botId);
    return true;
  }
  async renew(botIds: readonly string[]): Promise<Set<string>> {
    return new Set(botIds.filter((id) => this.#held.has(id)));
  }
  async release(botId: string): Promise<void> {
    this.#held.delete(botId);
  }
  async heartbeat(): Promise<number> {
    return 1;
  }
  async close(): Promise<void> {
    this.#held.clear();
  }
}

/** Workers that announced themselves, with their last heartbeat (ms since the epoch). */
export async function workerHeartbeats(url: string, prefix = 'botcriptofy'): Promise<{ workerId: string; lastSeenMs: number }[]> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const flat = await redis.zrange(`${prefix}:workers`, '0', '-1', 'WITHSCORES');
    const out: { workerId: string; lastSeenMs: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ workerId: flat[i]!, lastSeenMs: Number(flat[i + 1]) });
    return out;
  } finally {
    redis.disconnect();
  }
}
