// A worker process for the scale-out test: a BotWorker on the shared PostgreSQL and Redis,
// ticking paper bots on a replayed market whose clock follows the slots (so every worker
// agrees on "now"). Prints "ready", then runs until SIGTERM (graceful) or SIGKILL.
import { Writable } from 'node:stream';
import { openDatabase } from '../../db/index.ts';
import { createLogger } from '../../observability/index.ts';
import { BotRunner, DEFAULT_RISK_LIMITS, PaperExchange } from '../../trading/index.ts';
import { BotWorker, RedisBotLocks } from '../../workers/index.ts';
import { HOUR, syntheticMarket } from './synthetic-market.ts';

const { DATABASE_URL, REDIS_URL, PREFIX, INTERVAL_MS, TTL_MS, T0, WORKER_ID } = process.env;
const intervalMs = Number(INTERVAL_MS);
const handle = await openDatabase({ url: DATABASE_URL, dataDir: '', poolMax: 8 });
const replay = syntheticMarket(40);
const logger = createLogger({ log: { level: 'warn', format: 'json' } }, { destination: new Writable({ write: (chunk, _e, done) => { process.stderr.write(chunk); done(); } }) });
const locks = new RedisBotLocks({ url: REDIS_URL!, workerId: WORKER_ID!, ttlMs: Number(TTL_MS), prefix: PREFIX });
const worker = new BotWorker({
  db: handle.db,
  locks,
  workerId: WORKER_ID!,
  intervalMs,
  lockTtlMs: Number(TTL_MS),
  logger,
  concurrency: 8,
  onRound: (slotAt) => {
    replay.now = (40 + Math.max(0, Math.round((slotAt - Number(T0)) / intervalMs))) * HOUR;
  },
  runnerFor: async (bot, epoch) =>
    new BotRunner({ db: handle.db, exchange: new PaperExchange(handle.db, { botId: bot.id, tenantId: bot.tenantId, market: replay, timeframe: bot.timeframe }), limits: { ...DEFAULT_RISK_LIMITS, maxDailyLossQuotePerTenant: 1e12, maxDailyLossPctPerBot: 100 }, killSwitch: () => false, fence: { epoch }, retry: { attempts: 2, initialDelayMs: 1 } }, bot),
});
worker.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void worker.stop().then(async () => {
    await locks.close();
    await handle.close();
    process.exit(0);
  });
});
