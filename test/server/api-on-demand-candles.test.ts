import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countCachedCandles, upsertCandles, type MarketDataSource } from '../../trading/index.ts';
import { apiFixture } from '../support/api.ts';
import { watchedBacktestJobs } from '../support/backtest-jobs.ts';

// Backtests asked for over HTTP download the candles the cache lacks (issues 15 and 22), as
// Telegram's /backtest and the agents' run_backtest do: the API gets the same MarketDataSource
// `start` gives the Telegram door, and the tools apply the plan's limits (the daily backtests
// are checked before anything is downloaded). Here the source is a scripted exchange; without
// one, the cache alone answers and names what is missing, as before.

const HOUR = 3_600_000;
const NOW = new Date('2026-11-01T12:30:00Z');
const LAST_BAR = Date.UTC(2026, 10, 1, 11);
const ETH = { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' };
const ALL_BARS = 400 * 24;
// 400 days of hourly ETH bars up to the last closed one: a steady rise with small waves.
const price = (i: number) => 2_000 * Math.exp(0.00008 * i) * (1 + 0.006 * Math.sin(i / 4));
const BARS = Array.from({ length: ALL_BARS }, (_, i) => {
  const t = LAST_BAR - (ALL_BARS - 1 - i) * HOUR;
  const open = price(Math.max(0, i - 1));
  const close = price(i);
  return [t, open, Math.max(open, close) * 1.0005, Math.min(open, close) * 0.9995, close, 10];
});
/** The newest 60 days are cached; the rest of the year is the exchange's. */
const CACHED_BARS = 60 * 24;
// Ninety days the cache lacks entirely (before the cached 60).
const RANGE = { from: new Date(LAST_BAR - 200 * 24 * HOUR).toISOString(), to: new Date(LAST_BAR - 110 * 24 * HOUR).toISOString() };

type Backtests = { candles: number; expectedCandles: number; missing: string | null }[];
type DraftBacktest = { draft: { draftId: string; backtests: Backtests }; curves: { buyAndHold: unknown[] }[] };
type Failure = { error: { code: string; message: string } };

async function fixture(marketData?: MarketDataSource) {
  const jobs = watchedBacktestJobs();
  const api = await apiFixture('pglite', { now: () => NOW, traders: 6, jobs: jobs.jobs, ...(marketData ? { marketData } : {}) });
  await upsertCandles(api.test.handle.db, ETH, BARS.slice(-CACHED_BARS));
  const [, a, b] = api.signIns;
  const traders = [await api.signIn(a!.email, a!.password), await api.signIn(b!.email, b!.password)] as const;
  const call = async <T>(method: string, path: string, cookie: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await api.request(`/api/v1${path}`, {
      method,
      cookie,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  const backtestDraft = async (cookie: string) => {
    const said = await call<{ kind: string; draft: { draftId: string } }>('POST', '/assistant/messages', cookie, {
      text: 'quero um robô RSI no ETH de 1h com 100 USDT',
    });
    expect(said.body.kind).toBe('new');
    return call<DraftBacktest>('POST', `/assistant/drafts/${said.body.draft.draftId}/backtest`, cookie);
  };
  return { api, jobs, traders, call, backtestDraft };
}

describe('backtests over the API with an exchange at hand', () => {
  const fetched: { symbol: string; sinceMs: number }[] = [];
  const exchange: MarketDataSource = {
    async fetchCandles(symbol, _timeframe, sinceMs = 0, limit = 1000) {
      fetched.push({ symbol, sinceMs });
      return symbol === 'ETH/USDT' ? BARS.filter((row) => row[0]! >= sinceMs).slice(0, limit) : [];
    },
    lastPrice: async () => 2_000,
    marketRules: async () => ({ minAmountBase: 0, amountStepBase: 0, minNotionalQuote: 0 }),
  };
  let f: Awaited<ReturnType<typeof fixture>>;

  beforeAll(async () => {
    f = await fixture(exchange);
  }, 180_000);
  afterAll(async () => {
    await f?.jobs.jobs.close(5_000);
    await f?.api.dispose();
  });

  it('POST /backtests downloads the range the cache lacks, and the job runs on all of it', async () => {
    const expected = (Date.parse(RANGE.to) - Date.parse(RANGE.from)) / HOUR + 1;
    const queued = await f.call<{ backtestId: string; status: string; candles: number }>('POST', '/backtests', f.traders[0], {
      strategy: 'rsi',
      symbol: 'ETH/USDT',
      timeframe: '1h',
      ...RANGE,
    });
    expect(queued.status, JSON.stringify(queued.body)).toBe(202);
    expect(queued.body.candles).toBe(expected);
    // From the range's first bar, in pages of 1000 bars.
    expect(fetched[0]).toEqual({ symbol: 'ETH/USDT', sinceMs: Date.parse(RANGE.from) });
    expect(fetched.length).toBe(Math.ceil(expected / 1000));
    await f.jobs.jobFinished(queued.body.backtestId);
    const result = await f.call<{ backtest: { status: string }; metrics: { candles: number } }>(
      'GET',
      `/backtests/${queued.body.backtestId}`,
      f.traders[0],
    );
    expect(result.body.backtest.status).toBe('succeeded');
    expect(result.body.metrics.candles).toBe(expected);
  });

  it("a draft's backtest downloads what the year lacks and names nothing missing", async () => {
    const before = fetched.length;
    const answer = await f.backtestDraft(f.traders[0]);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const [year] = answer.body.draft.backtests;
    expect(year!.missing).toBeNull();
    expect(year!.expectedCandles).toBe(365 * 24);
    expect(year!.candles).toBeGreaterThanOrEqual(365 * 24 - 1);
    expect(fetched.length).toBeGreaterThan(before);
    // The whole year is cached now (the chart's buy-and-hold is drawn from it).
    const yearFrom = NOW.getTime() - 365 * 24 * HOUR;
    expect(await countCachedCandles(f.api.test.handle.db, ETH, { fromMs: yearFrom, toMs: LAST_BAR })).toBe(
      BARS.filter((row) => row[0]! >= yearFrom).length,
    );
    expect(answer.body.curves[0]!.buyAndHold.length).toBeGreaterThan(100);
  });

  it("downloads nothing once the plan's backtests a day are used up", async () => {
    // Trader B on the Free plan (its subscription ends): a few backtests a day.
    await f.api.test.handle.db.execute(sql`update subscriptions set status = 'canceled' where tenant_id =
      (select tenant_id from users where email = ${f.api.signIns[2]!.email})`);
    const plan = await f.call<{ subscription: { plan: string }; limits: { backtestsPerDay: number } }>('GET', '/plan', f.traders[1]);
    expect(plan.body.subscription.plan).toBe('free');
    const cached = { strategy: 'rsi', symbol: 'ETH/USDT', timeframe: '1h', ...RANGE };
    const statuses: number[] = [];
    for (let i = 0; i <= plan.body.limits.backtestsPerDay && statuses.at(-1) !== 409; i++)
      statuses.push((await f.call('POST', '/backtests', f.traders[1], cached)).status);
    expect(statuses.at(-1)).toBe(409);
    const before = fetched.length;
    const refused = await f.call<Failure>('POST', '/backtests', f.traders[1], { ...cached, symbol: 'SOL/USDT' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/^The Free plan allows \d+ backtests a day/);
    const draft = await f.backtestDraft(f.traders[1]);
    expect(draft.status).toBe(403);
    expect((draft.body as unknown as Failure).error.message).toMatch(/^The Free plan allows \d+ backtests a day/);
    expect(fetched.length).toBe(before);
  });
});

describe('backtests over the API without an exchange', () => {
  let f: Awaited<ReturnType<typeof fixture>>;

  beforeAll(async () => {
    f = await fixture();
  }, 180_000);
  afterAll(async () => {
    await f?.jobs.jobs.close(5_000);
    await f?.api.dispose();
  });

  it('POST /backtests of a range the cache lacks is refused, naming what is missing', async () => {
    const refused = await f.call<Failure>('POST', '/backtests', f.traders[0], {
      strategy: 'rsi',
      symbol: 'ETH/USDT',
      timeframe: '1h',
      ...RANGE,
    });
    expect(refused.status).toBe(404);
    expect(refused.body.error.message).toBe(
      `Not enough cached 1h candles of ETH/USDT from ${new Date(RANGE.from).toISOString()} to ${new Date(RANGE.to).toISOString()} (have 0); download them first (botcriptofy data download).`,
    );
  });

  it("a draft's backtest runs on the cached 60 days and names the rest of the year as missing", async () => {
    const answer = await f.backtestDraft(f.traders[0]);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const [cached] = answer.body.draft.backtests;
    expect(cached!.candles).toBe(CACHED_BARS);
    expect(cached!.missing).toContain('botcriptofy data download --pairs ETH/USDT --timeframes 1h --days 365');
  });
});
