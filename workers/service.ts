import crypto from 'node:crypto';
import os from 'node:os';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { assertRedisReachable, createJobs, QUEUES, type JobHandler, type Jobs, type QueueName, type Repeat } from '../jobs/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { SecretBox } from '../secrets/index.ts';
import {
  BotRunner,
  DEFAULT_RETRY,
  DEFAULT_RISK_LIMITS,
  exchangeForBot,
  killSwitchEngaged,
  LocalFeedLeases,
  MarketFeeds,
  paperMarketOptions,
  type BotEvent,
  type PaperMarkets,
} from '../trading/index.ts';
import { BotWorker } from './bot-worker.ts';
import { notifyFeedStale } from './feed-notices.ts';
import { LocalBotLocks, RedisBotLocks } from './locks.ts';

/** A recurring piece of work: what runs, on which queue, on which schedule. */
export interface ScheduledTask {
  readonly queue: QueueName;
  /** Unique schedule key; declared by every worker, fired once per occurrence across them. */
  readonly key: string;
  readonly repeat: Repeat;
  readonly handler: JobHandler;
}

export interface WorkerServiceOptions {
  readonly config: Config;
  readonly db: Database;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly secretBox: SecretBox;
  /** Where paper bots get prices; without it, the exchange. */
  readonly paperMarkets?: PaperMarkets;
  /** Schedules beyond the bot ticks (reports, outbox, scans), from the modules that own them. */
  readonly tasks?: readonly ScheduledTask[];
  /** Trading events (trade opened/closed, stop loss, risk refusal), e.g. for notifications. */
  readonly onBotEvent?: (event: BotEvent) => void;
  /** Test seam: the API base URL the market feeds' exchange clients use (a scripted exchange on loopback). */
  readonly feedApiBaseUrl?: string;
}

export interface WorkerService {
  readonly workerId: string;
  readonly jobs: Jobs;
  readonly bots: BotWorker;
  /** The market feeds this worker's bots read (one fetcher per pair across the workers). */
  readonly feeds: MarketFeeds;
  start(): Promise<void>;
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Everything a worker runs: the bot ticks (its share of the running bots) and the job queues
 * with their schedules. `botcriptofy worker` runs only this; `botcriptofy start` runs it next
 * to the HTTP server and Telegram. With REDIS_URL, any number of workers share the work.
 */
export function createWorkerService(options: WorkerServiceOptions): WorkerService {
  const { config, db, logger, metrics } = options;
  const workerId = `${os.hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
  const jobs = createJobs({
    redisUrl: config.jobs.redisUrl,
    events: {
      onCompleted: (job, ms) => metrics.jobLatency.observe({ queue: job.queue }, ms / 1000),
      onFailed: (job, error, willRetry) => {
        metrics.jobFailures.inc({ queue: job.queue, final: String(!willRetry) });
        logger.warn({ queue: job.queue, job: job.name, attempt: job.attempt, willRetry, err: error }, 'job failed');
      },
      onScheduleRecreated: (queue, key) => metrics.jobSchedulesRecreated.inc({ queue, schedule: key }),
    },
    logger,
    scheduleCheckMs: config.jobs.scheduleCheckS * 1000,
  });
  const locks = config.jobs.redisUrl
    ? new RedisBotLocks({ url: config.jobs.redisUrl, workerId, ttlMs: config.jobs.botLockTtlMs })
    : new LocalBotLocks();
  const killSwitch = () => killSwitchEngaged(db, config.trading.killSwitch);
  // One fetcher per (exchange, symbol, timeframe) across the workers, elected by a lease like the bots'.
  const feedLeases = config.jobs.redisUrl
    ? new RedisBotLocks({ url: config.jobs.redisUrl, workerId, ttlMs: config.jobs.botLockTtlMs, kind: 'feed-lock' })
    : new LocalFeedLeases();
  const feeds = new MarketFeeds({
    db,
    leases: feedLeases,
    ...(options.feedApiBaseUrl ? { apiBaseUrl: options.feedApiBaseUrl } : {}),
    stepMs: Math.max(250, Math.min(2_000, config.jobs.botLockTtlMs / 3)),
    onHealth: (health) => {
      const labels = { exchange: health.exchange, symbol: health.symbol, timeframe: health.timeframe };
      metrics.marketFeedStale.set(labels, health.stale ? 1 : 0);
      if (health.lastBarAgeMs !== null) metrics.marketFeedLastBarAge.set(labels, health.lastBarAgeMs / 1000);
    },
    onStale: (event) => {
      logger.warn(
        { feed: event.episodeKey, lastBarAgeMs: event.lastBarAgeMs },
        `market feed ${event.exchange} ${event.symbol} ${event.timeframe} is stale: its bots take no new entries`,
      );
      void notifyFeedStale(db, event).catch((error: unknown) => logger.warn({ err: error }, 'could not queue the stale-feed notification'));
    },
    onResumed: (health) =>
      logger.info({ exchange: health.exchange, symbol: health.symbol, timeframe: health.timeframe }, 'market feed fresh again'),
    onError: (key, error) => logger.warn({ ...key, err: error }, 'market feed fetch failed'),
    onForgotten: (key) => {
      metrics.marketFeedStale.remove({ exchange: key.exchange, symbol: key.symbol, timeframe: key.timeframe });
      metrics.marketFeedLastBarAge.remove({ exchange: key.exchange, symbol: key.symbol, timeframe: key.timeframe });
    },
  });
  // Paper bots read the shared feeds, or the replayed market when that was decided (the offline demo).
  const paperExchangeOptions = (timeframe: string) => ({
    tradingMode: config.trading.mode,
    secretBox: options.secretBox,
    feeds,
    ...(options.paperMarkets?.source === 'replay' ? paperMarketOptions(options.paperMarkets, timeframe) : {}),
  });
  const bots = new BotWorker({
    db,
    locks,
    workerId,
    intervalMs: config.jobs.botTickIntervalS * 1000,
    lockTtlMs: config.jobs.botLockTtlMs,
    concurrency: config.jobs.concurrency,
    logger,
    runnerFor: async (bot, epoch) =>
      new BotRunner(
        {
          db,
          exchange: await exchangeForBot(db, bot, paperExchangeOptions(bot.timeframe)),
          limits: { ...DEFAULT_RISK_LIMITS, stopLossCooldownMinutes: config.trading.stopLossCooldownMinutes },
          killSwitch,
          fence: { epoch },
          retry: { ...DEFAULT_RETRY, signal: stopping.signal },
          ...(options.onBotEvent ? { onEvent: options.onBotEvent } : {}),
        },
        bot,
      ),
    onTakeover: () => metrics.botLockTakeovers.inc(),
    onLost: () => metrics.botLocksLost.inc(),
    onTick: (_botId, ok) => metrics.botTicks.inc({ outcome: ok ? 'ok' : 'failed' }),
    onMissedSlots: (count) => metrics.botMissedSlots.inc(count),
  });
  let depthTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  // Aborted at stop: exchange retries give up at once instead of backing off.
  const stopping = new AbortController();
  const readDepths = async () => {
    for (const queue of QUEUES) {
      const counts = await jobs.counts(queue);
      for (const state of ['waiting', 'delayed', 'active', 'failed'] as const) metrics.jobQueueDepth.set({ queue, state }, counts[state]);
    }
  };

  return {
    workerId,
    jobs,
    bots,
    feeds,
    async start() {
      if (config.jobs.redisUrl) await assertRedisReachable(config.jobs.redisUrl);
      const byQueue = new Map<QueueName, Map<string, JobHandler>>();
      for (const task of options.tasks ?? []) {
        const handlers = byQueue.get(task.queue) ?? new Map<string, JobHandler>();
        handlers.set(task.key, task.handler);
        byQueue.set(task.queue, handlers);
      }
      for (const [queue, handlers] of byQueue) {
        // A schedule's occurrences are jobs named after its key.
        jobs.work(
          queue,
          async (job) => {
            const handler = handlers.get(job.name);
            if (!handler) throw new Error(`no handler for ${queue}/${job.name} in this worker`);
            await handler(job);
          },
          { concurrency: config.jobs.concurrency },
        );
      }
      for (const task of options.tasks ?? []) await jobs.schedule(task.queue, task.key, task.repeat, task.key, {});
      const paperMarket = await options.paperMarkets?.decide();
      if (stopped) return; // stopped while asking the exchange: start nothing
      if (paperMarket?.source === 'replay')
        logger.warn(
          { reason: paperMarket.reason },
          `${paperMarket.reason}: paper and testnet bots trade a replayed market (the Binance candles in candles/, looped in real time; PAPER_MARKET=exchange turns this off)`,
        );
      feeds.start();
      bots.start();
      depthTimer = setInterval(() => void readDepths().catch(() => {}), 5_000);
      depthTimer.unref();
      logger.info(
        { workerId, jobs: jobs.kind, tickIntervalS: config.jobs.botTickIntervalS, schedules: (options.tasks ?? []).map((t) => t.key) },
        'worker started',
      );
    },
    async stop(timeoutMs = 10_000) {
      stopped = true;
      stopping.abort();
      clearInterval(depthTimer);
      // Half the budget each, so the whole stop fits in `timeoutMs`.
      await bots.stop(Math.max(100, timeoutMs / 2));
      await feeds.stop();
      await jobs.close(Math.max(100, timeoutMs / 2));
      await locks.close();
      if (feedLeases instanceof RedisBotLocks) await feedLeases.close();
    },
  };
}
