import { QUEUES } from '../../jobs/index.ts';
import { readDeploymentStatus } from '../../workers/index.ts';
import { withRuntime } from '../open-runtime.ts';
import { printTable } from '../table.ts';

/** Workers, queues and bots at a glance, from Redis (when configured) and the database (workers/' reading, as GET /api/v1/status). */
export async function statusCommand(options: { json?: boolean }): Promise<void> {
  await withRuntime(async ({ config, database }) => {
    const intervalS = config.jobs.botTickIntervalS;
    const summary = await readDeploymentStatus(database.db, {
      tickIntervalS: intervalS,
      botLockTtlMs: config.jobs.botLockTtlMs,
      redisUrl: config.jobs.redisUrl,
    });
    const { workers, queues, feeds } = summary;
    if (options.json) {
      console.log(JSON.stringify(summary));
      return;
    }
    console.log(
      `Jobs: ${summary.jobs === 'bullmq' ? 'BullMQ on Redis' : 'in-process (inside `botcriptofy start`; set REDIS_URL for shared queues and several workers)'} · bot ticks every ${intervalS} s`,
    );
    console.log('\nWorkers');
    if (workers.length === 0) console.log('  none seen ticking bots recently');
    else
      printTable(
        ['WORKER', 'STATE', 'LAST SEEN', 'BOTS'],
        workers.map((w) => [
          w.workerId,
          w.alive ? 'alive' : 'gone',
          `${Math.round((Date.now() - w.lastSeenMs) / 1000)} s ago`,
          String(w.bots),
        ]),
        (c) => c === 3,
      );
    console.log('\nQueues');
    if (summary.jobs === 'bullmq')
      printTable(
        ['QUEUE', 'WAITING', 'DELAYED', 'ACTIVE', 'FAILED', 'DONE'],
        QUEUES.map((q) => {
          const c = queues[q]!;
          return [q, String(c.waiting), String(c.delayed), String(c.active), String(c.failed), String(c.completed)];
        }),
        (c) => c > 0,
      );
    else console.log('  in-process: see /metrics (job_queue_depth) of the running `start`');
    console.log('\nBots');
    console.log(
      `  ${
        Object.entries(summary.bots)
          .map(([status, n]) => `${n} ${status}`)
          .join(', ') || 'none'
      }${summary.runningBotsNotTicked > 0 ? ` · ${summary.runningBotsNotTicked} running bots not ticked in the last ${intervalS * 3} s` : ''}`,
    );
    // Feeds of running bots with bars in the cache; a stale one holds its bots' new entries.
    console.log('\nMarket feeds');
    if (feeds.length === 0) console.log('  none cached for running bots (the replayed demo market does not use the cache)');
    else
      printTable(
        ['FEED', 'STATE', 'LAST BAR CLOSED'],
        feeds.map((f) => [
          `${f.exchange} ${f.symbol} ${f.timeframe}`,
          f.stale ? 'STALE: no new entries' : 'fresh',
          `${Math.round((f.lastBarAgeMs ?? 0) / 1000)} s ago`,
        ]),
        (c) => c === 2,
      );
  });
}
