import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../support/cli.ts';
import { createTestDatabase, realPostgresAvailable, type TestDatabase } from '../support/databases.ts';
import { REDIS_URL, redisAvailable, startPrivateRedis } from '../support/redis.ts';

const missing = !realPostgresAvailable || !redisAvailable;
if (missing) console.log('worker CLI test skipped: needs PostgreSQL and Redis on 127.0.0.1');

describe.skipIf(missing)('botcriptofy worker and status (PostgreSQL + Redis)', () => {
  let test: TestDatabase;
  afterAll(async () => {
    await test?.dispose();
  });

  it('runs a worker that `status` sees with its bots, and stops it cleanly on SIGTERM', async () => {
    test = await createTestDatabase('postgres', { migrate: false });
    const env = {
      DATABASE_URL: test.url!,
      REDIS_URL,
      MASTER_KEY: 'cd'.repeat(32),
      BOT_TICK_INTERVAL_S: '1',
      BOT_LOCK_TTL_MS: '3000',
      LOG_LEVEL: 'info',
    };
    const seeded = await runCli(['seed', '--demo', '--traders', '10', '--as-of', '2026-11-01'], env);
    expect(seeded.code, seeded.stderr).toBe(0);
    const worker = await startCli(['worker'], env, (line) => line.includes('worker ready'));
    try {
      type Summary = {
        jobs: string;
        workers: { alive: boolean; bots: number }[];
        queues: Record<string, unknown>;
        bots: Record<string, number>;
      };
      // Until the worker's first round has been seen (it heartbeats as it ticks, every second here).
      let summary: Summary | undefined;
      await expect
        .poll(
          async () => {
            const status = await runCli(['status', '--json'], env);
            expect(status.code, status.stderr).toBe(0);
            summary = JSON.parse(status.stdout) as Summary;
            return summary.workers.filter((w) => w.alive).length;
          },
          { timeout: 60_000, interval: 250 },
        )
        .toBe(1);
      if (!summary) throw new Error('no status');
      expect(summary.jobs).toBe('bullmq');
      expect(summary.workers.filter((w) => w.alive)).toHaveLength(1);
      expect(Object.keys(summary.queues)).toEqual(['bot-ticks', 'reports', 'notifications', 'webhooks', 'agent-tasks', 'backtests']);
      expect(Object.values(summary.bots).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      const table = await runCli(['status'], env);
      expect(table.stdout).toContain('BullMQ on Redis');
      expect(table.stdout).toMatch(/WORKER\s+STATE/);
    } finally {
      worker.child.kill('SIGTERM');
    }
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toContain('worker stopped cleanly');
  }, 120_000);

  it('a worker whose Redis goes away and comes back empty logs the outage as JSON, gets its schedules back and stops cleanly', async () => {
    const redis = await startPrivateRedis();
    const db = await createTestDatabase('postgres', { migrate: false });
    try {
      const env = {
        DATABASE_URL: db.url!,
        REDIS_URL: redis.url,
        MASTER_KEY: 'cd'.repeat(32),
        BOT_TICK_INTERVAL_S: '1',
        BOT_LOCK_TTL_MS: '3000',
        SCHEDULE_CHECK_S: '1',
        LOG_LEVEL: 'info',
      };
      const seeded = await runCli(['seed', '--demo', '--traders', '5', '--as-of', '2026-11-01'], env);
      expect(seeded.code, seeded.stderr).toBe(0);
      const worker = await startCli(['worker'], env, (line) => line.includes('worker ready'));
      const lines = () => worker.output().split('\n').filter(Boolean);
      const count = (text: string) => lines().filter((line) => line.includes(text)).length;
      try {
        await redis.kill();
        await expect.poll(() => count('redis unreachable'), { timeout: 20_000 }).toBe(1);
        await redis.start();
        // Every schedule of the company (outbox, dunning, scans, recovery) is declared again.
        await expect.poll(() => count('declared again'), { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
        await expect.poll(() => count('redis reachable again'), { timeout: 20_000 }).toBe(1);
      } finally {
        worker.child.kill('SIGTERM');
      }
      expect(await worker.exited).toBe(0);
      const notJson = lines().filter((line) => {
        try {
          JSON.parse(line);
          return false;
        } catch {
          return true;
        }
      });
      expect(notJson).toEqual([]);
      expect(count('redis unreachable')).toBe(1);
    } finally {
      await redis.stop();
      await db.dispose();
    }
  }, 120_000);
});
