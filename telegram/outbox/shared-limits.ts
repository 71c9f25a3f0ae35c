import { Redis } from 'ioredis';

/** The shape of one of Telegram's limits, as the RateLimiter computes it. */
export interface WindowShape {
  /** At most this many grants in any `windowMs`… */
  readonly count: number;
  readonly windowMs: number;
  /** …and at least this far apart. */
  readonly spacingMs: number;
}

/**
 * Telegram's limits counted for the whole deployment: every process that sends for the bot
 * asks here before each message, after its own limiter granted it.
 */
export interface SharedLimits {
  /**
   * Takes a slot for `chat` at `now` (ms) when the deployment's windows and pauses allow it;
   * otherwise returns the earliest instant to ask again.
   */
  take(chat: string, now: number): Promise<{ readonly granted: true } | { readonly granted: false; readonly retryAt: number }>;
  /** Nothing goes to `chat` from any process before `untilMs` (a 429); `now` is the caller's clock. */
  pauseChat(chat: string, untilMs: number, now: number): Promise<void>;
  /** Nothing goes anywhere from any process before `untilMs`. */
  pauseAll(untilMs: number, now: number): Promise<void>;
  close(): Promise<void>;
}

// The same rule as the in-process Window, on lists of grant instants kept in Redis; the whole
// decision and the grant are one script, so two processes can never take the same slot.
const TAKE = `
local now = tonumber(ARGV[1])
local function ready_after(key, count, window, spacing)
  local times = redis.call('LRANGE', key, 0, -1)
  local n = #times
  if n == 0 then return 0 end
  local ready = tonumber(times[n]) + spacing
  if n >= count then
    local by_window = tonumber(times[n - count + 1]) + window
    if by_window > ready then ready = by_window end
  end
  return ready
end
local ready = now
local candidates = {
  ready_after(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])),
  ready_after(KEYS[2], tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])),
  tonumber(redis.call('GET', KEYS[3]) or '0'),
  tonumber(redis.call('GET', KEYS[4]) or '0'),
}
for _, at in ipairs(candidates) do
  if at > ready then ready = at end
end
if ready > now then return math.ceil(ready) end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 60000)
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(ARGV[6])) + 60000)
return 0
`;

// Keeps the later of the stored pause and the new one.
const PAUSE = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local untilMs = tonumber(ARGV[1])
if untilMs > current then redis.call('SET', KEYS[1], ARGV[1], 'PX', math.max(1, math.ceil(untilMs - tonumber(ARGV[2]))) + 60000) end
return 0
`;

/**
 * The deployment's Telegram limits in Redis (REDIS_URL): a list of recent grant instants
 * for the bot and one per chat, and pause keys set by 429 answers. Instants are the
 * senders' clocks, so the hosts' clocks must agree within the limiter's jitter allowance
 * (NTP keeps them within a few milliseconds).
 */
export class RedisSharedLimits implements SharedLimits {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #global: WindowShape;
  readonly #perChat: WindowShape;

  constructor(options: { url: string; botKey: string; global: WindowShape; perChat: WindowShape; prefix?: string }) {
    // A take carries its sender's instant: it must run now or never. No offline queue, no
    // resending after a reconnection, a timeout: a take executed seconds late would record a
    // grant in the past, which protects nothing (seen in the soak as two sends 38 ms apart
    // right after Redis came back).
    this.#redis = new Redis(options.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      commandTimeout: 1_000,
      connectTimeout: 2_000,
    });
    this.#redis.on('error', () => {}); // reconnects by itself; a failed take is the caller's to handle
    this.#redis.defineCommand('bcfTakeSlot', { numberOfKeys: 4, lua: TAKE });
    this.#redis.defineCommand('bcfPause', { numberOfKeys: 1, lua: PAUSE });
    // The bot's id (the part of the token before the colon) keeps two bots on one Redis apart.
    this.#prefix = `${options.prefix ?? 'botcriptofy'}:telegram-limits:${options.botKey}:`;
    this.#global = options.global;
    this.#perChat = options.perChat;
  }

  async take(chat: string, now: number): Promise<{ granted: true } | { granted: false; retryAt: number }> {
    const p = this.#prefix;
    const g = this.#global;
    const c = this.#perChat;
    const result = await (this.#redis as unknown as { bcfTakeSlot: (...args: (string | number)[]) => Promise<number> }).bcfTakeSlot(
      `${p}grants`,
      `${p}chat:${chat}:grants`,
      `${p}paused`,
      `${p}chat:${chat}:paused`,
      now,
      g.count,
      g.windowMs,
      g.spacingMs,
      c.count,
      c.windowMs,
      c.spacingMs,
    );
    return result === 0 ? { granted: true } : { granted: false, retryAt: Number(result) };
  }

  async pauseChat(chat: string, untilMs: number, now: number): Promise<void> {
    await this.#pause(`${this.#prefix}chat:${chat}:paused`, untilMs, now);
  }

  async pauseAll(untilMs: number, now: number): Promise<void> {
    await this.#pause(`${this.#prefix}paused`, untilMs, now);
  }

  async #pause(key: string, untilMs: number, now: number): Promise<void> {
    await (this.#redis as unknown as { bcfPause: (...args: (string | number)[]) => Promise<number> }).bcfPause(
      key,
      Math.ceil(untilMs),
      now,
    );
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}
