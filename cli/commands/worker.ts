import { createMetrics } from '../../observability/index.ts';
import { createApp, startHttpServer, type RunningHttpServer } from '../../server/index.ts';
import { openAgents } from '../open-agents.ts';
import { listenFailure, stopOnSignals } from '../lifecycle.ts';
import { openRuntime, VERSION } from '../open-runtime.ts';
import { companyWorker } from '../company-worker.ts';

/**
 * Only workers: bot ticks and job queues, no HTTP server and no Telegram. Run as many as
 * needed against the same PostgreSQL and Redis (REDIS_URL); each bot is ticked by one of them.
 */
export async function workerCommand(): Promise<void> {
  // The configuration and Redis were checked by preflight() before this module was loaded.
  const runtime = await openRuntime({ logStream: 'stdout', shareEmbedded: true });
  const { config, logger, database } = runtime;
  if (!config.jobs.redisUrl)
    logger.warn('REDIS_URL is not set: jobs run in this process only; start one worker per database (or set REDIS_URL to run several)');
  const metrics = createMetrics();
  // Outgoing notifications are delivered by workers (a schedule, once across them); the
  // Telegram door itself (incoming updates) runs only in `start`. Telegram's code (Telegraf, the
  // chart renderer) is loaded only when there is a token to use it with.
  const telegramDoor = config.telegram.botToken ? await import('../../telegram/index.ts') : undefined;
  const delivery = telegramDoor
    ? telegramDoor.createTelegramDelivery(config.telegram, database.db, {
        logger,
        redisUrl: config.jobs.redisUrl,
        metricsRegistry: metrics.registry,
        journal: telegramDoor.createDeliveryJournal({ redisUrl: config.jobs.redisUrl, dataDir: config.dataDir }),
      })
    : undefined;
  const service = companyWorker(runtime, openAgents(runtime, metrics), metrics, {
    paperMarkets: await runtime.paperMarkets(),
    ...(delivery ? { outbox: delivery.outbox } : {}),
  });
  // With METRICS_PORT, Prometheus scrapes this worker's own counters (ticks, jobs, outbox) and
  // an orchestrator probes its /health; without it the worker opens no port.
  let metricsServer: RunningHttpServer | undefined;
  if (config.metricsPort !== undefined) {
    const app = createApp({ database, metrics, logger, version: VERSION, startedAt: new Date() });
    metricsServer = await startHttpServer(app, { host: config.http.host, port: config.metricsPort }).catch(
      async (error: NodeJS.ErrnoException) => {
        await delivery?.stop({ timeoutMs: 1_000 });
        await runtime.close();
        throw listenFailure(error, { variable: 'METRICS_PORT', host: config.http.host, port: config.metricsPort! });
      },
    );
    logger.info({ url: `${metricsServer.url}/metrics` }, 'worker metrics served');
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker stopping: finishing running jobs, handing bots back');
    const hardStop = setTimeout(() => process.exit(1), config.shutdownTimeoutMs);
    hardStop.unref();
    try {
      // The outbox first: its rows waiting for a sending slot are released at once, so the
      // delivery job in progress ends and the job queues close without waiting it out.
      const outboxStopped = delivery?.stop({ timeoutMs: Math.min(5_000, config.shutdownTimeoutMs / 3) });
      await service.stop(Math.max(200, config.shutdownTimeoutMs - 1_000));
      await outboxStopped;
      await metricsServer?.close(500);
      await runtime.close();
      logger.info('worker stopped cleanly');
      logger.flush();
    } catch (error) {
      logger.error({ err: error }, 'error while stopping the worker');
      process.exitCode = 1;
    }
  };
  // Handled before starting, so a signal while the worker starts (asking the exchange) stops it cleanly.
  stopOnSignals((reason) => void shutdown(reason));
  await service.start();
  if (!stopping) logger.info({ workerId: service.workerId }, 'worker ready');
}
