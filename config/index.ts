import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { envSchema, secretVariables, type Env } from './env.ts';
import { ProductError } from '../errors/index.ts';

export { envSchema, SECURITY_EVENTS_RETENTION_FLOOR, type Env } from './env.ts';

export interface Config {
  readonly nodeEnv: Env['NODE_ENV'];
  readonly log: { readonly level: Env['LOG_LEVEL']; readonly format: Env['LOG_FORMAT'] };
  readonly http: { readonly host: string; readonly port: number };
  /** `worker`: the port of its /metrics and /health (on `http.host`); unset: no HTTP. */
  readonly metricsPort: number | undefined;
  /** Absolute path of the data folder (embedded database, generated master key). */
  readonly dataDir: string;
  readonly database: {
    /** Unset means the embedded PostgreSQL (PGlite) in `dataDir`. */
    readonly url: string | undefined;
    readonly poolMax: number;
    readonly connectTimeoutS: number;
  };
  /** 32-byte key for AES-256-GCM, when given in the environment. */
  readonly masterKey: Buffer | undefined;
  /** Seed the demo company when `start` finds an empty embedded database. */
  readonly demoSeed: boolean;
  readonly shutdownTimeoutMs: number;
  readonly stripe: {
    /** Unset: billing runs in local mode on the database alone. */
    readonly secretKey: string | undefined;
    readonly webhookSecret: string | undefined;
    readonly apiUrl: string | undefined;
  };
  readonly ollama: {
    readonly host: string;
    readonly model: string;
    /** Agent name → model, overriding `model` for that agent. */
    readonly agentModels: Readonly<Record<string, string>>;
    readonly timeoutMs: number;
    /** How agents choose tools, and per-agent exceptions. */
    readonly toolMode: 'native' | 'structured';
    readonly agentToolModes: Readonly<Record<string, 'native' | 'structured'>>;
  };
  readonly telegram: {
    /** Unset: the Telegram door is off. */
    readonly botToken: string | undefined;
    readonly apiRoot: string;
    /** Set: webhook mode on the HTTP server; unset: long polling. */
    readonly webhookUrl: string | undefined;
    readonly webhookSecret: string | undefined;
    readonly ratePerS: number;
    readonly chatRatePerS: number;
  };
  readonly backup: {
    /** Where backups are written (absolute). */
    readonly dir: string;
    /** The scheduled backup's cron, in `jobs.timezone`; undefined: off. */
    readonly cron: string | undefined;
    /** Backups kept after a scheduled one. */
    readonly retentionCount: number;
    /** A server's dump format (`auto`: pg_dump when recent enough, else the logical dump). */
    readonly format: 'auto' | 'pg-dump' | 'logical';
    /** The erasure ledger (absolute): erasures recorded outside the database, re-applied by a restore. */
    readonly erasureLedgerFile: string;
  };
  /** How long personal data is kept (privacy/ applies it daily; it never touches money records). */
  readonly retention: {
    readonly agentConversationsDays: number;
    readonly securityEventsDays: number;
    readonly unconvertedLeadsDays: number;
  };
  /** The HTTP API's own limits (server/api/hardening.ts); the rate counts live in Redis when `jobs.redisUrl` is set. */
  readonly api: {
    readonly perCredentialPerMinute: number;
    readonly perAddressPerMinute: number;
    readonly maxBodyBytes: number;
    /** A CSV upload's own cap (POST /backtests with a file). */
    readonly maxUploadBytes: number;
    readonly corsOrigins: readonly string[];
    /** Sign-ins one client address may make in a minute (AUTH_SIGN_IN_LIMIT_PER_MINUTE); sign-ups the same. */
    readonly signInsPerAddressPerMinute: number;
    /** Traders may create their own account (AUTH_SIGN_UP=open). */
    readonly signUp: boolean;
  };
  readonly jobs: {
    /** Unset: the in-process job runner (one machine). */
    readonly redisUrl: string | undefined;
    readonly timezone: string;
    readonly botTickIntervalS: number;
    readonly botLockTtlMs: number;
    /** Schedules missing from Redis are declared again within this. */
    readonly scheduleCheckS: number;
    readonly concurrency: number;
  };
  readonly trading: {
    /** `live` lets bots in live mode move real money; anything else keeps them on the sandbox. */
    readonly mode: 'paper' | 'live';
    /** Halts every new entry at once (exits still allowed). */
    readonly killSwitch: boolean;
    /** After a stop loss, that pair of that bot opens nothing for this many minutes (a pair lock); 0: no cooldown. */
    readonly stopLossCooldownMinutes: number;
    /**
     * Paper bots' prices: `exchange`, `replay` (the bundled candles, looped in real time) or
     * `auto` (the replay on the embedded database when Binance cannot be reached at start).
     */
    readonly paperMarket: 'auto' | 'exchange' | 'replay';
  };
}

export interface ConfigProblem {
  readonly variable: string;
  readonly value: string | undefined;
  readonly expected: string;
}

export class ConfigError extends ProductError {
  readonly category = 'config' as const;
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(
      `Invalid configuration:\n${problems
        .map((p) => `  ${p.variable}=${p.value === undefined ? '(unset)' : JSON.stringify(p.value)}: ${p.expected}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** An IPv4 or IPv6 address, or a host name (RFC 1123 labels); "999.1.1.1" is neither. */
function isHostAddress(host: string): boolean {
  if (net.isIP(host) !== 0) return true;
  if (/^[\d.]+$/.test(host)) return false; // digits and dots only: meant as IPv4, and not one
  return host.length <= 253 && host.split('.').every((label) => /^[a-z\d]([a-z\d-]{0,61}[a-z\d])?$/i.test(label));
}

/** Shows a value in an error without leaking it: secrets are masked, URL passwords hidden. */
function displayValue(variable: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (variable === 'DATABASE_URL' || variable === 'REDIS_URL') return redactUrl(value);
  if (secretVariables.has(variable)) return `<${value.length} characters, hidden>`;
  return value;
}

/** Replaces the password of a connection URL with `***` (also for logs). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]+:)[^@]*@/i, '$1***@');
}

/**
 * Reads and validates every setting. Empty strings count as unset, so `PORT=` falls back to
 * the default instead of failing.
 */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = environment[key];
    raw[key] = value === undefined || value.trim() === '' ? undefined : value.trim();
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? '(environment)');
      return { variable, value: displayValue(variable, raw[variable]), expected: issue.message };
    });
    throw new ConfigError(problems);
  }
  const env = parsed.data;
  // Rules across variables, and values only the machine can judge: checked here, before any
  // command creates a file or opens a database.
  const problems: ConfigProblem[] = [];
  if (env.TELEGRAM_WEBHOOK_URL && !env.TELEGRAM_WEBHOOK_SECRET) {
    problems.push({
      variable: 'TELEGRAM_WEBHOOK_SECRET',
      value: undefined,
      expected:
        'required when TELEGRAM_WEBHOOK_URL is set: 16–256 letters, digits, _ or - (Telegram sends it back in X-Telegram-Bot-Api-Secret-Token)',
    });
  }
  if (!isHostAddress(env.HOST))
    problems.push({ variable: 'HOST', value: env.HOST, expected: 'expected an IP address (127.0.0.1, 0.0.0.0, ::) or a host name' });
  const dataDir = path.resolve(cwd, env.DATA_DIR);
  const existing = fs.statSync(dataDir, { throwIfNoEntry: false });
  if (existing && !existing.isDirectory())
    problems.push({
      variable: 'DATA_DIR',
      value: env.DATA_DIR,
      expected: `expected a folder (or a path to create one), but ${dataDir} is a file`,
    });
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    nodeEnv: env.NODE_ENV,
    log: { level: env.LOG_LEVEL, format: env.LOG_FORMAT },
    http: { host: env.HOST, port: env.PORT },
    metricsPort: env.METRICS_PORT,
    dataDir,
    database: {
      url: env.DATABASE_URL,
      poolMax: env.DATABASE_POOL_MAX,
      connectTimeoutS: env.DATABASE_CONNECT_TIMEOUT_S,
    },
    masterKey: env.MASTER_KEY === undefined ? undefined : decodeMasterKey(env.MASTER_KEY),
    demoSeed: env.DEMO_SEED,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    ollama: {
      host: env.OLLAMA_HOST.replace(/\/+$/, ''),
      model: env.OLLAMA_MODEL,
      agentModels: env.OLLAMA_AGENT_MODELS ?? {},
      timeoutMs: env.OLLAMA_TIMEOUT_MS,
      toolMode: env.AGENT_TOOL_MODE,
      agentToolModes: env.AGENT_TOOL_MODES ?? {},
    },
    telegram: {
      botToken: env.TELEGRAM_BOT_TOKEN,
      apiRoot: env.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
      webhookUrl: env.TELEGRAM_WEBHOOK_URL,
      webhookSecret: env.TELEGRAM_WEBHOOK_SECRET,
      ratePerS: env.TELEGRAM_RATE_PER_S,
      chatRatePerS: env.TELEGRAM_CHAT_RATE_PER_S,
    },
    backup: {
      dir: env.BACKUP_DIR === undefined ? path.join(dataDir, 'backups') : path.resolve(cwd, env.BACKUP_DIR),
      cron: env.BACKUP_CRON === 'off' ? undefined : env.BACKUP_CRON,
      retentionCount: env.BACKUP_RETENTION_COUNT,
      format: env.BACKUP_FORMAT,
      erasureLedgerFile:
        env.ERASURE_LEDGER_FILE === undefined
          ? path.join(
              env.BACKUP_DIR === undefined ? path.join(dataDir, 'backups') : path.resolve(cwd, env.BACKUP_DIR),
              'erasure-ledger.jsonl',
            )
          : path.resolve(cwd, env.ERASURE_LEDGER_FILE),
    },
    api: {
      perCredentialPerMinute: env.API_RATE_LIMIT_PER_MINUTE,
      perAddressPerMinute: env.API_RATE_LIMIT_PER_ADDRESS_PER_MINUTE,
      maxBodyBytes: env.API_MAX_BODY_BYTES,
      maxUploadBytes: env.API_MAX_UPLOAD_BYTES,
      corsOrigins: env.API_CORS_ORIGINS,
      signInsPerAddressPerMinute: env.AUTH_SIGN_IN_LIMIT_PER_MINUTE,
      signUp: env.AUTH_SIGN_UP === 'open',
    },
    retention: {
      agentConversationsDays: env.RETENTION_AGENT_CONVERSATIONS_DAYS,
      securityEventsDays: env.RETENTION_SECURITY_EVENTS_DAYS,
      unconvertedLeadsDays: env.RETENTION_UNCONVERTED_LEADS_DAYS,
    },
    jobs: {
      redisUrl: env.REDIS_URL,
      timezone: env.SCHEDULE_TIMEZONE,
      botTickIntervalS: env.BOT_TICK_INTERVAL_S,
      botLockTtlMs: env.BOT_LOCK_TTL_MS,
      scheduleCheckS: env.SCHEDULE_CHECK_S,
      concurrency: env.WORKER_CONCURRENCY,
    },
    trading: {
      mode: env.TRADING_MODE,
      killSwitch: env.TRADING_KILL_SWITCH,
      stopLossCooldownMinutes: env.TRADING_STOP_LOSS_COOLDOWN_MINUTES,
      paperMarket: env.PAPER_MARKET,
    },
    stripe: { secretKey: env.STRIPE_SECRET_KEY, webhookSecret: env.STRIPE_WEBHOOK_SECRET, apiUrl: env.STRIPE_API_URL },
  };
}

/**
 * The configured secret values as they could be written out (keys, tokens, webhook secrets,
 * passwords inside database and Redis URLs): agents' answers quoting one are never shown.
 */
export function configuredSecrets(config: Config): string[] {
  const urlPassword = (url: string | undefined) => {
    if (!url) return undefined;
    try {
      return decodeURIComponent(new URL(url).password) || undefined;
    } catch {
      return undefined;
    }
  };
  const values = [
    config.stripe.secretKey,
    config.stripe.webhookSecret,
    config.telegram.botToken,
    config.telegram.webhookSecret,
    urlPassword(config.database.url),
    urlPassword(config.jobs.redisUrl),
    ...(config.masterKey ? [config.masterKey.toString('hex'), config.masterKey.toString('base64')] : []),
  ];
  return values.filter((value): value is string => typeof value === 'string' && value.length >= 8);
}

function decodeMasterKey(text: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
}
