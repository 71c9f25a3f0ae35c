import { Redis } from 'ioredis';
import { freePort } from './ports.ts';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether the Redis for tests answers PING within a second. */
async function redisReachable(): Promise<boolean> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export const redisAvailable = await redisReachable();

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: the server goes away at once, its data with it (no persistence). */
  kill(): Promise<void>;
  /** A new, empty server on the same port. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Redis of the test's own on a free port, without persistence, that the test may kill and
 * start again (the shared one on 6379 is never touched).
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const { spawn } = await import('node:child_process');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: import('node:child_process').ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const client = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await client.connect();
          if ((await client.ping()) === 'PONG') return;
        } catch (error) {
          // Waiting for the server process to listen (I/O), not for time to pass in a test.
          if (attempt > 250) throw error;
          client.disconnect();
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    } finally {
      client.disconnect();
    }
  };
  const kill = async () => {
    const dying = child;
    child = undefined;
    if (!dying || dying.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      dying.once('exit', () => resolve());
      dying.kill('SIGKILL');
    });
  };
  await start();
  return { url, port, kill, start, stop: kill };
}
