import crypto from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import {
  BotRunner,
  CcxtExchange,
  DEFAULT_RISK_LIMITS,
  exchangeForBot,
  LocalFeedLeases,
  MarketFeeds,
  type PaperExchange,
  readMarketFeedHealth,
  detectGaps,
  loadCachedCandles,
  tickBots,
  upsertCandles,
  type FeedHealth,
  type FeedStaleEvent,
} from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { startFakeBinance, type FakeBinance } from '../support/fake-binance.ts';
import { NO_LOSS_LIMITS, seedPaperBots } from '../support/paper-bots.ts';
import { parkMiller } from '../support/random.ts';

const HOUR = 3_600_000;
const secretBox = createSecretBox(crypto.randomBytes(32));
/** Bars in the past, so the real ccxt client (which drops bars not closed by the wall clock) serves them all. */
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 2_000 * HOUR;

/** A choppy, deterministic hourly market: RSI bots enter and exit often. */
function choppyBars(count: number, from = 0, seed0 = 7): number[][] {
  const rows: number[][] = [];
  let price = 100;
  const random = parkMiller(seed0);
  for (let i = 0; i < from + count; i++) {
    const open = price;
    price *= 1 + (random() - 0.5) * 0.04;
    if (i >= from) rows.push([T0 + i * HOUR, open, Math.max(open, price) * 1.003, Math.min(open, price) * 0.997, price, 10 + (i % 7)]);
  }
  return rows;
}

const klineRequests = (binance: FakeBinance) => binance.requests.filter((r) => r.endsWith('/klines')).length;

describe('market feeds: one fetcher per pair, bots read the candle cache', () => {
  const databases: TestDatabase[] = [];
  const fakes: FakeBinance[] = [];
  const feedsToStop: MarketFeeds[] = [];
  const database = async () => {
    const test = await createTestDatabase('pglite');
    databases.push(test);
    return test.handle.db;
  };
  const fake = async (bars: number[][]) => {
    const binance = await startFakeBinance();
    binance.klines = bars;
    fakes.push(binance);
    return binance;
  };
  afterAll(async () => {
    for (const feeds of feedsToStop) await feeds.stop();
    for (const binance of fakes) await binance.close();
    for (const test of databases) await test.dispose();
  });

  it('bots read exactly the candles a direct fetch from the exchange returns', async () => {
    const bars = choppyBars(300);
    const binance = await fake(bars);
    const now = bars.at(-1)![0]! + HOUR + 5_000; // the last bar closed 5 s ago
    const feeds = new MarketFeeds({ db: await database(), leases: new LocalFeedLeases(), apiBaseUrl: binance.url, now: () => now });
    feedsToStop.push(feeds);
    feeds.watch('binance', 'BTC/USDT', '1h');
    await feeds.step();
    const reader = feeds.reader('binance');
    const direct = new CcxtExchange({ live: true, apiBaseUrl: binance.url });
    for (const [since, limit] of [
      [T0, 1000],
      [T0, 50],
      [T0 + 123 * HOUR, 10],
      [T0 + 299 * HOUR, 5],
      [T0 + 123 * HOUR + 1, 1000],
      [T0 + 400 * HOUR, 10],
    ] as const) {
      expect(await reader.fetchCandles('BTC/USDT', '1h', since, limit), `since bar ${(since - T0) / HOUR}, limit ${limit}`).toEqual(
        await direct.fetchCandles('BTC/USDT', '1h', since, limit),
      );
    }
    // Without `since`: the newest bars (what a bot's warm-up asks for).
    expect(await reader.fetchCandles('BTC/USDT', '1h', undefined, 52)).toEqual(
      await direct.fetchCandles('BTC/USDT', '1h', T0 + 248 * HOUR, 52),
    );
    expect(await reader.lastPrice('BTC/USDT')).toBe(bars.at(-1)![4]);
    expect(await reader.marketRules('BTC/USDT')).toEqual(await direct.marketRules('BTC/USDT'));
    expect((await reader.feedHealth('BTC/USDT', '1h')).stale).toBe(false);
  });

  /** N paper bots on BTC/USDT 1h through exchangeForBot and one MarketFeeds, ticked for `rounds` new bars; the requests the exchange saw. */
  async function runBots(count: number, rounds: number): Promise<{ requests: string[]; klines: number; orders: number; ticks: number }> {
    const all = choppyBars(60 + rounds);
    const binance = await fake(all.slice(0, 60));
    const database_ = await database();
    const ids = await seedPaperBots(database_, count);
    let now = T0 + 60 * HOUR + 1_000;
    const feeds = new MarketFeeds({ db: database_, leases: new LocalFeedLeases(), apiBaseUrl: binance.url, now: () => now, refreshMs: 0 });
    feedsToStop.push(feeds);
    const rows = await database_.select().from(db.bots);
    const runners = await Promise.all(
      rows.map(
        async (bot) =>
          new BotRunner(
            {
              db: database_,
              exchange: await exchangeForBot(database_, bot, { tradingMode: 'paper', secretBox, feeds }),
              limits: NO_LOSS_LIMITS,
              killSwitch: () => false,
              retry: { attempts: 1, initialDelayMs: 1 },
            },
            bot,
          ),
      ),
    );
    await feeds.step();
    let ticks = 0;
    for (let round = 0; round <= rounds; round++) {
      if (round > 0) {
        binance.klines = all.slice(0, 60 + round); // the next bar closes
        now += HOUR;
        await feeds.step();
      }
      const { ticked, failed } = await tickBots(database_, runners);
      expect(failed.map((f) => f.error.message)).toEqual([]);
      ticks += ticked;
    }
    const orders = (await database_.select().from(db.orders)).filter((o) => ids.includes(o.botId)).length;
    return { requests: [...binance.requests], klines: klineRequests(binance), orders, ticks };
  }

  it('N bots on one pair: the exchange sees the same requests for 1 bot as for 40', async () => {
    const rounds = 12;
    const one = await runBots(1, rounds);
    const many = await runBots(40, rounds);
    expect(many.ticks).toBe(40 * (rounds + 1));
    expect(many.orders).toBeGreaterThan(0); // the bots traded (entries and exits) on the feed's prices
    // One history page, then one request per new bar, whatever the number of bots.
    expect(one.klines).toBe(rounds + 1);
    expect(many.klines).toBe(one.klines);
    // Everything else is the one markets load of the process's shared client.
    expect(many.requests).toEqual(one.requests);
    expect(many.requests.filter((r) => !r.endsWith('/klines'))).toHaveLength(1);
  });

  it('a stale feed holds new entries (exits still run), says so once, and resumes when bars arrive', async () => {
    // Prices fall bar after bar: RSI(2) stays under 30, the bot wants to enter on every bar.
    const falling = (i: number) => 100 * 0.99 ** Math.max(0, i - 40) * (i <= 40 ? 1 + i * 0.001 : 1);
    const bar = (i: number) => [T0 + i * HOUR, falling(i - 1), falling(i - 1) * 1.001, falling(i) * 0.999, falling(i), 10];
    const binance = await fake(Array.from({ length: 40 }, (_, i) => bar(i)));
    const database_ = await database();
    const tenantId = crypto.randomUUID();
    await database_.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'Trader' });
    const [botRow] = await database_
      .insert(db.bots)
      .values({
        tenantId,
        name: 'rsi fast',
        strategyName: 'rsi',
        parameters: { rsiPeriod: 2, rsiBuy: 30, rsiSell: 70 },
        symbols: ['BTC/USDT'],
        timeframe: '1h',
        status: 'running',
        stakeQuote: '1000',
      })
      .returning();
    let now = T0 + 40 * HOUR + 1_000;
    const stale: FeedStaleEvent[] = [];
    const resumed: FeedHealth[] = [];
    const feeds = new MarketFeeds({
      db: database_,
      leases: new LocalFeedLeases(),
      apiBaseUrl: binance.url,
      now: () => now,
      refreshMs: 0,
      pollMs: 0,
      onStale: (e) => stale.push(e),
      onResumed: (h) => resumed.push(h),
    });
    feedsToStop.push(feeds);
    const exchange = await exchangeForBot(database_, botRow!, { tradingMode: 'paper', secretBox, feeds });
    await (exchange as PaperExchange).deposit('USDT', 1000);
    const runner = new BotRunner(
      { db: database_, exchange, limits: DEFAULT_RISK_LIMITS, killSwitch: () => false, retry: { attempts: 1, initialDelayMs: 1 } },
      botRow!,
    );
    await feeds.step();
    expect((await runner.tick()).entriesHeldStale).toBe(0); // rising prices so far: no entry wanted

    // The exchange stops giving bars: two timeframes later the feed is stale, said once.
    now += 3 * HOUR;
    await feeds.step();
    await feeds.step();
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({
      exchange: 'binance',
      symbol: 'BTC/USDT',
      timeframe: '1h',
      stale: true,
      lastBarOpenMs: T0 + 39 * HOUR,
    });
    expect((await readMarketFeedHealth(database_, now))[0]).toMatchObject({ symbol: 'BTC/USDT', stale: true });

    // One late bar comes through (a falling one: RSI(2) < 30) but the feed is still hours behind.
    binance.klines = Array.from({ length: 42 }, (_, i) => bar(i));
    now += HOUR;
    await feeds.step();
    expect((await feeds.health({ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' })).stale).toBe(true);
    const held = await runner.tick();
    expect(held).toMatchObject({ candles: 2, ordersPlaced: 0, entriesHeldStale: 1 });
    expect(await database_.select().from(db.orders).where(eq(db.orders.botId, botRow!.id))).toHaveLength(0);

    // The exchange catches up to the present: the feed is fresh again and the entry goes through.
    binance.klines = Array.from({ length: 45 }, (_, i) => bar(i));
    now = T0 + 45 * HOUR + 1_000;
    await feeds.step();
    expect(resumed).toHaveLength(1);
    expect((await readMarketFeedHealth(database_, now))[0]).toMatchObject({ stale: false, lastBarOpenMs: T0 + 44 * HOUR });
    const entered = await runner.tick();
    expect(entered).toMatchObject({ ordersPlaced: 1, entriesHeldStale: 0 });
    const [order] = await database_
      .select()
      .from(db.orders)
      .where(and(eq(db.orders.botId, botRow!.id), eq(db.orders.side, 'buy')));
    expect(order).toMatchObject({ status: 'filled', averagePriceQuote: expect.any(String) });
    expect(Number(order!.averagePriceQuote)).toBeCloseTo(falling(44) * 1.0005, 6); // the newest close, plus the paper slippage

    // Stale again while holding: a rise to an RSI(2) over 70 exits all the same.
    now += 3 * HOUR;
    await feeds.step();
    expect(stale).toHaveLength(2);
    const rise = (i: number) => [T0 + i * HOUR, falling(44), falling(44) * 1.06, falling(44), falling(44) * 1.05, 10];
    binance.klines = [...Array.from({ length: 45 }, (_, i) => bar(i)), rise(45)];
    await feeds.step();
    expect((await feeds.health({ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' })).stale).toBe(true);
    expect(await runner.tick()).toMatchObject({ ordersPlaced: 1 });
    const exits = await database_
      .select()
      .from(db.orders)
      .where(and(eq(db.orders.botId, botRow!.id), eq(db.orders.side, 'sell')));
    expect(exits).toHaveLength(1);
  });

  it('a live bot on a real account reads its signals from the feed, not from its account; a testnet account keeps its own', async () => {
    const feedBars = choppyBars(80);
    const feedExchange = await fake(feedBars);
    const account = await fake(choppyBars(80, 0, 11)); // the account's own venue serves other candles: they must not be read
    const database_ = await database();
    const tenantId = crypto.randomUUID();
    await database_.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'live' });
    const seal = (value: string, column: string) => secretBox.seal(value, `exchange_accounts:${tenantId}:${column}`);
    const [real, sandbox] = await database_
      .insert(db.exchangeAccounts)
      .values(
        [false, true].map((isSandbox) => ({
          tenantId,
          label: isSandbox ? 'testnet' : 'main',
          apiKeyEncrypted: seal('KEY1234', 'api_key'),
          apiSecretEncrypted: seal('SECRET', 'api_secret'),
          apiKeyLast4: '1234',
          sandbox: isSandbox,
        })),
      )
      .returning();
    const [liveBot, testnetBot] = await database_
      .insert(db.bots)
      .values(
        [real!, sandbox!].map((acct, i) => ({
          tenantId,
          name: `live ${i}`,
          strategyName: 'rsi',
          symbols: ['BTC/USDT'],
          timeframe: '1h',
          stakeQuote: '100',
          mode: 'live' as const,
          exchangeAccountId: acct.id,
        })),
      )
      .returning();
    const now = feedBars.at(-1)![0]! + HOUR + 1_000;
    const feeds = new MarketFeeds({ db: database_, leases: new LocalFeedLeases(), apiBaseUrl: feedExchange.url, now: () => now });
    feedsToStop.push(feeds);
    const exchange = await exchangeForBot(database_, liveBot!, { tradingMode: 'live', secretBox, feeds, apiBaseUrl: account.url });
    expect(exchange.live).toBe(true);
    await feeds.step();
    expect(await exchange.fetchCandles('BTC/USDT', '1h', T0, 1000)).toEqual(feedBars);
    expect(await exchange.feedHealth!('BTC/USDT', '1h')).toMatchObject({ stale: false });
    expect(klineRequests(account)).toBe(0);
    // (Orders, balances and the ticker go to the account's client; the scripted Binance cannot answer them for
    // a real-money client, whose markets load also asks /sapi/margin/allPairs, so they are not exercised here.)
    // A testnet account fills at the testnet's prices, so its signals stay the testnet's candles.
    const testnet = await exchangeForBot(database_, testnetBot!, { tradingMode: 'live', secretBox, feeds, apiBaseUrl: account.url });
    expect(testnet).toBeInstanceOf(CcxtExchange);
    expect(testnet.live).toBe(false);
  });

  it('a new fetcher fills the bars a dead one missed, and holes in the history; a feed nobody reads is let go', async () => {
    const bars = choppyBars(200);
    const binance = await fake(bars);
    const database_ = await database();
    const key = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' };
    // What a fetcher that died left behind: bars 0–99 without 30–39 and 70.
    await upsertCandles(
      database_,
      key,
      bars.slice(0, 100).filter((_, i) => !(i >= 30 && i < 40) && i !== 70),
    );
    let now = T0 + 200 * HOUR + 1_000;
    const forgotten: unknown[] = [];
    const feeds = new MarketFeeds({
      db: database_,
      leases: new LocalFeedLeases(),
      apiBaseUrl: binance.url,
      now: () => now,
      historyBars: 250,
      onForgotten: (k) => forgotten.push(k),
    });
    feedsToStop.push(feeds);
    feeds.watch('binance', 'BTC/USDT', '1h');
    await feeds.step();
    const cached = await loadCachedCandles(database_, key);
    expect(cached.length).toBe(200);
    expect(detectGaps(cached, HOUR)).toEqual([]);
    expect(Array.from(cached.close)).toEqual(bars.map((b) => b[4]));

    // No bot of this process reads the pair any more (they stopped): after ten bars it is let go, its lease with it.
    expect(feeds.isFetcher(key)).toBe(true);
    now += 9 * HOUR;
    await feeds.step();
    expect(forgotten).toEqual([]);
    now += 2 * HOUR;
    await feeds.step();
    expect(forgotten).toEqual([key]);
    expect(feeds.isFetcher(key)).toBe(false);
    expect(feeds.healthAll()).toEqual([]);
  });
});
