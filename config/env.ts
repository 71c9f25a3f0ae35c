import { z } from 'zod';

/** Boolean env values people actually type: true/false, 1/0, yes/no, on/off. */
const envBoolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
    error: 'expected true or false',
  })
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

const postgresUrl = z.string().regex(/^postgres(ql)?:\/\/.+/, { error: 'expected a postgres:// or postgresql:// URL' });

const masterKey = z.string().regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, {
  error: 'expected 32 bytes as 64 hex characters or 44 base64 characters',
});

/**
 * Every setting the program reads, with its default. The README's configuration table is
 * written from this list; keep the two in step.
 */
function requestsPerMinute(fallback: number) {
  return z.coerce
    .number({ error: 'expected a number of requests a minute' })
    .int({ error: 'expected a whole number of requests a minute' })
    .min(1, { error: 'expected at least 1' })
    .max(1_000_000, { error: 'expected at most 1000000' })
    .default(fallback);
}

/**
 * The shortest retention of security events: sign-ins with their IP and time are access logs,
 * which Brazil's Marco Civil da Internet (Lei 12.965/2014, art. 15) requires keeping 6 months.
 * privacy/retention.ts applies the same floor to a schedule given to it directly.
 */
export const SECURITY_EVENTS_RETENTION_FLOOR = {
  days: 180,
  why: ": sign-in events with IP and time are access logs, which Brazil's Marco Civil da Internet (art. 15) requires keeping for 6 months",
} as const;

function retentionDays(fallback: number, floor: { days: number; why: string } = { days: 1, why: '' }) {
  return z.coerce
    .number({ error: 'expected a number of days' })
    .int({ error: 'expected whole days' })
    .min(floor.days, { error: `expected at least ${floor.days} day${floor.days === 1 ? '' : 's'}${floor.why}` })
    .max(36_500, { error: 'expected at most 36500 days' })
    .default(fallback);
}

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce
    .number({ error: 'expected an integer port' })
    .int({ error: 'expected an integer port' })
    .min(0, { error: 'expected a port between 0 and 65535' })
    .max(65535, { error: 'expected a port between 0 and 65535' })
    .default(3000),
  /** `worker` only: serve /metrics and /health on this port (bound to HOST); unset: a worker opens no port. */
  METRICS_PORT: z.coerce
    .number({ error: 'expected an integer port' })
    .int({ error: 'expected an integer port' })
    .min(0, { error: 'expected a port between 0 and 65535' })
    .max(65535, { error: 'expected a port between 0 and 65535' })
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_MAX: z.coerce
    .number({ error: 'expected an integer' })
    .int({ error: 'expected an integer' })
    .min(1, { error: 'expected at least 1' })
    .max(200, { error: 'expected at most 200' })
    .default(10),
  DATABASE_CONNECT_TIMEOUT_S: z.coerce
    .number({ error: 'expected a number of seconds' })
    .int({ error: 'expected an integer number of seconds' })
    .min(1, { error: 'expected at least 1 second' })
    .max(120, { error: 'expected at most 120 seconds' })
    .default(10),
  MASTER_KEY: masterKey.optional(),
  DEMO_SEED: envBoolean.default(true),
  TRADING_MODE: z.enum(['paper', 'live'], { error: 'expected paper or live' }).default('paper'),
  TRADING_KILL_SWITCH: envBoolean.default(false),
  /** After a stop loss, no new entry in that pair of that bot for this long (a pair lock); 0: none. */
  TRADING_STOP_LOSS_COOLDOWN_MINUTES: z.coerce
    .number({ error: 'expected a number of minutes' })
    .int({ error: 'expected an integer number of minutes' })
    .min(0, { error: 'expected 0 (no cooldown) or more' })
    .max(10_080, { error: 'expected at most 10080 (a week)' })
    .default(0),
  /** Where paper bots get prices (trading/exchange/paper-markets.ts). */
  PAPER_MARKET: z.enum(['auto', 'exchange', 'replay'], { error: 'expected auto, exchange or replay' }).default('auto'),
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/, { error: 'expected a Stripe secret key (sk_test_… or sk_live_…)' })
    .optional(),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9_]+$/, { error: 'expected a webhook signing secret (whsec_…)' })
    .optional(),
  STRIPE_API_URL: z.url({ error: 'expected a URL such as http://127.0.0.1:12111' }).optional(),
  OLLAMA_HOST: z.url({ error: 'expected a URL such as http://127.0.0.1:11434' }).default('http://127.0.0.1:11434'),
  OLLAMA_MODEL: z
    .string()
    .regex(/^[\w./:-]+$/, { error: 'expected a model name such as qwen3:0.6b' })
    .default('qwen3:0.6b'),
  /** Per-agent models, e.g. `ceo=qwen3:4b,finance=qwen3:1.7b`. */
  OLLAMA_AGENT_MODELS: z
    .string()
    .regex(/^\s*[a-z]+\s*=\s*[\w./:-]+\s*(,\s*[a-z]+\s*=\s*[\w./:-]+\s*)*$/, {
      error: 'expected agent=model pairs separated by commas, e.g. ceo=qwen3:4b,finance=qwen3:1.7b',
    })
    .transform((text) => Object.fromEntries(text.split(',').map((pair) => pair.split('=').map((part) => part.trim()) as [string, string])))
    .optional(),
  /**
   * How agents choose tools: `native` (Ollama's tool calling) or `structured` (the reply is
   * constrained by a JSON Schema of the agent's tools; see agents/structured-tools.ts).
   */
  AGENT_TOOL_MODE: z.enum(['native', 'structured'], { error: 'expected native or structured' }).default('structured'),
  /** Per-agent tool modes, e.g. `ceo=native,finance=structured`. */
  AGENT_TOOL_MODES: z
    .string()
    .regex(/^\s*[a-z]+\s*=\s*(native|structured)\s*(,\s*[a-z]+\s*=\s*(native|structured)\s*)*$/, {
      error: 'expected agent=native|structured pairs separated by commas, e.g. ceo=native,finance=structured',
    })
    .transform((text) =>
      Object.fromEntries(text.split(',').map((pair) => pair.split('=').map((part) => part.trim()) as [string, 'native' | 'structured'])),
    )
    .optional(),
  /** Longest wait for one model call; past it the turn is answered without the model. */
  OLLAMA_TIMEOUT_MS: z.coerce
    .number({ error: 'expected milliseconds' })
    .int({ error: 'expected an integer number of milliseconds' })
    .min(100, { error: 'expected at least 100 ms' })
    .max(600_000, { error: 'expected at most 600000 ms' })
    .default(30_000),
  TELEGRAM_BOT_TOKEN: z
    .string()
    .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, { error: 'expected a bot token from @BotFather (123456:ABC…)' })
    .optional(),
  TELEGRAM_API_ROOT: z.url({ error: 'expected a URL such as https://api.telegram.org' }).default('https://api.telegram.org'),
  /** Set: Telegram pushes updates to this public URL (…/telegram/webhook); unset: long polling. */
  TELEGRAM_WEBHOOK_URL: z.url({ error: 'expected the public https URL Telegram should call' }).optional(),
  /** Checked against the X-Telegram-Bot-Api-Secret-Token header in webhook mode. */
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,256}$/, { error: 'expected 16–256 letters, digits, _ or -' })
    .optional(),
  /** Outgoing messages per second, over all chats and per chat (Telegram's limits: ~30 and 1). */
  TELEGRAM_RATE_PER_S: z.coerce
    .number({ error: 'expected a number' })
    .positive({ error: 'expected more than 0' })
    .max(1000, { error: 'expected at most 1000' })
    .default(30),
  TELEGRAM_CHAT_RATE_PER_S: z.coerce
    .number({ error: 'expected a number' })
    .positive({ error: 'expected more than 0' })
    .max(100, { error: 'expected at most 100' })
    .default(1),
  /** Set: jobs run on BullMQ over this Redis, shared by every worker; unset: in this process. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, { error: 'expected a redis:// or rediss:// URL' })
    .optional(),
  SCHEDULE_TIMEZONE: z
    .string()
    .refine(
      (zone) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: zone });
          return true;
        } catch {
          return false;
        }
      },
      { error: 'expected an IANA time zone such as America/Sao_Paulo' },
    )
    .default('America/Sao_Paulo'),
  BOT_TICK_INTERVAL_S: z.coerce
    .number({ error: 'expected seconds' })
    .int({ error: 'expected whole seconds' })
    .min(1, { error: 'expected at least 1 second' })
    .max(3600, { error: 'expected at most 3600 seconds' })
    .default(10),
  /** A worker's hold on a bot lapses after this unless renewed; another worker then takes over. */
  BOT_LOCK_TTL_MS: z.coerce
    .number({ error: 'expected milliseconds' })
    .int({ error: 'expected milliseconds' })
    .min(1000, { error: 'expected at least 1000 ms' })
    .max(600_000, { error: 'expected at most 600000 ms' })
    .default(30_000),
  /** How often each worker checks that Redis still has the schedules it declared (they come back after Redis lost its data). */
  SCHEDULE_CHECK_S: z.coerce
    .number({ error: 'expected seconds' })
    .int({ error: 'expected whole seconds' })
    .min(1, { error: 'expected at least 1 second' })
    .max(3600, { error: 'expected at most 3600 seconds' })
    .default(30),
  WORKER_CONCURRENCY: z.coerce
    .number({ error: 'expected an integer' })
    .int({ error: 'expected an integer' })
    .min(1, { error: 'expected at least 1' })
    .max(256, { error: 'expected at most 256' })
    .default(8),
  SHUTDOWN_TIMEOUT_MS: z.coerce
    .number({ error: 'expected milliseconds' })
    .int({ error: 'expected an integer number of milliseconds' })
    .min(100, { error: 'expected at least 100 ms' })
    .max(600_000, { error: 'expected at most 600000 ms' })
    .default(10_000),
  /** Where backups are written (the scheduled ones, and `backup create` without --out); unset: DATA_DIR/backups. */
  BACKUP_DIR: z.string().min(1).optional(),
  /** When the scheduled backup runs (cron, in SCHEDULE_TIMEZONE); `off`: no scheduled backup. */
  BACKUP_CRON: z
    .string()
    .regex(/^(off|[\d*,/-]+( [\d*,/-]+){4})$/, { error: 'expected a five-field cron such as 30 3 * * *, or off' })
    .default('30 3 * * *'),
  /** A server's dump: auto (pg_dump when one as new as the server is installed, else the logical dump), pg-dump, logical. */
  BACKUP_FORMAT: z.enum(['auto', 'pg-dump', 'logical'], { error: 'expected auto, pg-dump or logical' }).default('auto'),
  /**
   * The erasure ledger: a file outside the database, one line per erasure (time, account id,
   * pseudonym), which a restore re-applies; unset: BACKUP_DIR/erasure-ledger.jsonl.
   */
  ERASURE_LEDGER_FILE: z.string().min(1).optional(),
  /** Backups kept in BACKUP_DIR after a scheduled one: the oldest beyond this many are deleted. */
  BACKUP_RETENTION_COUNT: z.coerce
    .number({ error: 'expected a number of backups' })
    .int({ error: 'expected a whole number of backups' })
    .min(1, { error: 'expected at least 1' })
    .max(3650, { error: 'expected at most 3650' })
    .default(7),
  /** Retention (LGPD): days messages with agents are kept. */
  RETENTION_AGENT_CONVERSATIONS_DAYS: retentionDays(180),
  /** Retention: days security events are kept (at least SECURITY_EVENTS_RETENTION_FLOOR). */
  RETENTION_SECURITY_EVENTS_DAYS: retentionDays(365, SECURITY_EVENTS_RETENTION_FLOOR),
  /** Retention: days a lead that never became a customer is kept after its last change. */
  RETENTION_UNCONVERTED_LEADS_DAYS: retentionDays(730),
  /** HTTP API: requests a minute for one API key or session (counted in Redis when REDIS_URL is set). */
  API_RATE_LIMIT_PER_MINUTE: requestsPerMinute(1_200),
  /** HTTP API: requests a minute from one client address, signed in or not. */
  API_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: requestsPerMinute(2_400),
  /**
   * HTTP API: sign-in requests (POST /auth/sign-in/email, successful ones too) one client address
   * may make in a minute (Better-Auth's limit). Raise it only where many people share an address
   * and are trusted (the browser tests' server); the account lock still counts failures per account.
   */
  AUTH_SIGN_IN_LIMIT_PER_MINUTE: z.coerce
    .number({ error: 'expected a number of sign-ins a minute' })
    .int({ error: 'expected a whole number of sign-ins a minute' })
    .min(1, { error: 'expected at least 1' })
    .max(1_000, { error: 'expected at most 1000' })
    .default(5),
  /**
   * HTTP API: whether a trader may create their own account (POST /auth/sign-up/email: a new
   * trader tenant, the free plan, signed in at once). `closed`: accounts come from the company
   * only (the seed, staff tools). Throttled per address like sign-in.
   */
  AUTH_SIGN_UP: z.enum(['open', 'closed'], { error: 'expected open or closed' }).default('open'),
  /** HTTP API: the largest request body in bytes (CSV uploads have their own cap). */
  API_MAX_BODY_BYTES: z.coerce
    .number({ error: 'expected a number of bytes' })
    .int({ error: 'expected a whole number of bytes' })
    .min(1024, { error: 'expected at least 1024 bytes' })
    .max(100 * 1024 * 1024, { error: 'expected at most 104857600 bytes (100 MiB)' })
    .default(1024 * 1024),
  /** HTTP API: the largest CSV upload in bytes (POST /api/v1/backtests with a file). */
  API_MAX_UPLOAD_BYTES: z.coerce
    .number({ error: 'expected a number of bytes' })
    .int({ error: 'expected a whole number of bytes' })
    .min(1024, { error: 'expected at least 1024 bytes' })
    .max(1024 * 1024 * 1024, { error: 'expected at most 1073741824 bytes (1 GiB)' })
    .default(50 * 1024 * 1024),
  /** HTTP API: browser origins allowed to call it (comma-separated, e.g. https://app.example.com); unset: same origin only. */
  API_CORS_ORIGINS: z
    .string()
    .optional()
    .transform((text) =>
      (text ?? '')
        .split(',')
        .map((origin) => origin.trim().replace(/\/+$/, ''))
        .filter((origin) => origin.length > 0),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'expected origins such as https://app.example.com, comma-separated' }))),
});

export type EnvInput = z.input<typeof envSchema>;
export type Env = z.output<typeof envSchema>;

/** Variables whose values must never be echoed back, even in an error message. */
export const secretVariables: ReadonlySet<string> = new Set([
  'MASTER_KEY',
  'DATABASE_URL',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'TELEGRAM_BOT_TOKEN',
  'TELEGRAM_WEBHOOK_SECRET',
  'REDIS_URL',
]);
