// A worker process for the scale-out test: a BotWorker on the shared PostgreSQL and Redis,
// ticking paper bots on a replayed market whose clock follows the slots (so every worker
// agrees on "now"). Prints "ready" once loaded, then waits for `start T0` on stdin (the first
// slot, chosen by the test once every worker is ready: a slow start on a busy machine must not
// eat into the slots), and runs until SIGTERM (graceful) or SIGKILL.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { openDatabase } from '../../db/index.ts';
import { createLogger } from '../../observability/index.ts';
import { BotWorker, RedisBotLocks } from '../../workers/index.ts';
import { fencedPaperRunner, NO_LOSS_LIMITS } from './paper-bots.ts';
import { HOUR, syntheticMarket } from './synthetic-market.ts';

const { DATABASE_URL, REDIS_URL, PREFIX, INTERVAL_MS, TTL_MS, WORKER_ID } = process.env;
const intervalMs = Number(INTERVAL_MS);
/** The replayed bar the first slot trades on. */
const startBar = Number(process.env.START_BAR ?? 40);
const handle = await openDatabase({ url: DATABASE_URL, dataDir: '', poolMax: 8 });
const replay = syntheticMarket(startBar);
const logger = createLogger(
  { log: { level: 'warn', format: 'json' } },
  {
    destination: new Writable({
      write: (chunk, _e, done) => {
        process.stderr.write(chunk);
        done();
      },
    }),
  },
);
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
    replay.now = (startBar + Math.max(0, Math.round((slotAt - t0) / intervalMs))) * HOUR;
  },
  runnerFor: fencedPaperRunner(handle.db, replay, { limits: NO_LOSS_LIMITS, retry: { attempts: 2, initialDelayMs: 1 } }),
});
process.stdout.write('ready\n');
let t0 = Number.NaN;
for await (const line of createInterface({ input: process.stdin })) {
  const match = /^start (\d+)$/.exec(line.trim());
  if (match) {
    t0 = Number(match[1]);
    break;
  }
}
worker.start();
process.on('SIGTERM', () => {
  void worker.stop().then(async () => {
    await locks.close();
    await handle.close();
    process.exit(0);
  });
});
