import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createAccounts, sessionSecret } from '../../accounts/index.ts';
import { createStripeClient } from '../../billing/index.ts';
import { isCompanyEmpty } from '../../demo/index.ts';
import { createMetrics } from '../../observability/index.ts';
import { watchCompany } from '../deployment-metrics.ts';
import { createApp, rateLimitRedis, startHttpServer } from '../../server/index.ts';
import { resolveMasterKey } from '../../secrets/index.ts';
import type { TelegramService } from '../../telegram/index.ts';
import { openAgents } from '../open-agents.ts';
import { listenFailure, stopOnSignals } from '../lifecycle.ts';
import { openRuntime, VERSION } from '../open-runtime.ts';
import { companyWorker } from '../company-worker.ts';
import { readDeploymentStatus } from '../../workers/index.ts';
import { tradingAccess } from './bots.ts';
import { exchangeWhenReachable } from '../../trading/index.ts';

/** The main job: database, migrations, demo data on a new embedded database, HTTP server. */
export async function startCommand(): Promise<void> {
  // The configuration and Redis were checked by preflight() before this module was loaded.
  let runtime = await openRuntime({ logStream: 'stdout', shareEmbedded: true });
  if (runtime.database.driver === 'pglite' && runtime.config.demoSeed && (await isCompanyEmpty(runtime.database.db))) {
    runtime.logger.info('empty embedded database: seeding the demo company (DEMO_SEED=false turns this off)');
    // Seeding in a short-lived child keeps its memory (the embedded engine's heap never
    // shrinks) out of the long-running server. The child needs the data folder, so the
    // database is closed meanwhile and opened again afterwards.
    await runtime.close();
    await seedInChildProcess();
    runtime = await openRuntime({ logStream: 'stdout', shareEmbedded: true });
    runtime.logger.info('demo company seeded');
  }
  const { config, logger, database } = runtime;
  logger.info({ database: database.location, migrations: runtime.migrations }, 'database ready');

  const metrics = createMetrics();
  const stripeWebhooks = config.stripe.webhookSecret
    ? {
        stripe: await createStripeClient({ secretKey: config.stripe.secretKey, apiUrl: config.stripe.apiUrl }),
        secret: config.stripe.webhookSecret,
      }
    : undefined;
  if (!config.stripe.secretKey)
    logger.info(
      'STRIPE_SECRET_KEY is not set: billing runs in local mode on the database (figures and plan limits work; Stripe operations say they need a key)',
    );
  const agents = openAgents(runtime, metrics);
  // Deployment-wide facts for alerts (bots not ticking, workers alive, model up, audit chain).
  watchCompany(metrics, {
    db: database.db,
    tickIntervalS: config.jobs.botTickIntervalS,
    botLockTtlMs: config.jobs.botLockTtlMs,
    redisUrl: config.jobs.redisUrl,
    modelStatus: () => agents.gateway.status(),
  });
  const paperMarkets = await runtime.paperMarkets();
  // Telegram's code (Telegraf, the chart renderer and its native module) is loaded only when
  // there is a token: a `start` without one never uses it (~4 MB of heap saved).
  let telegram: TelegramService | undefined;
  try {
    const door = config.telegram.botToken ? await import('../../telegram/index.ts') : undefined;
    telegram = door?.createTelegramService({
      config,
      db: database.db,
      billing: runtime.billing,
      agents,
      logger,
      secretBox: runtime.secretBox,
      paperMarkets,
      metricsRegistry: metrics.registry,
    });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  if (!telegram) logger.info('TELEGRAM_BOT_TOKEN is not set: the Telegram door is off');
  // The HTTP API's accounts (issue 16): session cookies signed with a secret derived from the master key.
  const master = resolveMasterKey({
    fromEnvironment: config.masterKey,
    embedded: database.driver === 'pglite',
    dataDir: config.dataDir,
    mayGenerate: false,
  });
  const cookies = sessionSecret(master.key);
  if (cookies.ephemeral) logger.warn('no MASTER_KEY: API sessions are signed with a random secret and end when this process stops');
  const accounts = createAccounts({
    db: database.db,
    secret: cookies.secret,
    baseURL: `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${config.http.port}`,
    trustedOrigins: config.api.corsOrigins,
    signInLimit: { window: 60, max: config.api.signInsPerAddressPerMinute },
    signUp: config.api.signUp,
    log: (level, message) => logger[level === 'success' ? 'info' : level]({ component: 'better-auth' }, message),
  });
  // The API's rate counts, shared by every process through Redis when the deployment has it.
  const rateRedis = config.jobs.redisUrl ? rateLimitRedis(config.jobs.redisUrl) : undefined;
  const closeRateRedis = async () => void (await rateRedis?.quit().catch(() => rateRedis.disconnect()));
  /** The API's own shutdown steps (its live events' readers), handed over by createApp. */
  const apiStoppers: (() => Promise<void>)[] = [];
  const app = createApp({
    database,
    metrics,
    logger,
    version: VERSION,
    startedAt: new Date(),
    ...(stripeWebhooks ? { stripeWebhooks } : {}),
    telegramWebhook: telegram?.webhook,
    // force_exit (and a live bot's balance) reach the exchange as the CLI's and Telegram's do.
    api: {
      accounts,
      // Run after the HTTP server closed and before the database does (shutdown below).
      onShutdown: (stop) => void apiStoppers.push(stop),
      billing: runtime.billing,
      trading: tradingAccess(runtime),
      // Backtests from the dashboard download the candles the cache lacks as Telegram's /backtest does
      // (only when the paper markets read the exchange; the replayed market's bars never enter the cache).
      marketData: exchangeWhenReachable(async () => paperMarkets),
      limits: { ...config.api, redis: rateRedis },
      // The staff routes: a turn with an agent, the executive report's workflow, the deployment's status.
      agents,
      operations: {
        deploymentStatus: () =>
          readDeploymentStatus(database.db, {
            tickIntervalS: config.jobs.botTickIntervalS,
            botLockTtlMs: config.jobs.botLockTtlMs,
            redisUrl: config.jobs.redisUrl,
          }),
      },
    },
  });
  const server = await startHttpServer(app, config.http).catch(async (error: NodeJS.ErrnoException) => {
    await closeRateRedis();
    await runtime.close();
    throw listenFailure(error, { variable: 'PORT', ...config.http });
  });
  // This process is also a worker: its share of the bot ticks and the schedules (reports,
  // dunning, anomaly scans, workflow recovery). The outbox is delivered by Telegram below.
  const worker = companyWorker(runtime, agents, metrics, { paperMarkets });

  let stopping = false;
  const shutdown = async (signal: string) => {
    // A second signal (e.g. forwarded by the launcher as well) must not cut the drain short.
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new requests, finishing open ones');
    const hardStop = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took too long, exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    hardStop.unref();
    try {
      await worker.stop(Math.max(200, config.shutdownTimeoutMs / 3));
      await telegram?.stop(Math.max(200, config.shutdownTimeoutMs / 3));
      await server.close(Math.max(100, config.shutdownTimeoutMs / 2 - 1000));
      await Promise.allSettled(apiStoppers.map((stop) => stop()));
      await closeRateRedis();
      await runtime.close();
      logger.info('stopped cleanly');
      logger.flush();
      process.exitCode = 0;
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
      process.exitCode = 1;
    }
  };
  // Stop signals are handled from here on, while Telegram and the worker are still starting.
  stopOnSignals((reason) => void shutdown(reason));
  // The dashboard is what a person opens; health stays reachable for probes.
  logger.info(
    { url: server.url, dashboard: `${server.url}/`, health: `${server.url}/health`, version: VERSION },
    `BotCriptoFy is up: open the web dashboard at ${server.url}/ (health: ${server.url}/health)`,
  );
  await telegram?.start();
  if (!stopping) await worker.start();
}

function seedInChildProcess(): Promise<void> {
  const bin = fileURLToPath(new URL('../../bin/botcriptofy.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'seed', '--demo'], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`seeding the demo company failed (exit code ${code})`))));
  });
}
