import type { Database } from '../db/index.ts';
import { readTickActivity } from '../trading/index.ts';
import { workerHeartbeats } from './locks.ts';

/** A process ticking bots, as the deployment sees it. */
export interface WorkerSeen {
  readonly workerId: string;
  readonly lastSeenMs: number;
  readonly alive: boolean;
  /** Bots it ticked in the last three intervals. */
  readonly bots: number;
}

export interface BotFleetHealth {
  readonly workers: readonly WorkerSeen[];
  readonly botsByStatus: Readonly<Record<string, number>>;
  /** Running bots not ticked in the last three tick intervals. */
  readonly runningNotTicked: number;
}

/**
 * Who ticks the bots and which running bots nobody ticks: the one reading `botcriptofy status`
 * prints and `start`'s deployment gauges export. A worker is alive when its Redis heartbeat is
 * younger than the lock TTL; without Redis, when it ticked in the last two intervals.
 */
export async function readBotFleetHealth(
  db: Database,
  options: { tickIntervalS: number; botLockTtlMs: number; redisUrl?: string | undefined; now?: () => number },
): Promise<BotFleetHealth> {
  const { tickIntervalS: intervalS } = options;
  const now = options.now ?? Date.now;
  const activity = await readTickActivity(db, intervalS);
  const at = now();
  const workers = options.redisUrl
    ? (await workerHeartbeats(options.redisUrl)).map((beat) => ({
        ...beat,
        alive: at - beat.lastSeenMs < options.botLockTtlMs,
        bots: activity.byWorker.find((t) => t.workerId === beat.workerId)?.bots ?? 0,
      }))
    : // A worker ticks every interval: one not seen for two of them has stopped (or is stuck).
      activity.byWorker.map((t) => ({
        workerId: t.workerId,
        lastSeenMs: t.lastTickMs,
        alive: at - t.lastTickMs < intervalS * 2_000,
        bots: t.bots,
      }));
  return { workers, botsByStatus: activity.botsByStatus, runningNotTicked: activity.runningNotTicked };
}
