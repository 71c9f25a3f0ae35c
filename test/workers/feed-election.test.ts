import crypto from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { detectGaps, feedLeaseKey, loadCachedCandles } from '../../trading/index.ts';
import { createTestDatabase, realPostgresAvailable, type TestDatabase } from '../support/databases.ts';
import { startFakeBinance, type FakeBinance } from '../support/fake-binance.ts';
import { redisAvailable, startPrivateRedis, type PrivateRedis } from '../support/redis.ts';

const CHILD = fileURLToPath(new URL('../support/feed-child.ts', import.meta.url));
const MINUTE = 60_000;
const ready = !realPostgresAvailable || !redisAvailable ? 'needs PostgreSQL and Redis on 127.0.0.1' : '';
if (ready) console.log(`feed election tests skipped: ${ready}`);

/** Waits for I/O done by other processes (a child's output, rows it writes), polling `check`; fails after `timeoutMs`. */
async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.skipIf(ready !== '')('market feed election across worker processes (PostgreSQL + Redis)', () => {
  const children: ChildProcess[] = [];
  let test: TestDatabase | undefined;
  let redis: PrivateRedis | undefined;
  let binance: FakeBinance | undefined;
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await binance?.close();
    await redis?.stop();
    await test?.dispose();
  });

  it('three workers: one fetcher for the pair; SIGKILLed, another takes over within the lease TTL and the cache has no gap', async () => {
    test = await createTestDatabase('postgres');
    redis = await startPrivateRedis();
    binance = await startFakeBinance();
    // Minute bars laid in the past, so each is closed by every clock; the exchange "produces" a bar when the test appends it.
    const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 600 * MINUTE;
    const bar = (i: number) => [t0 + i * MINUTE, 100 + i, 101 + i, 99 + i, 100.5 + i, 1 + (i % 5)];
    const bars = (count: number) => Array.from({ length: count }, (_, i) => bar(i));
    binance.klines = bars(100);
    const key = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' };
    const prefix = `bcf-feed-${crypto.randomUUID().slice(0, 8)}`;
    const ttlMs = 2_000;
    const stepMs = 100;
    const ids = [0, 1, 2].map((i) => `feed-w${i}-${crypto.randomUUID().slice(0, 6)}`);
    const events: { id: string; line: string; atMs: number }[] = [];
    const start = (id: string) =>
      new Promise<ChildProcess>((resolve, reject) => {
        const child = spawn(process.execPath, [CHILD], {
          env: {
            ...process.env,
            DATABASE_URL: test!.url!,
            REDIS_URL: redis!.url,
            PREFIX: prefix,
            API_URL: binance!.url,
            TTL_MS: String(ttlMs),
            STEP_MS: String(stepMs),
            WORKER_ID: id,
            SYMBOL: key.symbol,
            TIMEFRAME: key.timeframe,
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(child);
        child.stdout!.on('data', (chunk: Buffer) => {
          for (const line of chunk.toString().split('\n').filter(Boolean)) {
            if (line === 'ready') resolve(child);
            else events.push({ id, line, atMs: Date.now() });
          }
        });
        child.on('error', reject);
      });
    const workers = await Promise.all(ids.map(start));
    const db = test.handle.db;
    const newest = async () => {
      const cached = await loadCachedCandles(db, key);
      return cached.length > 0 ? cached.time[cached.length - 1]! : undefined;
    };

    // One of the three fetches; the cache fills with the 100 bars.
    await until('the history in the cache', async () => ((await newest()) === bar(99)[0] ? true : undefined));
    const fetchers = events.filter((e) => e.line.startsWith('fetching'));
    expect(fetchers).toHaveLength(1);
    const victim = fetchers[0]!.id;
    const client = new Redis(redis.url);
    expect(await client.get(`${prefix}:feed-lock:${feedLeaseKey(key)}`)).toBe(victim);
    // A few more steps of all three: still the one fetcher.
    binance.klines = bars(110);
    await until('bars 100–109', async () => ((await newest()) === bar(109)[0] ? true : undefined));
    expect(events.filter((e) => e.line.startsWith('fetching'))).toHaveLength(1);

    // The fetcher dies without a word; the exchange goes on producing bars meanwhile.
    const killedAt = Date.now();
    workers[ids.indexOf(victim)]!.kill('SIGKILL');
    binance.klines = bars(160);
    const successor = await until('another fetcher', () => events.find((e) => e.line.startsWith('fetching') && e.id !== victim));
    // The lease lapses after its TTL; a survivor takes it at its next step.
    expect(successor.atMs - killedAt).toBeLessThanOrEqual(ttlMs + 3 * stepMs + 1_000);
    expect(await client.get(`${prefix}:feed-lock:${feedLeaseKey(key)}`)).toBe(successor.id);
    await until('the bars produced while nobody fetched', async () => ((await newest()) === bar(159)[0] ? true : undefined));
    binance.klines = bars(180);
    await until('bars after the takeover', async () => ((await newest()) === bar(179)[0] ? true : undefined));
    expect(events.filter((e) => e.line.startsWith('fetching') && e.id !== victim)).toHaveLength(1);
    client.disconnect();

    // Every bar, once, no gap, the exchange's values.
    const cached = await loadCachedCandles(db, key);
    expect(cached.length).toBe(180);
    expect(detectGaps(cached, MINUTE)).toEqual([]);
    expect(Array.from(cached.close)).toEqual(bars(180).map((b) => b[4]));
  });
});
