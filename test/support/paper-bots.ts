import crypto from 'node:crypto';
import * as db from '../../db/index.ts';
import type { Database } from '../../db/index.ts';
import {
  BotRunner,
  DEFAULT_RISK_LIMITS,
  PaperExchange,
  type ReplayMarketData,
  type RiskLimits,
  type RetryPolicy,
} from '../../trading/index.ts';
import { syntheticMarket } from './synthetic-market.ts';

// Paper bots for the runner and worker tests and benchmarks, and the fenced runner a worker
// builds for each of them.

/** Daily loss limits out of the way: these runs measure ticking, not the risk gate. */
export const NO_LOSS_LIMITS: RiskLimits = { ...DEFAULT_RISK_LIMITS, maxDailyLossQuotePerTenant: 1e12, maxDailyLossPctPerBot: 100 };

/**
 * `count` running RSI bots on 1h in one trader's account, each with 1,000 USDT in its paper
 * wallet, dealt round-robin over `symbols` (BTC/USDT alone by default). Thresholds differ from
 * bot to bot, so they don't all trade on the same bar.
 */
export async function seedPaperBots(database: Database, count: number, symbols: readonly string[] = ['BTC/USDT']): Promise<string[]> {
  const tenantId = crypto.randomUUID();
  await database.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'Paper bots' });
  // In statements of 1,000 rows: PostgreSQL takes at most 65,535 parameters in one.
  const rows: { id: string }[] = [];
  for (let from = 0; from < count; from += 1000) {
    rows.push(
      ...(await database
        .insert(db.bots)
        .values(
          Array.from({ length: Math.min(1000, count - from) }, (_, k) => {
            const i = from + k;
            return {
              tenantId,
              name: `bot ${i}`,
              strategyName: 'rsi',
              parameters: { rsiPeriod: 14, rsiBuy: 20 + (i % 25), rsiSell: 55 + (i % 25) },
              symbols: [symbols[i % symbols.length]!],
              timeframe: '1h',
              status: 'running' as const,
              stakeQuote: '1000',
            };
          }),
        )
        .returning({ id: db.bots.id })),
    );
  }
  const replay = syntheticMarket(40);
  for (const row of rows)
    await new PaperExchange(database, { botId: row.id, tenantId, market: replay, timeframe: '1h' }).deposit('USDT', 1000);
  return rows.map((r) => r.id);
}

/**
 * One fast RSI bot (period 2, so it trades within a few bars) on BTC/USDT 1h in a trader's
 * account of its own, its paper wallet holding 1,000 USDT, on a replayed synthetic market.
 */
export async function seedFastPaperBot(
  database: Database,
): Promise<{ tenantId: string; botId: string; replay: ReplayMarketData; exchange: PaperExchange }> {
  const tenantId = crypto.randomUUID();
  const botId = crypto.randomUUID();
  await database.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'Trader' });
  await database.insert(db.bots).values({
    id: botId,
    tenantId,
    name: 'rsi fast',
    strategyName: 'rsi',
    parameters: { rsiPeriod: 2, rsiBuy: 30, rsiSell: 70 },
    symbols: ['BTC/USDT'],
    timeframe: '1h',
    status: 'running',
    stakeQuote: '1000',
  });
  const replay = syntheticMarket();
  const exchange = new PaperExchange(database, { botId, tenantId, market: replay, timeframe: '1h' });
  await exchange.deposit('USDT', 1000);
  return { tenantId, botId, replay, exchange };
}

/** A worker's `runnerFor`: a paper runner on the replayed market, fenced by the epoch it got. */
export function fencedPaperRunner(
  database: Database,
  market: ReplayMarketData,
  options: { limits?: RiskLimits; retry?: RetryPolicy } = {},
) {
  return async (bot: typeof db.bots.$inferSelect, epoch: number) =>
    new BotRunner(
      {
        db: database,
        exchange: new PaperExchange(database, { botId: bot.id, tenantId: bot.tenantId, market, timeframe: bot.timeframe }),
        limits: options.limits ?? DEFAULT_RISK_LIMITS,
        killSwitch: () => false,
        fence: { epoch },
        ...(options.retry ? { retry: options.retry } : {}),
      },
      bot,
    );
}
