import { queryRows } from '../../db/index.ts';
import { assertRedisReachable, BullMqJobs, QUEUES, type QueueCounts } from '../../jobs/index.ts';
import { workerHeartbeats } from '../../workers/index.ts';
import { withRuntime } from '../runtime.ts';
import { printTable } from '../table.ts';
import { sql } from 'drizzle-orm';

/** Workers, queues and bots at a glance, from Redis (when configured) and the database. */
export async function statusCommand(options: { json?: boolean }): Promise<void> {
  await withRuntime(async ({ config, database }) => {
    const intervalS = config.jobs.botTickIntervalS;
    const ticking = await queryRows<{ worker_id: string; bots: number; last: string }>(
      database.db,
      sql`select worker_id, count(distinct bot_id)::int as bots, max(processed_at)::text as last from bot_ticks where processed_at > now() - make_interval(secs => ${intervalS * 3}) group by worker_id order by worker_id`,
    );
    const bots = await queryRows<{ status: string; n: number }>(database.db, sql`select status::text, count(*)::int as n from bots group by status order by status`);
    const [stale] = await queryRows<{ n: number; oldest: string | null }>(
      database.db,
      sql`select count(*)::int as n, min(last_tick_at)::text as oldest from bots where status = 'running' and (last_tick_at is null or last_tick_at < now() - make_interval(secs => ${intervalS * 3}))`,
    );
    let workers: { workerId: string; lastSeenMs: number; alive: boolean; bots: number }[] = [];
    const queues: Record<string, QueueCounts | null> = {};
    if (config.jobs.redisUrl) {
      await assertRedisReachable(config.jobs.redisUrl);
      const beats = await workerHeartbeats(config.jobs.redisUrl);
      workers = beats.map((b) => ({ ...b, alive: Date.now() - b.lastSeenMs < config.jobs.botLockTtlMs, bots: ticking.find((t) => t.worker_id === b.workerId)?.bots ?? 0 }));
      const jobs = new BullMqJobs({ url: config.jobs.redisUrl });
      try {
        for (const queue of QUEUES) queues[queue] = await jobs.counts(queue);
      } finally {
        await jobs.close(1_000);
      }
    } else {
      // A worker ticks every interval: one not seen for two of them has stopped (or is stuck).
      workers = ticking.map((t) => ({ workerId: t.worker_id, lastSeenMs: Date.parse(t.last), alive: Date.now() - Date.parse(t.last) < intervalS * 2_000, bots: t.bots }));
      for (const queue of QUEUES) queues[queue] = null; // in-process queues live inside `start`
    }
    const summary = { jobs: config.jobs.redisUrl ? 'bullmq' : 'in-process', tickIntervalS: intervalS, workers, queues, bots: Object.fromEntries(bots.map((b) => [b.status, b.n])), runningBotsNotTicked: stale?.n ?? 0 };
    if (options.json) {
      console.log(JSON.stringify(summary));
      return;
    }
    console.log(`Jobs: ${summary.jobs === 'bullmq' ? 'BullMQ on Redis' : 'in-process (inside `botcriptofy start`; set REDIS_URL for shared queues and several workers)'} · bot ticks every ${intervalS} s`);
    console.log('\nWorkers');
    if (workers.length === 0) console.log('  none seen ticking bots recently');
    else printTable(['WORKER', 'STATE', 'LAST SEEN', 'BOTS'], workers.map((w) => [w.workerId, w.alive ? 'alive' : 'gone', `${Math.round((Date.now() - w.lastSeenMs) / 1000)} s ago`, String(w.bots)]), (c) => c === 3);
    console.log('\nQueues');
    if (summary.jobs === 'bullmq') printTable(['QUEUE', 'WAITING', 'DELAYED', 'ACTIVE', 'FAILED', 'DONE'], QUEUES.map((q) => { const c = queues[q]!; return [q, String(c.waiting), String(c.delayed), String(c.active), String(c.failed), String(c.completed)]; }), (c) => c > 0);
    else console.log('  in-process: see /metrics (job_queue_depth) of the running `start`');
    console.log('\nBots');
    console.log(`  ${bots.map((b) => `${b.n} ${b.status}`).join(', ') || 'none'}${(stale?.n ?? 0) > 0 ? ` · ${stale!.n} running bots not ticked in the last ${intervalS * 3} s` : ''}`);
  });
}
