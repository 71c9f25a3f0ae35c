import { BullMqJobs } from './bullmq.ts';
import { InProcessJobs } from './in-process.ts';
import type { JobEvents, Jobs } from './types.ts';

export { BullMqJobs } from './bullmq.ts';
export { InProcessJobs } from './in-process.ts';
export { nextCronTime } from './cron.ts';
export { safeJobId } from './ids.ts';
export { QUEUES, type Job, type JobEvents, type JobHandler, type JobOptions, type Jobs, type QueueCounts, type QueueName, type Repeat } from './types.ts';

/** BullMQ when Redis is configured (many workers), the in-process runner otherwise. */
export function createJobs(options: { redisUrl: string | undefined; prefix?: string; events?: JobEvents }): Jobs {
  return options.redisUrl ? new BullMqJobs({ url: options.redisUrl, ...(options.prefix ? { prefix: options.prefix } : {}), ...(options.events ? { events: options.events } : {}) }) : new InProcessJobs(options.events);
}
export { assertRedisReachable, RedisUnavailableError } from './reachable.ts';
