import { DeferredJobs } from './deferred.ts';
import { InProcessJobs } from './in-process.ts';
import type { JobsLogger } from './redis-outage.ts';
import type { JobEvents, Jobs } from './types.ts';

// Types only: BullMQ's code is imported by createJobs, when Redis is configured (./deferred.ts).
export type { BullMqJobs, BullMqJobsOptions } from './bullmq.ts';
export type { JobsLogger } from './redis-outage.ts';
export { InProcessJobs } from './in-process.ts';
export { nextCronTime } from './cron.ts';
export { safeJobId } from './ids.ts';
export {
  QUEUES,
  type Job,
  type JobEvents,
  type JobHandler,
  type JobOptions,
  type Jobs,
  type QueueCounts,
  type QueueName,
  type Repeat,
} from './types.ts';

/** BullMQ when Redis is configured (many workers; its code loaded only then), the in-process runner otherwise. */
export function createJobs(options: {
  redisUrl: string | undefined;
  prefix?: string;
  events?: JobEvents;
  logger?: JobsLogger;
  scheduleCheckMs?: number;
}): Jobs {
  const { redisUrl, ...rest } = options;
  if (!redisUrl) return new InProcessJobs(options.events);
  return new DeferredJobs('bullmq', async () => new (await import('./bullmq.ts')).BullMqJobs({ url: redisUrl, ...rest }));
}
export { assertRedisReachable, RedisUnavailableError } from './reachable.ts';
