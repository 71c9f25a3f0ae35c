import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import type { Hono } from 'hono';
import { createAccounts, type AccountLockPolicy, type Accounts, type SignInLimit } from '../../accounts/index.ts';
import type { Clock } from '../../clock/index.ts';
import { BillingService } from '../../billing/index.ts';
import { demoSignIns, seedDemoCompany, type DemoSignIn } from '../../demo/index.ts';
import { createLogger, createMetrics } from '../../observability/index.ts';
import type { Jobs } from '../../jobs/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import { createApp } from '../../server/index.ts';
import type { ApiLimits } from '../../server/api/hardening.ts';
import type { LiveEvents } from '../../server/api/live-events.ts';
import type { OperationsAccess, TradingAccess } from '../../tools/index.ts';
import type { AgentRuntime } from '../../agents/index.ts';
import type { Database } from '../../db/index.ts';
import { createPaperMarkets, DEFAULT_RISK_LIMITS, exchangeForBot, paperMarketOptions, type MarketDataSource } from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from './databases.ts';

/** The HTTP API on a seeded test database, as `start` mounts it (in-process requests, no socket). */
export interface ApiFixture {
  readonly test: TestDatabase;
  readonly accounts: Accounts;
  readonly app: Hono;
  readonly signIns: DemoSignIn[];
  /** A request to the app; `ip` is the client's address (X-Forwarded-For, honoured only without a socket). */
  request(path: string, init?: RequestInit & { ip?: string; cookie?: string }): Promise<Response>;
  /** Signs in and returns the session cookie ("name=value"). */
  signIn(email: string, password: string, ip?: string): Promise<string>;
  dispose(): Promise<void>;
}

export const API_BASE_URL = 'http://127.0.0.1:3000';

const silentLogger = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);

/** The trading access `start` gives the API, with paper bots on the bundled replay market. */
async function replayTrading(test: TestDatabase, secretBox: ReturnType<typeof createSecretBox>): Promise<TradingAccess> {
  const markets = createPaperMarkets({ setting: 'replay', embedded: true });
  await markets.decide();
  return {
    exchangeFor: (bot) =>
      exchangeForBot(test.handle.db, bot, { tradingMode: 'paper', secretBox, ...paperMarketOptions(markets, bot.timeframe) }),
    limits: DEFAULT_RISK_LIMITS,
    killSwitch: async () => false,
  };
}

export async function apiFixture(
  driver: 'pglite' | 'postgres',
  /** `trading: 'replay'`: force_exit reaches paper bots' wallets priced on the bundled replay (PAPER_MARKET=replay), no network. */
  /** `clock`: the accounts' time (the account lock, API keys' expiry, security events). */
  options: {
    signInLimit?: SignInLimit;
    /** Traders may create their own account (POST /auth/sign-up/email); default closed. */
    signUp?: boolean;
    accountLock?: AccountLockPolicy;
    clock?: Pick<Clock, 'now'>;
    traders?: number;
    trading?: 'replay';
    /** Where POST /backtests runs its jobs (a test waits on its events). */
    jobs?: Jobs;
    /** The API's clock (the tools' `now`: quotas, default ranges). */
    now?: () => Date;
    /** Rate limits, body cap, CORS origins (server/api/hardening.ts). */
    limits?: ApiLimits;
    /** The agents and their Mastra (POST /agents/{agent}/ask, GET /reports/executive). */
    agents?: (db: Database) => AgentRuntime;
    /** The deployment's status for system_status (GET /status). */
    operations?: (db: Database) => OperationsAccess;
    /** Billing with a Stripe client (a test's fake Stripe); default: local mode (no Stripe). */
    billing?: (db: TestDatabase['handle']['db']) => BillingService;
    /** What GET /events streams (a hub on a test's clock); default: one on the system clock. */
    liveEvents?: (db: TestDatabase['handle']['db']) => LiveEvents;
    /** Where backtests download the candles the cache lacks (a test's scripted exchange); default: the cache alone. */
    marketData?: MarketDataSource;
  } = {},
): Promise<ApiFixture> {
  const test = await createTestDatabase(driver);
  const secretBox = createSecretBox(crypto.randomBytes(32));
  await seedDemoCompany(test.handle.db, {
    secretBox,
    asOf: new Date('2026-11-01T00:00:00Z'),
    traders: options.traders ?? 12,
  });
  const accounts = createAccounts({
    db: test.handle.db,
    secret: crypto.randomBytes(32).toString('hex'),
    baseURL: API_BASE_URL,
    ...(options.signInLimit ? { signInLimit: options.signInLimit } : {}),
    ...(options.signUp ? { signUp: true } : {}),
    ...(options.accountLock ? { accountLock: options.accountLock } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const app = createApp({
    database: test.handle,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: silentLogger,
    version: 'test',
    startedAt: new Date(),
    api: {
      accounts,
      billing: options.billing ? options.billing(test.handle.db) : new BillingService(test.handle.db, undefined),
      ...(options.jobs ? { jobs: options.jobs } : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.agents ? { agents: options.agents(test.handle.db) } : {}),
      ...(options.operations ? { operations: options.operations(test.handle.db) } : {}),
      ...(options.trading === 'replay' ? { trading: await replayTrading(test, secretBox) } : {}),
      ...(options.liveEvents ? { liveEvents: options.liveEvents(test.handle.db) } : {}),
      ...(options.marketData ? { marketData: options.marketData } : {}),
    },
  });
  const request: ApiFixture['request'] = (path, init = {}) => {
    const { ip, cookie, ...rest } = init;
    const headers = new Headers(rest.headers);
    headers.set('x-forwarded-for', ip ?? '192.0.2.1');
    if (cookie) headers.set('cookie', cookie);
    // As a browser on a page of this server: Better-Auth checks the Origin of a request with cookies.
    if (!headers.has('origin')) headers.set('origin', API_BASE_URL);
    if (rest.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    return Promise.resolve(app.request(`${API_BASE_URL}${path}`, { ...rest, headers }));
  };
  const signIn: ApiFixture['signIn'] = async (email, password, ip) => {
    const response = await request('/api/v1/auth/sign-in/email', {
      method: 'POST',
      body: JSON.stringify({ email, password }),
      ...(ip ? { ip } : {}),
    });
    if (response.status !== 200) throw new Error(`sign-in of ${email} answered ${response.status}: ${await response.text()}`);
    const cookie = response.headers.get('set-cookie')?.split(';')[0];
    if (!cookie) throw new Error('no session cookie');
    return cookie;
  };
  return {
    test,
    accounts,
    app,
    signIns: await demoSignIns(test.handle.db),
    request,
    signIn,
    dispose: () => test.dispose(),
  };
}
