import type { Database } from '../db/index.ts';
import { assertRedisReachable, createJobs, QUEUES, type QueueCounts, type QueueName } from '../jobs/index.ts';
import { readMarketFeedHealth, type FeedHealth } from '../trading/index.ts';
import { readBotFleetHealth, type WorkerSeen } from './health.ts';

/** Workers, queues, bots and market feeds at a glance: what `botcriptofy status --json` prints and the system_status tool answers. */
export interface DeploymentStatus {
  /** bullmq: shared queues on Redis; in-process: each process's own (inside `start`). */
  readonly jobs: 'bullmq' | 'in-process';
  readonly tickIntervalS: number;
  readonly workers: readonly WorkerSeen[];
  /** Per queue; null for in-process queues (they live inside the running `start`: its /metrics). */
  readonly queues: Readonly<Record<QueueName, QueueCounts | null>>;
  readonly bots: Readonly<Record<string, number>>;
  readonly runningBotsNotTicked: number;
  readonly feeds: readonly FeedHealth[];
  readonly staleFeeds: number;
}

export interface DeploymentStatusOptions {
  readonly tickIntervalS: number;
  readonly botLockTtlMs: number;
  /** With Redis: workers' heartbeats and BullMQ's queue counts (Redis must answer). */
  readonly redisUrl?: string | undefined;
}

/** The deployment's status from Redis (when configured) and the database. */
export async function readDeploymentStatus(db: Database, options: DeploymentStatusOptions): Promise<DeploymentStatus> {
  const { tickIntervalS, botLockTtlMs, redisUrl } = options;
  if (redisUrl) await assertRedisReachable(redisUrl);
  const health = await readBotFleetHealth(db, { tickIntervalS, botLockTtlMs, redisUrl });
  const queues = {} as Record<QueueName, QueueCounts | null>;
  if (redisUrl) {
    const jobs = createJobs({ redisUrl });
    try {
      for (const queue of QUEUES) queues[queue] = await jobs.counts(queue);
    } finally {
      await jobs.close(1_000);
    }
  } else {
    for (const queue of QUEUES) queues[queue] = null;
  }
  const feeds = await readMarketFeedHealth(db);
  return {
    jobs: redisUrl ? 'bullmq' : 'in-process',
    tickIntervalS,
    workers: health.workers,
    queues,
    bots: health.botsByStatus,
    runningBotsNotTicked: health.runningNotTicked,
    feeds,
    staleFeeds: feeds.filter((f) => f.stale).length,
  };
}
