import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../db/index.ts';
import { upsertCandles } from '../../trading/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';

// The trader's assistant over HTTP (issue 22, server/api/assistant-routes.ts): words → the
// same draft Telegram makes, a change, a year's backtest with its curves beside buy-and-hold,
// and a PAPER bot only with the trader's own `confirm`. Staff are refused (the assistant serves
// traders), another trader's draft is not found, and the plan's limit is the tool's words.

const HOUR = 3_600_000;
const NOW = new Date('2026-11-01T12:30:00Z');
const LAST_BAR = Date.UTC(2026, 10, 1, 11);
const YEAR_BARS = 370 * 24;
// A steady rise with small waves: an RSI bot passes the 30 % drawdown review on it.
const price = (i: number) => 30_000 * Math.exp(0.00008 * i) * (1 + 0.006 * Math.sin(i / 4));
const BARS = Array.from({ length: YEAR_BARS }, (_, i) => {
  const t = LAST_BAR - (YEAR_BARS - 1 - i) * HOUR;
  const open = price(Math.max(0, i - 1));
  const close = price(i);
  return [t, open, Math.max(open, close) * 1.0005, Math.min(open, close) * 0.9995, close, 10];
});

interface Card {
  draftId: string;
  status: string;
  strategy: string | null;
  symbols: string[];
  timeframe: string | null;
  stakeQuote: string | null;
  stopLossPct: number | null;
  takeProfitPct: number | null;
  mode: string;
  questions: { field: string; question: string }[];
  blocked: { reason: string; upgradeTo: string | null } | null;
  backtests: { symbol: string; trades: number; totalReturnPct: number; buyAndHoldReturnPct: number; candles: number }[] | null;
  botId: string | null;
  next: string[];
}
type Failure = { error: { code: string; message: string } };

describe("the trader's assistant routes", () => {
  let api: ApiFixture;
  let ceo: string;
  let traderA: string;
  let traderB: string;
  let draft: Card;

  beforeAll(async () => {
    api = await apiFixture('pglite', { now: () => NOW, traders: 12 });
    await upsertCandles(api.test.handle.db, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }, BARS);
    const [ceoSignIn, a, b] = api.signIns;
    ceo = await api.signIn(ceoSignIn!.email, ceoSignIn!.password);
    traderA = await api.signIn(a!.email, a!.password);
    traderB = await api.signIn(b!.email, b!.password);
  }, 180_000);
  afterAll(async () => {
    await api?.dispose();
  });

  const call = async <T>(
    method: string,
    path: string,
    cookie?: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T; headers: Headers }> => {
    const response = await api.request(`/api/v1${path}`, {
      method,
      headers,
      ...(cookie ? { cookie } : {}),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T, headers: response.headers };
  };
  const say = (text: string, cookie = traderA) =>
    call<{ kind: string; draft: Card | null; hint: string | null }>('POST', '/assistant/messages', cookie, { text });

  it('are in the OpenAPI document', async () => {
    const { body } = await call<{ paths: Record<string, unknown> }>('GET', '/openapi.json');
    for (const path of [
      '/assistant/messages',
      '/assistant/draft',
      '/assistant/drafts/{id}',
      '/assistant/drafts/{id}/change',
      '/assistant/drafts/{id}/backtest',
      '/assistant/drafts/{id}/curves',
      '/assistant/drafts/{id}/start',
      '/assistant/drafts/{id}/discard',
    ])
      expect(Object.keys(body.paths), path).toContain(`/api/v1${path}`);
  });

  it('answer 401 without a session and 403 to staff (the assistant serves traders only)', async () => {
    expect((await say('quero um robô RSI no BTC de 1h com 100 USDT', '')).status).toBe(401);
    const refused = await say('quero um robô RSI no BTC de 1h com 100 USDT', ceo);
    expect(refused.status).toBe(403);
    expect((refused.body as unknown as Failure).error).toEqual({
      code: 'forbidden',
      message: "The trader's assistant serves traders only.",
    });
    expect((await call<Failure>('GET', '/assistant/draft', ceo)).status).toBe(403);
    expect((await call<Failure>('GET', `/assistant/drafts/${crypto.randomUUID()}`, ceo)).status).toBe(403);
    expect((await call<Failure>('POST', `/assistant/drafts/${crypto.randomUUID()}/start`, ceo, { confirm: true })).status).toBe(403);
  });

  it('turns a description into the right draft, and other words into a hint', async () => {
    const reply = await say('quero um robô RSI no BTC de 1h com 100 USDT');
    expect(reply.status).toBe(200);
    expect(reply.body.kind).toBe('new');
    draft = reply.body.draft!;
    expect(draft).toMatchObject({
      status: 'draft',
      strategy: 'rsi',
      symbols: ['BTC/USDT'],
      timeframe: '1h',
      stakeQuote: '100',
      mode: 'paper',
      questions: [],
      botId: null,
    });
    expect((await call<{ draft: Card }>('GET', '/assistant/draft', traderA)).body.draft.draftId).toBe(draft.draftId);
    expect((await call<{ draft: Card }>('GET', `/assistant/drafts/${draft.draftId}`, traderA)).body.draft).toMatchObject({
      draftId: draft.draftId,
      strategy: 'rsi',
    });

    const aside = await say('qual o preço do bitcoin hoje?');
    expect(aside.status).toBe(200);
    expect(aside.body).toEqual({ kind: 'none', draft: null, hint: expect.stringMatching(/^Isso não descreve um robô/) });
    const english = await say('hello, how are you?');
    expect(english.body.hint).toMatch(/^That does not describe a bot/);
    expect((await say('', traderA)).status).toBe(400);
  });

  it('changes the open draft: a change in words to the conversation, or the Change button with its words', async () => {
    const changed = await say('muda o stop de 2 %');
    expect(changed.status).toBe(200);
    expect(changed.body.kind).toBe('change');
    expect(changed.body.draft).toMatchObject({ draftId: draft.draftId, stopLossPct: 2, strategy: 'rsi', stakeQuote: '100' });

    const pressed = await call<{ draft: Card }>('POST', `/assistant/drafts/${draft.draftId}/change`, traderA, {
      text: 'take profit de 6 %',
    });
    expect(pressed.status).toBe(200);
    expect(pressed.body.draft).toMatchObject({ draftId: draft.draftId, stopLossPct: 2, takeProfitPct: 6, symbols: ['BTC/USDT'] });
    draft = pressed.body.draft;
  });

  it("one trader cannot read or act on another trader's draft", async () => {
    const id = draft.draftId;
    for (const [method, path, body] of [
      ['GET', `/assistant/drafts/${id}`, undefined],
      ['GET', `/assistant/drafts/${id}/curves`, undefined],
      ['POST', `/assistant/drafts/${id}/change`, { text: 'stop de 5 %' }],
      ['POST', `/assistant/drafts/${id}/backtest`, {}],
      ['POST', `/assistant/drafts/${id}/start`, { confirm: true }],
      ['POST', `/assistant/drafts/${id}/discard`, {}],
    ] as const) {
      const answer = await call<Failure>(method, path, traderB, body);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body.error.message).toMatch(/No bot draft .* in this account/);
    }
    // B's own words never land on A's draft: B has no open draft, so this is no change.
    expect((await say('muda o stop de 9 %', traderB)).body.kind).toBe('none');
    expect((await call<{ draft: Card }>('GET', `/assistant/drafts/${id}`, traderA)).body.draft.stopLossPct).toBe(2);
  });

  it('backtests the draft: the figures beside buy-and-hold, and both curves as data', async () => {
    const answer = await call<{
      draft: Card;
      curves: {
        symbol: string;
        startQuote: number;
        strategy: { time: string; equityQuote: number }[];
        buyAndHold: { time: string; equityQuote: number }[];
      }[];
    }>('POST', `/assistant/drafts/${draft.draftId}/backtest`, traderA);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const [figures] = answer.body.draft.backtests!;
    expect(figures).toMatchObject({ symbol: 'BTC/USDT' });
    expect(figures!.candles).toBeGreaterThan(8_000);
    expect(figures!.trades).toBeGreaterThan(0);
    expect(figures!.buyAndHoldReturnPct).toBeGreaterThan(50);
    const [curves] = answer.body.curves;
    expect(curves!.symbol).toBe('BTC/USDT');
    expect(curves!.strategy.length).toBeGreaterThan(10);
    expect(curves!.strategy.length).toBeLessThanOrEqual(501);
    expect(curves!.buyAndHold.length).toBeGreaterThan(10);
    expect(curves!.buyAndHold[0]!.equityQuote).toBeCloseTo(curves!.startQuote, 0);
    // The last point of holding the coin is the figure's return.
    expect((curves!.buyAndHold.at(-1)!.equityQuote / curves!.startQuote - 1) * 100).toBeCloseTo(figures!.buyAndHoldReturnPct, 0);
    draft = answer.body.draft;

    // A page opened later reads the same curves again, and no backtest is run (none is counted).
    const backtestsOfA = async () =>
      (
        await queryRows<{ n: number }>(
          api.test.handle.db,
          sql`select count(*)::int as n from backtests where tenant_id = (select tenant_id from users where email = ${api.signIns[1]!.email})`,
        )
      )[0]!.n;
    const before = await backtestsOfA();
    expect(before).toBeGreaterThan(0);
    const again = await call<{ curves: unknown[] }>('GET', `/assistant/drafts/${draft.draftId}/curves`, traderA);
    expect(again.status).toBe(200);
    expect(again.body.curves).toEqual(answer.body.curves);
    expect(await backtestsOfA()).toBe(before);
  });

  it('starts on paper only with the trader’s confirm, within the plan, once per Idempotency-Key', async () => {
    const botsOf = async () => (await call<{ bots: { id: string; status: string }[] }>('GET', '/bots', traderA)).body.bots;
    const unconfirmed = (await botsOf()).length;
    for (const body of [undefined, {}, { confirm: false }]) {
      const refused = await call<Failure>('POST', `/assistant/drafts/${draft.draftId}/start`, traderA, body);
      expect(refused.status, JSON.stringify(body)).toBe(403);
      expect(refused.body.error.message).toMatch(/needs your own confirmation/);
    }
    expect((await botsOf()).length).toBe(unconfirmed);

    // Running bots up to the plan's limit: the refusal is the plan's own words, with the upgrade named.
    const { body: plan } = await call<{ name: string; limits: { botsAllowed: number } }>('GET', '/plan', traderA);
    for (let n = (await botsOf()).filter((b) => b.status === 'running').length; n < plan.limits.botsAllowed; n++) {
      const { body } = await call<{ bot: { id: string } }>('POST', '/bots', traderA, {
        name: `filler ${n}`,
        strategy: 'rsi',
        symbols: ['BTC/USDT'],
        timeframe: '1h',
        stakeQuote: 100,
      });
      expect((await call('POST', `/bots/${body.bot.id}/start`, traderA)).status).toBe(200);
    }
    const full = await call<Failure>('POST', `/assistant/drafts/${draft.draftId}/start`, traderA, { confirm: true });
    expect(full.status).toBe(403);
    expect(full.body.error.message).toMatch(
      new RegExp(`^The ${plan.name} plan allows ${plan.limits.botsAllowed} running bot\\(s\\).*\\b(Pro|Premium|Business|Enterprise)\\b`),
    );
    const running = (await botsOf()).filter((b) => b.status === 'running');
    for (const bot of running) expect((await call('POST', `/bots/${bot.id}/stop`, traderA)).status).toBe(200);
    const before = (await botsOf()).length;

    const key = { 'idempotency-key': crypto.randomUUID() };
    const started = await call<{ draft: Card; botId: string; status: string; mode: string }>(
      'POST',
      `/assistant/drafts/${draft.draftId}/start`,
      traderA,
      { confirm: true },
      key,
    );
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body).toMatchObject({ status: 'running', mode: 'paper', draft: { status: 'started', draftId: draft.draftId } });
    const again = await call<typeof started.body>('POST', `/assistant/drafts/${draft.draftId}/start`, traderA, { confirm: true }, key);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(started.body);

    const bot = await call<{ bot: { mode: string; status: string; stakeQuote: string; strategy: string } }>(
      'GET',
      `/bots/${started.body.botId}`,
      traderA,
    );
    expect(bot.body.bot).toMatchObject({ mode: 'paper', status: 'running', strategy: 'rsi' });
    expect(Number(bot.body.bot.stakeQuote)).toBe(100);
    expect((await botsOf()).length).toBe(before + 1);
    // A started draft is spent.
    const spent = await call<Failure>('POST', `/assistant/drafts/${draft.draftId}/discard`, traderA);
    expect(spent.status).toBe(403);
  });

  it('discards an open draft', async () => {
    const { body } = await say('quero um robô MACD no ETH de 4h com 200 USDT');
    expect(body.kind).toBe('new');
    const discarded = await call<{ draft: Card }>('POST', `/assistant/drafts/${body.draft!.draftId}/discard`, traderA);
    expect(discarded.status).toBe(200);
    expect(discarded.body.draft).toMatchObject({ status: 'discarded', next: [] });
    expect((await call<{ draft: Card | null }>('GET', '/assistant/draft', traderA)).body.draft).toBeNull();
  });
});
