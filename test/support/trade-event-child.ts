// Another process queuing a bot's trade as a worker ticking it would (the runner's own
// notifyBotEvent), for the live events test: the API process has to find it in the outbox.
import { openDatabase } from '../../db/index.ts';
import { notifyBotEvent } from '../../trading/index.ts';

const { DATABASE_URL, BOT_ID, TENANT_ID, AMOUNT } = process.env;
const handle = await openDatabase({ url: DATABASE_URL, dataDir: '' });
await notifyBotEvent(handle.db, {
  type: 'trade_opened',
  botId: BOT_ID!,
  tenantId: TENANT_ID!,
  symbol: 'DOGE/USDT',
  amountBase: Number(AMOUNT),
  priceQuote: 0.25,
});
await handle.close();
