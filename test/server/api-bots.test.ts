import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../accounts/index.ts';
import { queryRows } from '../../db/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';

// The trader's bot actions of /api/v1 (issue 16): create, start, stop, force exit, profit and
// balance, each a tool call as the signed-in person. A live bot never starts without the
// person's explicit confirmation; staff asking get an approval (202). Paper bots price on the
// bundled replay (as PAPER_MARKET=replay), so no network.

interface Bot {
  id: string;
  name: string;
  owner: string | null;
  mode: string;
  status: string;
  symbols: string[];
}
interface Answer<T> {
  status: number;
  body: T;
  /** Idempotent-Replayed: the first answer to the same Idempotency-Key. */
  replayed?: true;
}

describe.each(testDrivers)('the bot action routes on %s', (driver) => {
  let api: ApiFixture;
  let ceo: string;
  let traderA: string;
  let traderB: string;

  beforeAll(async () => {
    // 30 traders, as the CLI's test: the demo then holds open positions in paper bots.
    api = await apiFixture(driver, { trading: 'replay', traders: 30 });
    const [ceoSignIn, a, b] = api.signIns;
    ceo = await api.signIn(ceoSignIn!.email, ceoSignIn!.password);
    traderA = await api.signIn(a!.email, a!.password);
    traderB = await api.signIn(b!.email, b!.password);
  });
  afterAll(async () => {
    await api?.dispose();
  });

  const call = async <T>(method: string, path: string, cookie?: string, body?: unknown, idempotencyKey?: string): Promise<Answer<T>> => {
    const response = await api.request(path, {
      method,
      ...(cookie ? { cookie } : {}),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(idempotencyKey ? { headers: { 'idempotency-key': idempotencyKey } } : {}),
    });
    return {
      status: response.status,
      body: (await response.json()) as T,
      ...(response.headers.get('idempotent-replayed') ? { replayed: true } : {}),
    };
  };
  const details = async (id: string, cookie: string) => (await call<{ bot: Bot }>('GET', `/api/v1/bots/${id}`, cookie)).body.bot;
  const newBot = (name: string) => ({ name, strategy: 'rsi', symbols: ['BTC/USDT'], timeframe: '1h', stakeQuote: 250 });

  it('every new route answers 401 without a session', async () => {
    const id = crypto.randomUUID();
    for (const [method, path] of [
      ['POST', '/api/v1/bots'],
      ['POST', `/api/v1/bots/${id}/start`],
      ['POST', `/api/v1/bots/${id}/stop`],
      ['POST', `/api/v1/bots/${id}/forceexit`],
      ['GET', '/api/v1/profit'],
      ['GET', '/api/v1/balance'],
    ] as const) {
      const { status, body } = await call(method, path, undefined, method === 'POST' ? {} : undefined);
      expect(status, `${method} ${path}`).toBe(401);
      expect(body).toMatchObject({ error: { code: 'unauthorized' } });
    }
  });

  it('creates a paper bot, starts it and stops it', async () => {
    // Room under the plan's bot limit: the trader's running bots stopped first (through the API too).
    const { body: list } = await call<{ bots: Bot[] }>('GET', '/api/v1/bots?status=running', traderA);
    for (const bot of list.bots) expect((await call('POST', `/api/v1/bots/${bot.id}/stop`, traderA)).status).toBe(200);

    const created = await call<{ bot: Bot & { parameters: Record<string, number> } }>('POST', '/api/v1/bots', traderA, newBot('API bot'));
    expect(created.status).toBe(201);
    expect(created.body.bot).toMatchObject({ name: 'API bot', owner: api.signIns[1]!.email, mode: 'paper', status: 'stopped' });
    expect(created.body.bot.parameters).toMatchObject({ rsiPeriod: 14 });
    const id = created.body.bot.id;

    const started = await call('POST', `/api/v1/bots/${id}/start`, traderA);
    expect(started).toEqual({
      status: 200,
      body: { botId: id, name: 'API bot', mode: 'paper', previousStatus: 'stopped', status: 'running' },
    });
    expect((await details(id, traderA)).status).toBe('running');

    const stopped = await call('POST', `/api/v1/bots/${id}/stop`, traderA);
    expect(stopped).toEqual({
      status: 200,
      body: { botId: id, name: 'API bot', mode: 'paper', previousStatus: 'running', status: 'stopped' },
    });

    const [audited] = await queryRows<{ n: number }>(
      api.test.handle.db,
      sql`select count(*)::int as n from audit_log where action = 'tool.call' and actor_kind = 'trader' and outcome = 'ok' and tool in ('create_bot', 'start_bot', 'stop_bot')`,
    );
    expect(audited!.n).toBeGreaterThanOrEqual(3);
  });

  it('a start repeated with its Idempotency-Key answers the first result and starts once', async () => {
    const { body: list } = await call<{ bots: Bot[] }>('GET', '/api/v1/bots?status=running', traderA);
    for (const bot of list.bots) expect((await call('POST', `/api/v1/bots/${bot.id}/stop`, traderA)).status).toBe(200);
    const created = await call<{ bot: Bot }>('POST', '/api/v1/bots', traderA, newBot('retried start'));
    const id = created.body.bot.id;
    const key = `start-${id}`;
    const first = await call('POST', `/api/v1/bots/${id}/start`, traderA, undefined, key);
    const again = await call('POST', `/api/v1/bots/${id}/start`, traderA, undefined, key);
    expect(first).toEqual({
      status: 200,
      body: { botId: id, name: 'retried start', mode: 'paper', previousStatus: 'stopped', status: 'running' },
    });
    expect(again).toEqual({ ...first, replayed: true });
    const [starts] = await queryRows<{ n: number }>(
      api.test.handle.db,
      sql`select count(*)::int as n from audit_log where tool = 'start_bot' and outcome = 'ok' and args->>'botId' = ${id}`,
    );
    expect(starts!.n).toBe(1);
    expect((await call('POST', `/api/v1/bots/${id}/stop`, traderA)).status).toBe(200);
  });

  it("a start over the plan's bot limit is 409 with the plan's reason, and nothing starts", async () => {
    const { body: plan } = await call<{ name: string; limits: { botsAllowed: number } }>('GET', '/api/v1/plan', traderA);
    expect(plan.limits.botsAllowed).toBeLessThanOrEqual(50);
    const running = async () => (await call<{ total: number }>('GET', '/api/v1/bots?status=running', traderA)).body.total;
    for (let n = await running(); n < plan.limits.botsAllowed; n++) {
      const { body } = await call<{ bot: Bot }>('POST', '/api/v1/bots', traderA, newBot(`filler ${n}`));
      expect((await call('POST', `/api/v1/bots/${body.bot.id}/start`, traderA)).status).toBe(200);
    }
    const { body: extra } = await call<{ bot: Bot }>('POST', '/api/v1/bots', traderA, newBot('one too many'));
    const refused = await call<{ error: { code: string; message: string } }>('POST', `/api/v1/bots/${extra.bot.id}/start`, traderA);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({
      code: 'conflict',
      message: expect.stringMatching(new RegExp(`^The ${plan.name} plan allows ${plan.limits.botsAllowed} running bot\\(s\\)`)),
    });
    expect((await details(extra.bot.id, traderA)).status).toBe('stopped');
  });

  it('refuses a malformed new bot with 400 naming the fields', async () => {
    const { status, body } = await call<{ error: { code: string; details: { field: string }[] } }>('POST', '/api/v1/bots', traderA, {
      name: 'x',
      strategy: 'astrology',
      symbols: ['bitcoin'],
      stakeQuote: -1,
    });
    expect(status).toBe(400);
    expect(body.error.code).toBe('usage');
    expect(body.error.details.map((d) => d.field).sort()).toEqual(['stakeQuote', 'strategy', 'symbols.0']);
  });

  it('a live bot does not start without confirmLive (409, nothing started); staff confirming get an approval (202)', async () => {
    const created = await call<{ bot: Bot }>('POST', '/api/v1/bots', traderA, newBot('Live one'));
    const id = created.body.bot.id;
    // Turned live in the database: connecting an exchange key is not this test's subject.
    await api.test.handle.db.execute(sql`update bots set mode = 'live' where id = ${id}`);

    for (const body of [undefined, {}, { confirmLive: false }]) {
      const refused = await call<{ error: { code: string; message: string } }>('POST', `/api/v1/bots/${id}/start`, traderA, body);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('conflict');
      expect(refused.body.error.message).toContain('is in live mode');
      expect(refused.body.error.message).toContain('Nothing was started; send {"confirmLive": true}');
    }
    expect((await details(id, traderA)).status).toBe('stopped');

    const asked = await call<{ pendingApproval: { id: string; approverDepartment: string }; message: string }>(
      'POST',
      `/api/v1/bots/${id}/start`,
      ceo,
      { confirmLive: true },
    );
    expect(asked.status).toBe(202);
    expect(asked.body.pendingApproval.approverDepartment).toBe('security');
    const [approval] = await queryRows<{ tool: string; status: string }>(
      api.test.handle.db,
      sql`select tool, status::text from approvals where id = ${asked.body.pendingApproval.id}`,
    );
    expect(approval).toEqual({ tool: 'start_bot', status: 'pending' });
    expect((await details(id, traderA)).status).toBe('stopped');
  });

  it("another trader's bot is 404 on every action, and nothing changes", async () => {
    const { body: bList } = await call<{ bots: Bot[] }>('GET', '/api/v1/bots', traderB);
    const theirs = bList.bots[0]!;
    for (const action of ['start', 'stop', 'forceexit'])
      for (const body of [undefined, { confirmLive: true }].slice(0, action === 'start' ? 2 : 1)) {
        const { status, body: answer } = await call(`POST`, `/api/v1/bots/${theirs.id}/${action}`, traderA, body);
        expect(status, action).toBe(404);
        expect(answer).toMatchObject({ error: { code: 'not_found' } });
        expect(JSON.stringify(answer)).not.toContain(api.signIns[2]!.email);
      }
    expect((await details(theirs.id, traderB)).status).toBe(theirs.status);
    // Creating a bot in someone else's account by email: refused by the tool's scope.
    const elsewhere = await call('POST', '/api/v1/bots', traderA, { ...newBot('Not mine'), email: api.signIns[2]!.email });
    expect(elsewhere.status).toBe(403);
  });

  it("force-exits a paper bot's open position at market, once", async () => {
    // A demo trader holding a position in a paper bot, given a password to sign in.
    const [held] = await queryRows<{ bot_id: string; symbol: string; amount: string; email: string; user_id: string }>(
      api.test.handle.db,
      sql`select b.id as bot_id, p.symbol, p.amount_base::text as amount, u.email, u.id as user_id
          from positions p join bots b on b.id = p.bot_id join users u on u.tenant_id = b.tenant_id
          where b.mode = 'paper' and b.status <> 'frozen' order by b.id limit 1`,
    );
    expect(held).toBeDefined();
    await setPassword(api.test.handle.db, held!.user_id, 'holding-trader-1');
    const holder = await api.signIn(held!.email, 'holding-trader-1');

    const exitKey = `exit-${held!.bot_id}`;
    const exit = await call<{ botId: string; exits: { symbol: string; outcome: string; amountBase: string; priceQuote: string }[] }>(
      'POST',
      `/api/v1/bots/${held!.bot_id}/forceexit`,
      holder,
      { symbol: held!.symbol },
      exitKey,
    );
    expect(exit.status).toBe(200);
    expect(exit.body).toMatchObject({
      botId: held!.bot_id,
      exits: [{ symbol: held!.symbol, outcome: 'filled', amountBase: held!.amount }],
    });
    expect(Number(exit.body.exits[0]!.priceQuote)).toBeGreaterThan(0);
    const after = await call<{ positions: { symbol: string }[] }>('GET', `/api/v1/bots/${held!.bot_id}`, holder);
    expect(after.body.positions.map((p) => p.symbol)).not.toContain(held!.symbol);
    // The closed trade is told like the runner's own exits (Telegram, the web events stream), once.
    const told = await queryRows<{ channel: string; reason: string }>(
      api.test.handle.db,
      sql`select channel, payload->>'reason' as reason from notifications
          where type = 'trade_closed' and recipient_user_id = ${held!.user_id}::uuid and payload->>'botId' = ${held!.bot_id}`,
    );
    expect(told.length).toBeGreaterThan(0);
    expect(told.every((row) => row.reason === 'forced')).toBe(true);
    expect(new Set(told.map((row) => row.channel)).size).toBe(told.length); // one per delivery channel

    // A retry with the same Idempotency-Key gets the first answer (the exit it made), and sells nothing.
    const retried = await call('POST', `/api/v1/bots/${held!.bot_id}/forceexit`, holder, { symbol: held!.symbol }, exitKey);
    expect(retried).toEqual({ ...exit, replayed: true });
    const twice = await call<{ exits: unknown[] }>('POST', `/api/v1/bots/${held!.bot_id}/forceexit`, holder, { symbol: held!.symbol });
    expect(twice).toEqual({ status: 200, body: { botId: held!.bot_id, exits: [] } });
    const badSymbol = await call<{ error: { details: { field: string }[] } }>('POST', `/api/v1/bots/${held!.bot_id}/forceexit`, holder, {
      symbol: 'bitcoin',
    });
    expect(badSymbol.status).toBe(400);
    expect(badSymbol.body.error.details.map((d) => d.field)).toEqual(['symbol']);
  });

  it('GET /profit is pnl_by_period as the trader, and GET /balance is bot_balances', async () => {
    const week = await call<{ period: string; rows: { start: string }[]; totalProfitQuote: number }>(
      'GET',
      '/api/v1/profit?period=week&count=4',
      traderA,
    );
    expect(week.status).toBe(200);
    expect(week.body.period).toBe('week');
    expect(week.body.rows).toHaveLength(4);
    for (const [period, count] of [
      ['day', 7],
      ['month', 3],
    ] as const) {
      const rows = await call<{ period: string; rows: { start: string }[] }>(
        'GET',
        `/api/v1/profit?period=${period}&count=${count}`,
        traderA,
      );
      expect(rows.status).toBe(200);
      expect(rows.body.period).toBe(period);
      expect(rows.body.rows).toHaveLength(count);
      // One row a period, newest first.
      const starts = rows.body.rows.map((row) => Date.parse(row.start));
      expect([...starts].sort((x, y) => y - x)).toEqual(starts);
      expect(new Set(starts).size).toBe(count);
    }
    const bad = await call('GET', '/api/v1/profit?period=year', traderA);
    expect(bad.status).toBe(400);

    const balance = await call<{ bots: { botId: string; assets: Record<string, number> | null }[] }>('GET', '/api/v1/balance', traderA);
    expect(balance.status).toBe(200);
    const { body: mine } = await call<{ bots: Bot[]; total: number }>('GET', '/api/v1/bots?limit=1000', traderA);
    expect(balance.body.bots.map((b) => b.botId).sort()).toEqual(mine.bots.map((b) => b.id).sort());

    const someoneElses = await call('GET', `/api/v1/balance?email=${encodeURIComponent(api.signIns[2]!.email)}`, traderA);
    expect(someoneElses.status).toBe(403);
    const [audited] = await queryRows<{ n: number }>(
      api.test.handle.db,
      sql`select count(*)::int as n from audit_log where action = 'tool.call' and tool in ('pnl_by_period', 'bot_balances')`,
    );
    expect(audited!.n).toBeGreaterThanOrEqual(3);
  });

  it('the OpenAPI document describes the new routes with their schemas', async () => {
    const document = (await (await api.request('/api/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(document.paths['/api/v1/bots']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(document.paths['/api/v1/bots/{id}/start']!['post']!.responses)).toEqual(
      expect.arrayContaining(['200', '202', '404', '409']),
    );
    for (const path of ['/api/v1/bots/{id}/stop', '/api/v1/bots/{id}/forceexit', '/api/v1/profit', '/api/v1/balance'])
      expect(document.paths[path], path).toBeDefined();
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining([
        'NewBot',
        'StartBot',
        'BotStatusChange',
        'PendingApproval',
        'ForceExit',
        'ForceExitResult',
        'Profit',
        'Balance',
      ]),
    );
  });
});

describe('force exit without a way to the exchange', () => {
  it('answers 503 (unavailable) and changes nothing', async () => {
    // No `trading`: the server was started without the exchanges' access (as a test's app without it).
    const api = await apiFixture('pglite', { traders: 30 });
    try {
      const [held] = await queryRows<{ bot_id: string; symbol: string; email: string; user_id: string }>(
        api.test.handle.db,
        sql`select b.id as bot_id, p.symbol, u.email, u.id as user_id
            from positions p join bots b on b.id = p.bot_id join users u on u.tenant_id = b.tenant_id
            where b.mode = 'paper' and b.status <> 'frozen' order by b.id limit 1`,
      );
      await setPassword(api.test.handle.db, held!.user_id, 'holding-trader-1');
      const holder = await api.signIn(held!.email, 'holding-trader-1');
      const response = await api.request(`/api/v1/bots/${held!.bot_id}/forceexit`, {
        method: 'POST',
        cookie: holder,
        body: JSON.stringify({ symbol: held!.symbol }),
      });
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unavailable');
      const [still] = await queryRows<{ n: number }>(
        api.test.handle.db,
        sql`select count(*)::int as n from positions where bot_id = ${held!.bot_id} and symbol = ${held!.symbol}`,
      );
      expect(still!.n).toBe(1);
    } finally {
      await api.dispose();
    }
  });
});
