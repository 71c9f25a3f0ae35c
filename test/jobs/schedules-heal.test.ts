import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock/index.ts';
import { BullMqJobs } from '../../jobs/bullmq.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.ts';

const redisInstalled = await import('node:child_process').then(({ spawnSync }) => spawnSync('redis-server', ['--version']).status === 0);

/** A pino logger writing JSON lines into an array. */
function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines, messages: () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg) };
}

describe.skipIf(!redisInstalled)('schedules heal after Redis lost its data (private redis-server)', () => {
  let redis: PrivateRedis | undefined;
  let jobs: BullMqJobs | undefined;
  afterEach(async () => {
    await jobs?.close(1_000);
    await redis?.stop();
    jobs = undefined;
    redis = undefined;
  });

  it('a flushed Redis gets every declared schedule back at the next check, once, and the occurrences run again', async () => {
    redis = await startPrivateRedis();
    const clock = new ManualClock();
    const recreated: string[] = [];
    const log = captureLogger();
    jobs = new BullMqJobs({
      url: redis.url,
      prefix: 'heal',
      clock,
      scheduleCheckMs: 30_000,
      logger: log.logger,
      events: { onScheduleRecreated: (queue, key) => recreated.push(`${queue}/${key}`) },
    });
    let runs = 0;
    jobs.work('reports', async () => void runs++);
    await jobs.schedule('reports', 'every-200ms', { everyMs: 200 }, 'every-200ms', {});
    await jobs.schedule('agent-tasks', 'nightly', { cron: '0 3 * * *', timezone: 'America/Sao_Paulo' }, 'nightly', {});
    await expect.poll(() => runs, { timeout: 10_000 }).toBeGreaterThan(0);

    // Nothing is missing: a check changes nothing.
    expect(await jobs.checkSchedules()).toBe(0);

    const { Redis } = await import('ioredis');
    const admin = new Redis(redis.url);
    await admin.flushall();
    expect(await admin.keys('heal:*')).toEqual([]);

    // The timer's check, one interval later on the schedule-check clock.
    clock.advance(30_000);
    await expect.poll(() => recreated.length, { timeout: 10_000 }).toBe(2);
    expect(recreated.sort()).toEqual(['agent-tasks/nightly', 'reports/every-200ms']);
    const schedulers = await admin.keys('heal:*:repeat*');
    expect(schedulers.length).toBeGreaterThan(0);
    const before = runs;
    await expect.poll(() => runs, { timeout: 10_000 }).toBeGreaterThan(before);
    // A second check finds them all and declares nothing.
    expect(await jobs.checkSchedules()).toBe(0);
    expect(log.messages().filter((m) => m.startsWith('schedule missing from Redis'))).toHaveLength(2);
    admin.disconnect();
  }, 30_000);

  it('a Redis restarted empty gets the schedules back on reconnection; the outage is two JSON log lines, not raw errors', async () => {
    redis = await startPrivateRedis();
    const log = captureLogger();
    const recreated: string[] = [];
    // A check interval far beyond the test: only the reconnection can bring the schedule back.
    jobs = new BullMqJobs({
      url: redis.url,
      prefix: 'heal',
      clock: new ManualClock(),
      scheduleCheckMs: 3_600_000,
      logger: log.logger,
      events: { onScheduleRecreated: (queue, key) => recreated.push(`${queue}/${key}`) },
    });
    let runs = 0;
    jobs.work('notifications', async () => void runs++);
    await jobs.schedule('notifications', 'drain', { everyMs: 200 }, 'drain', {});
    await expect.poll(() => runs, { timeout: 10_000 }).toBeGreaterThan(0);

    const rawErrors: unknown[] = [];
    const originalError = console.error;
    console.error = (...args: unknown[]) => void rawErrors.push(args);
    try {
      await redis.kill();
      await expect.poll(() => jobs!.redisDown, { timeout: 10_000 }).toBe(true);
      await redis.start();
      await expect.poll(() => recreated, { timeout: 15_000 }).toEqual(['notifications/drain']);
      const before = runs;
      await expect.poll(() => runs, { timeout: 10_000 }).toBeGreaterThan(before);
      expect(jobs.redisDown).toBe(false);
    } finally {
      console.error = originalError;
    }
    expect(rawErrors).toEqual([]);
    const messages = log.messages();
    expect(messages.filter((m) => m.startsWith('redis unreachable'))).toHaveLength(1);
    const back = log.lines
      .map((line) => JSON.parse(line) as { msg: string; errors?: number; downMs?: number })
      .filter((entry) => entry.msg === 'redis reachable again');
    expect(back).toHaveLength(1);
    expect(back[0]!.errors).toBeGreaterThan(0);
  }, 40_000);
});
