import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { like } from 'drizzle-orm';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.ts';
import * as db from '../../db/index.ts';
import { createLogger, createMetrics } from '../../observability/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import { upsertCandles } from '../../trading/index.ts';
import { createWorkerService, type WorkerService } from '../../workers/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { startFakeBinance, type FakeBinance } from '../support/fake-binance.ts';

// The worker's wiring of a stale feed: the gauges, and one notice to the company per stale
// episode however many workers see it. The exchange here is a scripted Binance on loopback
// that stopped producing bars five hours ago (so the clock is the real one: nothing waits).

const HOUR = 3_600_000;
const silent = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);
let test: TestDatabase | undefined;
let binance: FakeBinance | undefined;
const services: WorkerService[] = [];
afterAll(async () => {
  for (const service of services) await service.stop(1_000);
  await binance?.close();
  await test?.dispose();
});

/** Waits for the notice queued by the service's callback (a database write it does not await). */
async function noticesEventually(database: db.Database, count: number): Promise<(typeof db.notifications.$inferSelect)[]> {
  for (let attempt = 0; ; attempt++) {
    const rows = await database.select().from(db.notifications).where(like(db.notifications.dedupeKey, 'market-feed-stale:%'));
    if (rows.length >= count || attempt > 200) return rows;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

it('a stale feed sets market_feed_stale and its bar age, and queues one notice per episode for all the workers', async () => {
  test = await createTestDatabase('pglite');
  const database = test.handle.db;
  binance = await startFakeBinance();
  const lastOpen = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
  const bars = Array.from({ length: 60 }, (_, i) => [lastOpen - (59 - i) * HOUR, 100, 101, 99, 100 + i / 10, 5]);
  binance.klines = bars;
  await database.insert(db.tenants).values({ id: crypto.randomUUID(), kind: 'company', name: 'BotCriptoFy' });
  const key = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' };
  await upsertCandles(database, key, bars);

  const config = loadConfig({ OLLAMA_HOST: 'http://127.0.0.1:9' });
  const metrics = [createMetrics({ defaultMetrics: false }), createMetrics({ defaultMetrics: false })];
  for (const m of metrics)
    services.push(
      createWorkerService({
        config,
        db: database,
        logger: silent,
        metrics: m,
        secretBox: createSecretBox(crypto.randomBytes(32)),
        feedApiBaseUrl: binance.url,
      }),
    );
  // Two workers whose bots trade the pair (watching is what a bot's exchangeForBot does).
  for (const service of services) service.feeds.watch(key.exchange, key.symbol, key.timeframe);
  for (const service of services) await service.feeds.step();
  for (const service of services) await service.feeds.step();

  for (const m of metrics) {
    const stale = (await m.marketFeedStale.get()).values;
    expect(stale).toEqual([{ labels: { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }, value: 1 }]);
    const age = (await m.marketFeedLastBarAge.get()).values[0]!.value;
    expect(age).toBeGreaterThan(4 * 3600 - 60);
    expect(age).toBeLessThan(4 * 3600 + 3600);
  }
  const notices = await noticesEventually(database, 1);
  expect(notices).toHaveLength(1);
  expect(notices[0]).toMatchObject({
    type: 'message',
    recipientDepartment: 'ceo',
    dedupeKey: `market-feed-stale:binance:BTC/USDT:1h:${lastOpen}`,
  });
  expect((notices[0]!.payload as { text: string }).text).toMatch(/BTC\/USDT 1h is stale .* no new entries/);

  // Bars arrive again, written by the pair's fetcher (in a cluster, whichever worker holds the lease): fresh again on every worker.
  await upsertCandles(
    database,
    key,
    Array.from({ length: 4 }, (_, i) => [lastOpen + (i + 1) * HOUR, 100, 101, 99, 106, 5]),
  );
  for (const service of services) await service.feeds.step();
  for (const m of metrics) expect((await m.marketFeedStale.get()).values[0]!.value).toBe(0);
  expect(await noticesEventually(database, 2)).toHaveLength(1);
});
