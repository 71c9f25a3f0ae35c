import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createJobs, type Job } from '../../jobs/index.ts';
import { REDIS_URL, redisAvailable } from '../support/redis.ts';

// createJobs loads BullMQ's code only when Redis is configured (jobs/deferred.ts): without it
// nothing of BullMQ is imported; with it, calls made while the code loads still run in order.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RECORD_MODULES = fileURLToPath(new URL('../support/record-modules.ts', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-deferred-jobs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('createJobs', () => {
  it('without Redis returns the in-process runner and loads no BullMQ module', async () => {
    const record = path.join(tmp, 'modules.txt');
    const script = `const { createJobs } = await import('./jobs/index.ts'); const jobs = createJobs({ redisUrl: undefined }); console.log(jobs.kind); await jobs.close();`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', RECORD_MODULES, '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, RECORD_MODULES_FILE: record },
    });
    expect(stdout.trim()).toBe('in-process');
    const modules = fs.readFileSync(record, 'utf8').split('\n').filter(Boolean);
    // The recording saw the job layer (an empty list is no pass)...
    expect(modules.some((url) => url.endsWith('/jobs/in-process.ts'))).toBe(true);
    // ...and neither BullMQ nor its runner.
    expect(modules.filter((url) => url.includes('/node_modules/bullmq/') || url.endsWith('/jobs/bullmq.ts'))).toEqual([]);
  });

  it.skipIf(!redisAvailable)('with Redis runs the jobs of a worker registered before BullMQ had loaded', async () => {
    const prefix = `bcf-test-${crypto.randomUUID().slice(0, 8)}`;
    const jobs = createJobs({ redisUrl: REDIS_URL, prefix });
    expect(jobs.kind).toBe('bullmq');
    const seen: number[] = [];
    // Called at once, as a worker's start does: the runner's code is still loading.
    jobs.work('agent-tasks', async (job: Job) => void seen.push((job.data as { n: number }).n), { concurrency: 2 });
    try {
      for (let n = 0; n < 5; n++) await jobs.add('agent-tasks', 'work', { n });
      const started = Date.now();
      while (seen.length < 5 && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
      expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
      const started2 = Date.now();
      while ((await jobs.counts('agent-tasks')).completed < 5 && Date.now() - started2 < 10_000)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await jobs.counts('agent-tasks')).completed).toBe(5);
    } finally {
      await jobs.close(2_000);
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
