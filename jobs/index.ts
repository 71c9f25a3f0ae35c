import { BullMqJobs } from './bullmq.ts';
import { InProcessJobs } from './in-process.ts';
import type { JobsLogger } from './redis-outage.ts';
import type { JobEvents, Jobs } from './types.ts';

export { BullMqJobs, DEFAULT_SCHEDULE_CHECK_MS, type BullMqJobsOptions } from './bullmq.ts';
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

/** BullMQ when Redis is configured (many workers), the in-process runner otherwise. */
export function createJobs(options: {
  redisUrl: string | undefined;
  prefix?: string;
  events?: JobEvents;
  logger?: JobsLogger;
  scheduleCheckMs?: number;
}): Jobs {
  const { redisUrl, ...rest } = options;
  return redisUrl ? new BullMqJobs({ url: redisUrl, ...rest }) : new InProcessJobs(options.events);
}
export { assertRedisReachable, RedisUnavailableError } from './reachable.ts';
