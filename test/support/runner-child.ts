// A bot-runner process for the kill test: ticks one paper bot bar by bar from START_BAR and
// prints "bar N" after each completed tick, until the parent kills it (SIGKILL).
import { openDatabase } from '../../db/index.ts';
import { BotRunner, DEFAULT_RISK_LIMITS, PaperExchange } from '../../trading/index.ts';
import { HOUR, syntheticMarket } from './synthetic-market.ts';

const { DATABASE_URL, BOT_ID, TENANT_ID, START_BAR } = process.env;
const handle = await openDatabase({ url: DATABASE_URL, dataDir: '' });
const replay = syntheticMarket(Number(START_BAR));
const exchange = new PaperExchange(handle.db, { botId: BOT_ID!, tenantId: TENANT_ID!, market: replay, timeframe: '1h' });
const runner = await BotRunner.load(
  { db: handle.db, exchange, limits: DEFAULT_RISK_LIMITS, killSwitch: () => false, retry: { attempts: 2, initialDelayMs: 1 } },
  BOT_ID!,
);
for (let bar = Number(START_BAR); bar < 560; bar++) {
  replay.now = bar * HOUR;
  await runner.tick();
  process.stdout.write(`bar ${bar}\n`);
}
await handle.close();
