// A worker process for the feed election test: a MarketFeeds on the shared PostgreSQL and a
// Redis lease, watching one pair of a scripted exchange. Prints "ready", then after every step
// in which it holds the pair's lease for the first time "fetching <worker id>" (and "lost" when
// it no longer does); runs until SIGTERM (graceful: gives its lease up) or SIGKILL.
import { openDatabase } from '../../db/index.ts';
import { MarketFeeds } from '../../trading/index.ts';
import { RedisBotLocks } from '../../workers/locks.ts';

const { DATABASE_URL, REDIS_URL, PREFIX, API_URL, TTL_MS, STEP_MS, WORKER_ID, SYMBOL, TIMEFRAME } = process.env;
// ccxt takes a second to import: loaded before "ready", so the takeover the test times is the lease's, not the import's.
await import('ccxt');
const handle = await openDatabase({ url: DATABASE_URL, dataDir: '', poolMax: 4 });
const leases = new RedisBotLocks({ url: REDIS_URL!, workerId: WORKER_ID!, ttlMs: Number(TTL_MS), prefix: PREFIX, kind: 'feed-lock' });
const feeds = new MarketFeeds({
  db: handle.db,
  leases,
  apiBaseUrl: API_URL,
  pollMs: 0,
  stepMs: Number(STEP_MS),
  renewMs: Number(TTL_MS) / 3,
  onError: (_key, error) => process.stderr.write(`feed error: ${String(error)}\n`),
});
const key = { exchange: 'binance', symbol: SYMBOL!, timeframe: TIMEFRAME! };
feeds.watch(key.exchange, key.symbol, key.timeframe);
let fetching = false;
const report = setInterval(() => {
  const now = feeds.isFetcher(key);
  if (now !== fetching) process.stdout.write(now ? `fetching ${WORKER_ID}\n` : `lost ${WORKER_ID}\n`);
  fetching = now;
}, 20);
feeds.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  clearInterval(report);
  void feeds.stop().then(async () => {
    await leases.close();
    await handle.close();
    process.exit(0);
  });
});
