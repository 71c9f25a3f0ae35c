import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../db/index.ts';
import { bollinger, getStrategy, loadCachedCandles, loadCandleFile, macd, rsi, runBacktest, upsertCandles } from '../../trading/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { watchedBacktestJobs } from '../support/backtest-jobs.ts';
import { testDrivers } from '../support/databases.ts';

// The trader routes of issue 16's second half: a bot's trades (list_bot_trades) and backtests
// queued as jobs (submit_backtest, backtest_result), each a tool call as the signed-in person;
// another trader's bot or backtest is "not found", never its rows.

const CANDLES_1H = new URL('../../candles/binance_BTCUSDT_1h.csv', import.meta.url).pathname;

interface Trade {
  id: string;
  symbol: string;
  status: 'open' | 'closed';
  openedAt: string;
  profitQuote: string | null;
}

describe.each(testDrivers)('trader routes on %s', (driver) => {
  let api: ApiFixture;
  let ceo: string;
  let traderA: string;
  let traderB: string;
  const { jobs, jobFinished } = watchedBacktestJobs();

  beforeAll(async () => {
    api = await apiFixture(driver, { traders: 30, jobs });
    // The candle cache holds the bundled BTC/USDT 1h bars (as `data import` would put them).
    const series = loadCandleFile(CANDLES_1H);
    const rows = Array.from({ length: series.length }, (_, i) => [
      series.time[i]!,
      series.open[i]!,
      series.high[i]!,
      series.low[i]!,
      series.close[i]!,
      series.volume[i]!,
    ]);
    await upsertCandles(api.test.handle.db, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }, rows);
    const [ceoSignIn, a, b] = api.signIns;
    ceo = await api.signIn(ceoSignIn!.email, ceoSignIn!.password);
    traderA = await api.signIn(a!.email, a!.password);
    traderB = await api.signIn(b!.email, b!.password);
  });
  afterAll(async () => {
    await jobs.close(5_000);
    await api?.dispose();
  });

  const call = async <T>(method: string, path: string, cookie?: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await api.request(path, {
      method,
      ...(cookie ? { cookie } : {}),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };

  /** Trader A's bot with the most trades, and how many it has (read from the database, not the API). */
  const busiestBotOfA = async () => {
    const [row] = await queryRows<{ bot_id: string; n: number; closed: number }>(
      api.test.handle.db,
      sql`select t.bot_id, count(*)::int as n, count(*) filter (where t.status = 'closed')::int as closed
          from trades t join users u on u.tenant_id = t.tenant_id
          where u.email = ${api.signIns[1]!.email} group by t.bot_id order by n desc limit 1`,
    );
    return row!;
  };

  it("lists a bot's trades newest first, pages with before, filters by status", async () => {
    const bot = await busiestBotOfA();
    expect(bot.n).toBeGreaterThan(2);
    const all = await call<{ botId: string; trades: Trade[]; nextBefore: string | null }>(
      'GET',
      `/api/v1/bots/${bot.bot_id}/trades?limit=500`,
      traderA,
    );
    expect(all.status).toBe(200);
    expect(all.body.trades).toHaveLength(Math.min(bot.n, 500));
    const times = all.body.trades.map((t) => t.openedAt);
    expect([...times].sort().reverse()).toEqual(times);

    const first = await call<{ trades: Trade[]; nextBefore: string | null }>('GET', `/api/v1/bots/${bot.bot_id}/trades?limit=2`, traderA);
    expect(first.body.trades.map((t) => t.id)).toEqual(all.body.trades.slice(0, 2).map((t) => t.id));
    expect(first.body.nextBefore).toBe(first.body.trades[1]!.openedAt);
    const second = await call<{ trades: Trade[] }>(
      'GET',
      `/api/v1/bots/${bot.bot_id}/trades?limit=2&before=${encodeURIComponent(first.body.nextBefore!)}`,
      traderA,
    );
    expect(second.body.trades.every((t) => t.openedAt < first.body.nextBefore!)).toBe(true);

    const closed = await call<{ trades: Trade[] }>('GET', `/api/v1/bots/${bot.bot_id}/trades?status=closed&limit=500`, traderA);
    expect(closed.body.trades).toHaveLength(Math.min(bot.closed, 500));
    expect(closed.body.trades.every((t) => t.status === 'closed' && t.profitQuote !== null)).toBe(true);
  });

  it("refuses another trader's bot as not found (no rows), lets staff read it, and audits the call", async () => {
    const bot = await busiestBotOfA();
    const stranger = await call<{ error: { code: string }; trades?: unknown }>('GET', `/api/v1/bots/${bot.bot_id}/trades`, traderB);
    expect(stranger.status).toBe(404);
    expect(stranger.body.trades).toBeUndefined();
    const staff = await call<{ trades: Trade[] }>('GET', `/api/v1/bots/${bot.bot_id}/trades?limit=1`, ceo);
    expect(staff.status).toBe(200);
    expect(staff.body.trades).toHaveLength(1);
    const audited = await queryRows<{ n: number }>(
      api.test.handle.db,
      sql`select count(*)::int as n from audit_log where action = 'tool.call' and tool = 'list_bot_trades'`,
    );
    expect(Number(audited[0]!.n)).toBeGreaterThanOrEqual(3);
  });

  it('answers bad input with 400 naming the field, and 401 without a session', async () => {
    const bot = await busiestBotOfA();
    const bad = await call<{ error: { message: string } }>('GET', `/api/v1/bots/${bot.bot_id}/trades?limit=0`, traderA);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^Invalid query: limit: /);
    const badId = await call<{ error: { message: string } }>('GET', '/api/v1/bots/not-a-uuid/trades', traderA);
    expect(badId.status).toBe(400);
    expect(badId.body.error.message).toMatch(/id/);
    expect((await call('GET', `/api/v1/bots/${bot.bot_id}/trades`)).status).toBe(401);
  });

  const backtestRequest = {
    strategy: 'rsi',
    symbol: 'BTC/USDT',
    timeframe: '1h',
    from: '2024-06-01T00:00:00Z',
    to: '2024-09-01T00:00:00Z',
  };

  it('queues a backtest (202, Location), runs it as a job, and answers its metrics, trades and equity curve', async () => {
    const response = await api.request('/api/v1/backtests', { method: 'POST', cookie: traderA, body: JSON.stringify(backtestRequest) });
    expect(response.status).toBe(202);
    const queued = (await response.json()) as { backtestId: string; status: string; candles: number };
    expect(queued.status).toBe('queued');
    expect(response.headers.get('location')).toBe(`/api/v1/backtests/${queued.backtestId}`);
    await jobFinished(queued.backtestId);

    const { status, body } = await call<{
      backtest: { status: string; strategy: string; symbol: string; rangeStart: string };
      metrics: { candles: number; trades: number; totalReturnPct: number; finalEquity: number };
      trades: { profit: number }[];
      equityCurve: { time: string; equity: number }[];
    }>('GET', `/api/v1/backtests/${queued.backtestId}`, traderA);
    expect(status).toBe(200);
    expect(body.backtest).toMatchObject({
      status: 'succeeded',
      strategy: 'rsi',
      symbol: 'BTC/USDT',
      rangeStart: '2024-06-01T00:00:00.000Z',
    });
    // The same engine on the same cached range gives the same figures.
    const series = await loadCachedCandles(
      api.test.handle.db,
      { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' },
      { fromMs: Date.parse(backtestRequest.from), toMs: Date.parse(backtestRequest.to) },
    );
    const strategy = getStrategy('rsi');
    const expected = runBacktest(series, strategy, strategy.parameters.parse({}) as Record<string, number>);
    expect(queued.candles).toBe(series.length);
    expect(body.metrics.candles).toBe(series.length);
    expect(body.metrics.trades).toBe(expected.trades);
    expect(body.metrics.finalEquity).toBeCloseTo(expected.finalEquity, 6);
    expect(body.trades).toHaveLength(expected.tradeList.length);
    expect(body.equityCurve.length).toBeGreaterThan(1);
    expect(body.equityCurve.at(-1)!.equity).toBeCloseTo(expected.finalEquity, 6);

    // Another trader: not found, no rows; staff (the CEO) may read it.
    const stranger = await call<{ backtest?: unknown }>('GET', `/api/v1/backtests/${queued.backtestId}`, traderB);
    expect(stranger.status).toBe(404);
    expect(stranger.body.backtest).toBeUndefined();
    expect((await call('GET', `/api/v1/backtests/${queued.backtestId}`, ceo)).status).toBe(200);
  });

  it('a backtest repeated with its Idempotency-Key answers the first one (the same id) and queues one', async () => {
    const send = () =>
      api.request('/api/v1/backtests', {
        method: 'POST',
        cookie: traderA,
        headers: { 'idempotency-key': 'backtest-retried-once' },
        body: JSON.stringify({ ...backtestRequest, parameters: { rsiPeriod: 21 } }),
      });
    const first = await send();
    expect(first.status).toBe(202);
    const queued = (await first.json()) as { backtestId: string };
    const again = await send();
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { backtestId: string }).backtestId).toBe(queued.backtestId);
    await jobFinished(queued.backtestId);
    const [rows] = await queryRows<{ n: number }>(
      api.test.handle.db,
      sql`select count(*)::int as n from backtests where parameters->>'rsiPeriod' = '21'`,
    );
    expect(rows!.n).toBe(1);
  });

  it('refuses bad backtest input with 400 naming the field, a range without candles with 404, and no session with 401', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...backtestRequest, strategy: 'nope' }, /^Invalid body: strategy: /],
      [{ ...backtestRequest, timeframe: '7m' }, /^Invalid body: timeframe: /],
      [{ ...backtestRequest, from: '2024-09-02T00:00:00Z' }, /^Invalid body: from: `from` must be before `to`/],
      [{ ...backtestRequest, symbol: 'btc' }, /^Invalid body: symbol: /],
      [{ ...backtestRequest, parameters: { rsiPeriod: -3 } }, /rsiPeriod/],
    ];
    for (const [body, message] of cases) {
      const answer = await call<{ error: { code: string; message: string } }>('POST', '/api/v1/backtests', traderA, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.message).toMatch(message);
      expect(answer.body.error.message).not.toContain('\n');
    }
    const noCandles = await call<{ error: { message: string } }>('POST', '/api/v1/backtests', traderA, {
      ...backtestRequest,
      symbol: 'ETH/USDT',
    });
    expect(noCandles.status).toBe(404);
    expect(noCandles.body.error.message).toMatch(/Not enough cached 1h candles of ETH\/USDT/);
    expect((await call('POST', '/api/v1/backtests', undefined, backtestRequest)).status).toBe(401);
    expect((await call('GET', `/api/v1/backtests/${crypto.randomUUID()}`)).status).toBe(401);
    expect((await call('GET', `/api/v1/backtests/${crypto.randomUUID()}`, traderA)).status).toBe(404);
  });

  it("stops at the plan's backtests a day with 409 naming the plan", async () => {
    // A trader on the Free plan (5 a day): the demo has some among its sign-ins.
    let freeCookie: string | undefined;
    for (const signIn of api.signIns.slice(1)) {
      const cookie = await api.signIn(signIn.email, signIn.password);
      const plan = await call<{ subscription: { plan: string }; limits: { backtestsPerDay: number } }>('GET', '/api/v1/plan', cookie);
      if (plan.body.subscription.plan === 'free') {
        freeCookie = cookie;
        break;
      }
    }
    if (!freeCookie) {
      // No Free trader among the demo sign-ins: trader B moves to Free (its subscription ends).
      await api.test.handle.db.execute(sql`update subscriptions set status = 'canceled' where tenant_id =
        (select tenant_id from users where email = ${api.signIns[2]!.email})`);
      freeCookie = traderB;
    }
    const plan = await call<{ subscription: { plan: string }; limits: { backtestsPerDay: number } }>('GET', '/api/v1/plan', freeCookie);
    expect(plan.body.subscription.plan).toBe('free');
    const limit = plan.body.limits.backtestsPerDay;
    const statuses: number[] = [];
    for (let i = 0; i <= limit; i++) statuses.push((await call('POST', '/api/v1/backtests', freeCookie, backtestRequest)).status);
    const refused = await call<{ error: { code: string; message: string } }>('POST', '/api/v1/backtests', freeCookie, backtestRequest);
    expect(statuses.slice(0, limit).every((s) => s === 202)).toBe(true);
    expect(statuses[limit]).toBe(409);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/Free plan allows \d+ backtests a day/);
  });

  it('answers cached candles of a range with RSI, MACD and Bollinger seeded on the bars before it', async () => {
    const from = '2024-03-01T00:00:00Z';
    const to = '2024-03-21T23:00:00Z';
    const { status, body } = await call<{
      candles: { time: string; close: number }[];
      indicators: {
        rsi: { period: number; values: (number | null)[] };
        macd: { values: ({ macd: number; signal: number; histogram: number } | null)[] };
        bollinger: { values: ({ lower: number; middle: number; upper: number } | null)[] };
      };
    }>('GET', `/api/v1/candles?symbol=BTC/USDT&timeframe=1h&from=${from}&to=${to}&indicators=rsi,macd,bollinger`, traderA);
    expect(status).toBe(200);
    // The reference: the indicators over every cached bar up to `to`, read at the range's bars.
    const all = await loadCachedCandles(
      api.test.handle.db,
      { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' },
      { toMs: Date.parse(to) },
    );
    const inRange = [...all.time].map((t, i) => [t, i] as const).filter(([t]) => t >= Date.parse(from));
    expect(body.candles.map((c) => c.time)).toEqual(inRange.map(([t]) => new Date(t).toISOString()));
    expect(body.candles).toHaveLength(21 * 24);
    const refRsi = rsi(all.close, 14);
    const refMacd = macd(all.close, 12, 26, 9);
    const refBands = bollinger(all.close, 20, 2);
    // Seeded on the 200 bars before the range: from the range's first bar on, within rounding of the full-history value.
    inRange.forEach(([, i], k) => {
      expect(body.candles[k]!.close).toBe(all.close[i]);
      expect(body.indicators.rsi.values[k]).toBeCloseTo(refRsi[i]!, 1);
      expect(body.indicators.bollinger.values[k]!.middle).toBeCloseTo(refBands.middle[i]!, 6);
      expect(body.indicators.macd.values[k]!.signal).toBeCloseTo(refMacd.signal[i]!, 0);
    });

    const plain = await call<{ candles: unknown[]; indicators: Record<string, unknown> }>(
      'GET',
      `/api/v1/candles?symbol=BTC/USDT&timeframe=1h&from=${from}&to=${to}`,
      traderB,
    );
    expect(plain.body.candles).toHaveLength(21 * 24);
    expect(plain.body.indicators).toEqual({});
  });

  it('refuses bad candle queries with 400 naming the field, too long a range, and no session', async () => {
    for (const [query, field] of [
      ['symbol=btc&timeframe=1h', 'symbol'],
      ['symbol=BTC/USDT&timeframe=2h', 'timeframe'],
      ['symbol=BTC/USDT&timeframe=1h&indicators=rsi,vwap', 'indicators'],
      ['symbol=BTC/USDT&timeframe=1h&from=2024-03-02T00:00:00Z&to=2024-03-01T00:00:00Z', 'from'],
      ['timeframe=1h', 'symbol'],
    ] as const) {
      const answer = await call<{ error: { message: string; details?: { field: string }[] } }>('GET', `/api/v1/candles?${query}`, traderA);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.message, query).toContain(field);
    }
    const tooLong = await call<{ error: { message: string } }>(
      'GET',
      '/api/v1/candles?symbol=BTC/USDT&timeframe=1h&from=2024-01-01T00:00:00Z&to=2024-12-31T00:00:00Z',
      traderA,
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toMatch(/at most 5000 per request/);
    expect((await call('GET', '/api/v1/candles?symbol=BTC/USDT&timeframe=1h')).status).toBe(401);
  });
});
