import { sql } from 'drizzle-orm';
import { queryRows, type Database } from '../db/index.ts';
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
  const ticking = await queryRows<{ worker_id: string; bots: number; last: string }>(
    db,
    sql`select worker_id, count(distinct bot_id)::int as bots, max(processed_at)::text as last from bot_ticks where processed_at > now() - make_interval(secs => ${intervalS * 3}) group by worker_id order by worker_id`,
  );
  const statuses = await queryRows<{ status: string; n: number }>(
    db,
    sql`select status::text, count(*)::int as n from bots group by status order by status`,
  );
  const [stale] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from bots where status = 'running' and (last_tick_at is null or last_tick_at < now() - make_interval(secs => ${intervalS * 3}))`,
  );
  const at = now();
  const workers = options.redisUrl
    ? (await workerHeartbeats(options.redisUrl)).map((beat) => ({
        ...beat,
        alive: at - beat.lastSeenMs < options.botLockTtlMs,
        bots: ticking.find((t) => t.worker_id === beat.workerId)?.bots ?? 0,
      }))
    : // A worker ticks every interval: one not seen for two of them has stopped (or is stuck).
      ticking.map((t) => ({
        workerId: t.worker_id,
        lastSeenMs: Date.parse(t.last),
        alive: at - Date.parse(t.last) < intervalS * 2_000,
        bots: t.bots,
      }));
  return { workers, botsByStatus: Object.fromEntries(statuses.map((s) => [s.status, s.n])), runningNotTicked: stale?.n ?? 0 };
}
