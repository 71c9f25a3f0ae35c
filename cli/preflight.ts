import { loadConfig } from '../config/index.ts';
import { assertRedisReachable } from '../jobs/index.ts';

/**
 * What the long-running commands check before anything else — before their modules (the
 * server, Telegram, the agents: seconds to load) and before any file or database is
 * touched: the whole configuration, and that Redis answers when it is set.
 */
export async function preflight(): Promise<void> {
  const { jobs } = loadConfig();
  if (jobs.redisUrl) await assertRedisReachable(jobs.redisUrl);
}
