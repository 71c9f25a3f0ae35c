import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock/index.ts';
import { BullMqJobs } from '../../jobs/bullmq.ts';
import { InProcessJobs, type Job, type Jobs } from '../../jobs/index.ts';
import { REDIS_URL, redisAvailable } from '../support/redis.ts';

// One contract, two runners: the in-process one always, BullMQ on the real Redis when it answers.

const runners: [string, () => Jobs][] = [['in-process', () => new InProcessJobs()]];
if (redisAvailable)
  runners.push(['bullmq', () => new BullMqJobs({ url: REDIS_URL, prefix: `bcf-test-${crypto.randomUUID().slice(0, 8)}` })]);
else console.log(`BullMQ contract tests skipped: no Redis at ${REDIS_URL}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe.each(runners)('job layer contract: %s', (_kind, make) => {
  const open: Jobs[] = [];
  const create = () => {
    const jobs = make();
    open.push(jobs);
    return jobs;
  };
  afterEach(async () => {
    for (const jobs of open.splice(0)) {
      await jobs.close(2_000);
      if (jobs instanceof BullMqJobs) await jobs.obliterate().catch(() => {});
    }
  });

  it('runs each job once with its data, within the concurrency limit', async () => {
    const jobs = create();
    const seen: number[] = [];
    let running = 0;
    let peak = 0;
    jobs.work(
      'agent-tasks',
      async (job: Job) => {
        running += 1;
        peak = Math.max(peak, running);
        await sleep(30);
        seen.push((job.data as { n: number }).n);
        running -= 1;
      },
      { concurrency: 3 },
    );
    for (let n = 0; n < 12; n++) await jobs.add('agent-tasks', 'work', { n });
    await until(() => seen.length === 12);
    expect([...seen].sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    await until(async () => (await jobs.counts('agent-tasks')).completed === 12);
  });

  it('retries a failing job with exponential backoff, then gives up and counts it failed', async () => {
    const jobs = create();
    const tries: { attempt: number; at: number }[] = [];
    jobs.work('webhooks', async (job) => {
      tries.push({ attempt: job.attempt, at: Date.now() });
      if ((job.data as { succeedOn: number }).succeedOn !== job.attempt) throw new Error(`try ${job.attempt} fails`);
    });
    await jobs.add('webhooks', 'flaky', { succeedOn: 3 }, { attempts: 3, backoffMs: 100 });
    await until(() => tries.length === 3);
    expect(tries.map((t) => t.attempt)).toEqual([1, 2, 3]);
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(90);
    expect(tries[2]!.at - tries[1]!.at).toBeGreaterThanOrEqual(190);
    await until(async () => (await jobs.counts('webhooks')).completed === 1);

    await jobs.add('webhooks', 'hopeless', { succeedOn: 99 }, { attempts: 2, backoffMs: 50 });
    await until(async () => (await jobs.counts('webhooks')).failed === 1);
  });

  it('holds a delayed job until it is due, and adds a job id only once', async () => {
    const jobs = create();
    const ran: { name: string; at: number }[] = [];
    jobs.work('reports', async (job) => {
      ran.push({ name: job.name, at: Date.now() });
    });
    const added = Date.now();
    await jobs.add('reports', 'later', {}, { delayMs: 300 });
    await jobs.add('reports', 'once', {}, { jobId: 'daily:2026-11-21' });
    await jobs.add('reports', 'once', {}, { jobId: 'daily:2026-11-21' });
    await until(() => ran.length === 2);
    await sleep(200);
    expect(ran.map((r) => r.name).sort()).toEqual(['later', 'once']);
    expect(ran.find((r) => r.name === 'later')!.at - added).toBeGreaterThanOrEqual(290);
  });

  it('fires a repeatable schedule on its cadence, declared twice without doubling', async () => {
    const jobs = create();
    const fired: number[] = [];
    jobs.work('bot-ticks', async () => {
      fired.push(Date.now());
    });
    await jobs.schedule('bot-ticks', 'tick-dispatch', { everyMs: 200 }, 'dispatch', {});
    await jobs.schedule('bot-ticks', 'tick-dispatch', { everyMs: 200 }, 'dispatch', {});
    await sleep(1_100);
    await jobs.removeSchedule('bot-ticks', 'tick-dispatch');
    // ~5 occurrences in 1.1 s at 200 ms; doubled it would be ~10.
    expect(fired.length).toBeGreaterThanOrEqual(3);
    expect(fired.length).toBeLessThanOrEqual(7);
  });

  it('rejects a cron pattern it cannot read', async () => {
    const jobs = create();
    await expect(jobs.schedule('reports', 'bad', { cron: 'every morning', timezone: 'America/Sao_Paulo' }, 'x', {})).rejects.toThrow();
  });

  it('drains on close: the running job finishes, nothing new starts', async () => {
    const jobs = create();
    const finished: number[] = [];
    const started: number[] = [];
    jobs.work('notifications', async (job) => {
      const n = (job.data as { n: number }).n;
      started.push(n);
      await sleep(300);
      finished.push(n);
    });
    await jobs.add('notifications', 'slow', { n: 1 });
    await until(() => started.length === 1);
    await jobs.add('notifications', 'next', { n: 2 });
    await jobs.close(5_000);
    expect(finished).toEqual([1]);
    expect(started).toEqual([1]);
  });
});

describe.skipIf(!redisAvailable)('BullMQ across workers', () => {
  it('runs a schedule once per occurrence and each job once, however many workers declare and serve it', async () => {
    const prefix = `bcf-test-${crypto.randomUUID().slice(0, 8)}`;
    const workers = [0, 1, 2].map(() => new BullMqJobs({ url: REDIS_URL, prefix }));
    const fired: string[] = [];
    const handled: string[] = [];
    try {
      for (const [i, jobs] of workers.entries()) {
        jobs.work(
          'reports',
          async (job) => {
            if (job.name === 'tick') fired.push(job.id);
            else handled.push(`${i}:${(job.data as { n: number }).n}`);
          },
          { concurrency: 2 },
        );
        await jobs.schedule('reports', 'every-300ms', { everyMs: 300 }, 'tick', {});
      }
      for (let n = 0; n < 30; n++) await workers[n % 3]!.add('reports', 'job', { n });
      await sleep(1_700);
      await until(() => handled.length === 30);
      expect(new Set(handled.map((h) => h.split(':')[1])).size).toBe(30);
      expect(new Set(fired).size).toBe(fired.length);
      expect(fired.length).toBeGreaterThanOrEqual(4);
      expect(fired.length).toBeLessThanOrEqual(7);
    } finally {
      for (const jobs of workers) await jobs.close(2_000);
      await workers[0]!.obliterate().catch(() => {});
    }
  });
});

describe('in-process jobs on a clock moved by the test', () => {
  it('retries at exactly the backoff, holds a delayed job to the millisecond, and fires an hourly cron 24 times a day', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 30, 23, 30));
    const jobs = new InProcessJobs({}, { clock });
    try {
      const tries: number[] = [];
      jobs.work('webhooks', async (job) => {
        tries.push(clock.now());
        if (job.attempt < 4) throw new Error('not yet');
      });
      const start = clock.now();
      await jobs.add('webhooks', 'flaky', {}, { attempts: 4, backoffMs: 1_000 });
      await clock.advance(60_000);
      expect(tries.map((at) => at - start)).toEqual([0, 1_000, 3_000, 7_000]);
      expect(await jobs.counts('webhooks')).toMatchObject({ completed: 1, failed: 0 });

      const ran: number[] = [];
      jobs.work('reports', async () => void ran.push(clock.now()));
      const added = clock.now();
      await jobs.add('reports', 'later', {}, { delayMs: 90 * 60_000 });
      await clock.advance(90 * 60_000 - 1);
      expect(ran).toEqual([]);
      await clock.advance(1);
      expect(ran).toEqual([added + 90 * 60_000]);

      const fired: string[] = [];
      jobs.work('bot-ticks', async () => void fired.push(new Date(clock.now()).toISOString()));
      await jobs.schedule('bot-ticks', 'hourly', { cron: '0 * * * *', timezone: 'UTC' }, 'tick', {});
      await jobs.schedule('bot-ticks', 'hourly', { cron: '0 * * * *', timezone: 'UTC' }, 'tick', {});
      const dayStart = Math.ceil(clock.now() / 3_600_000) * 3_600_000;
      await clock.advance(dayStart + 24 * 3_600_000 - 1 - clock.now());
      expect(fired).toHaveLength(24);
      expect(fired[0]).toBe(new Date(dayStart).toISOString());
      expect(fired[23]).toBe(new Date(dayStart + 23 * 3_600_000).toISOString());
    } finally {
      await jobs.close(1_000);
    }
  });
});
