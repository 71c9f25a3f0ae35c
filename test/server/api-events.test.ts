import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setPassword } from '../../accounts/index.ts';
import { BillingService } from '../../billing/index.ts';
import { ManualClock } from '../../clock/index.ts';
import { bots, staff, users, type Database, type Department } from '../../db/index.ts';
import { enqueueNotification, OUTBOX_QUEUED_CHANNEL } from '../../notifications/index.ts';
import { startHttpServer, type RunningHttpServer } from '../../server/http.ts';
import { LiveEvents } from '../../server/api/live-events.ts';
import { TOOLS, actorForEmail, decideApproval, requestApproval } from '../../tools/index.ts';
import { cachedCandlesAfter, loadCandleFile, notifyBotEvent, upsertCandles } from '../../trading/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';
import { SseClient } from '../support/sse.ts';

// GET /api/v1/events (issue 16, "Live events") over a real HTTP server: the events come from
// the producers' own paths (the runner's notifyBotEvent, the bot routes, enqueueNotification,
// the candle cache), through the outbox, to the person they are for and nobody else. Time is a
// ManualClock (polls, heartbeats, the replay window); runUntil moves it while the sockets work.

interface Person {
  readonly cookie: string;
  readonly userId: string;
  readonly tenantId: string;
}

describe.each(testDrivers)('GET /api/v1/events on %s', (driver) => {
  const clock = new ManualClock();
  let hub: LiveEvents;
  let api: ApiFixture;
  let server: RunningHttpServer;
  let db: Database;
  let ceo: Person & { department: string; email: string };
  let member: Person & { department: Department };
  let traderA: Person & { botId: string };
  let traderB: Person & { botId: string };
  const clients: SseClient[] = [];

  const until = (condition: () => boolean, what: string) => clock.runUntil(condition, { stepMs: 50, maxMs: 120_000, what });
  const connect = async (who: Person, query = '', headers: Record<string, string> = {}) => {
    const client = await SseClient.open(`${server.url}/api/v1/events${query}`, { cookie: who.cookie, ...headers });
    clients.push(client);
    if (client.status === 200) await until(() => client.comments.includes('connected'), 'the stream says it is connected');
    return client;
  };
  /** A trade on a symbol the demo bots never traded, so the payload carries the given amount (a marker). */
  let marker = 0;
  const trade = async (who: Person & { botId: string }) => {
    marker++;
    await notifyBotEvent(db, {
      type: 'trade_opened',
      botId: who.botId,
      tenantId: who.tenantId,
      symbol: 'DOGE/USDT',
      amountBase: marker,
      priceQuote: 0.25,
    });
    return String(marker);
  };
  const amounts = (client: SseClient) => client.data<{ amountBase: string }>('trade').map((t) => t.amountBase);
  /** A sample of this process's /metrics (0 when the series has none yet). */
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const line of text.split('\n')) {
      const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match?.[1] === name && Object.entries(labels).every(([key, value]) => match[2]?.includes(`${key}="${value}"`)))
        return Number(match[3]);
    }
    return 0;
  };

  beforeAll(async () => {
    api = await apiFixture(driver, {
      liveEvents: (database) =>
        (hub = new LiveEvents({
          db: database,
          clock,
          pollIntervalMs: 200,
          candlePollIntervalMs: 1_000,
          heartbeatMs: 15_000,
          maxPendingWrites: 200,
        })),
    });
    db = api.test.handle.db;
    server = await startHttpServer(api.app, { host: '127.0.0.1', port: 0 });
    const [ceoSignIn, a, b] = api.signIns;
    const person = async (email: string, password: string) => {
      const [row] = await db
        .select({ userId: users.id, tenantId: users.tenantId })
        .from(users)
        .where(sql`lower(${users.email}) = lower(${email})`);
      return { cookie: await api.signIn(email, password), ...row! };
    };
    const withBot = async (p: Person) => {
      const [bot] = await db.select({ id: bots.id }).from(bots).where(eq(bots.tenantId, p.tenantId)).limit(1);
      return { ...p, botId: bot!.id };
    };
    const ceoPerson = await person(ceoSignIn!.email, ceoSignIn!.password);
    const [ceoStaff] = await db.select({ department: staff.department }).from(staff).where(eq(staff.userId, ceoPerson.userId));
    ceo = { ...ceoPerson, department: ceoStaff!.department, email: ceoSignIn!.email };
    // A staff member who decides nothing (role member): signs in with a password set here.
    const [memberRow] = await db
      .select({ email: users.email, userId: users.id, department: staff.department })
      .from(staff)
      .innerJoin(users, eq(users.id, staff.userId))
      .where(sql`${staff.role} = 'member' and ${staff.department} = 'finance' and ${users.status} = 'active'`)
      .limit(1);
    await setPassword(db, memberRow!.userId, 'finance-member-2026');
    member = { ...(await person(memberRow!.email, 'finance-member-2026')), department: memberRow!.department };
    traderA = await withBot(await person(a!.email, a!.password));
    traderB = await withBot(await person(b!.email, b!.password));
    expect(traderA.tenantId).not.toBe(traderB.tenantId);
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
    hub?.stop();
    await server?.close(1_000);
    await api?.dispose();
  });

  it('refuses without a session, and a malformed Last-Event-ID or watch', async () => {
    const anonymous = await SseClient.open(`${server.url}/api/v1/events`);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.errorBody!)).toMatchObject({ error: { code: 'unauthorized' } });
    const badId = await connect(traderA, '', { 'last-event-id': 'abc' });
    expect(badId.status).toBe(400);
    expect(badId.errorBody).toContain('last-event-id');
    const badWatch = await connect(traderA, '?watch=BTCUSDT');
    expect(badWatch.status).toBe(400);
    expect(JSON.parse(badWatch.errorBody!)).toMatchObject({ error: { code: 'usage', details: [{ field: 'watch' }] } });
  });

  it("sends a trader their own bot's trades and never another trader's", async () => {
    const a = await connect(traderA);
    const b = await connect(traderB);
    expect(a.contentType).toMatch(/^text\/event-stream/);
    expect(await metric('live_event_clients')).toBe(2);
    const sentBefore = await metric('live_events_sent_total', { type: 'trade' });
    const mineA = await trade(traderA);
    const mineB = await trade(traderB);
    // A last event for A: everything queued before it has been read and sent by then.
    const sentinel = await trade(traderA);
    await until(() => amounts(a).includes(sentinel) && amounts(b).includes(mineB), 'both traders got their trades');
    expect(amounts(a)).toEqual([mineA, sentinel]);
    expect(amounts(b)).toEqual([mineB]);
    expect(a.data('trade')[0]).toMatchObject({
      kind: 'opened',
      botId: traderA.botId,
      symbol: 'DOGE/USDT',
      priceQuote: '0.25',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(b.data('trade')[0]).toMatchObject({ kind: 'opened', botId: traderB.botId });
    // One per client an event reached: A's two, B's one.
    expect((await metric('live_events_sent_total', { type: 'trade' })) - sentBefore).toBe(3);
    const ids = a.events.map((e) => Number(e.id));
    expect(ids[1]).toBeGreaterThan(ids[0]!);
    await a.close();
    await b.close();
  });

  it("sends a bot's status change made through the API to its owner", async () => {
    const a = await connect(traderA);
    const b = await connect(traderB);
    const stop = await fetch(`${server.url}/api/v1/bots/${traderA.botId}/stop`, { method: 'POST', headers: { cookie: traderA.cookie } });
    expect(stop.status).toBe(200);
    const { previousStatus } = (await stop.json()) as { previousStatus: string };
    if (previousStatus === 'stopped') {
      // Already stopped: nothing changed, so nothing is announced; start it to see one.
      const start = await fetch(`${server.url}/api/v1/bots/${traderA.botId}/start`, {
        method: 'POST',
        headers: { cookie: traderA.cookie },
      });
      expect(start.status).toBe(200);
    }
    await until(() => a.data('bot_status').length === 1, 'the status change arrived');
    expect(a.data('bot_status')[0]).toMatchObject({
      botId: traderA.botId,
      status: previousStatus === 'stopped' ? 'running' : 'stopped',
      previousStatus: previousStatus === 'stopped' ? 'stopped' : previousStatus,
    });
    const sentinel = await trade(traderB);
    await until(() => amounts(b).includes(sentinel), "B's own event arrived");
    expect(b.data('bot_status')).toEqual([]);
    await a.close();
    await b.close();
  });

  it('replays exactly the missed events after Last-Event-ID (header or query), and only the reader’s own', async () => {
    const first = await connect(traderA);
    const seen = await trade(traderA);
    await until(() => amounts(first).includes(seen), 'the first event arrived');
    const lastId = first.lastEventId!;
    await first.close();
    await until(() => hub.subscriberCount === 0, 'the closed stream left the hub');

    const before = hub.lastEventId;
    const missed1 = await trade(traderA);
    await trade(traderB);
    const missed2 = await trade(traderA);
    await until(() => hub.lastEventId >= before + 3, 'the hub read the events queued while A was away');

    const byHeader = await connect(traderA, '', { 'last-event-id': lastId });
    const byQuery = await connect(traderA, `?lastEventId=${lastId}`);
    const live = await trade(traderA);
    await until(() => amounts(byHeader).includes(live) && amounts(byQuery).includes(live), 'the live event after the replay');
    for (const client of [byHeader, byQuery]) {
      expect(amounts(client)).toEqual([missed1, missed2, live]);
      const ids = client.events.map((e) => Number(e.id));
      expect(ids[0]).toBeGreaterThan(Number(lastId));
      expect([...ids].sort((x, y) => x - y)).toEqual(ids);
      expect(client.data('reset')).toEqual([]);
    }
    await byHeader.close();
    await byQuery.close();
  });

  it('answers a Last-Event-ID older than the 10-minute window, or unknown, with a reset event, then goes on live', async () => {
    const keepOpen = await connect(traderB); // the hub keeps running: the window, not a restart, forgets the event
    const first = await connect(traderA);
    const seen = await trade(traderA);
    await until(() => amounts(first).includes(seen), 'the first event arrived');
    const lastId = first.lastEventId!;
    await first.close();
    const before = hub.lastEventId;
    await trade(traderA);
    await until(() => hub.lastEventId > before, 'the hub read the event A missed');
    await clock.jump(11 * 60_000);

    const late = await connect(traderA, '', { 'last-event-id': lastId });
    const live = await trade(traderA);
    await until(() => amounts(late).includes(live), 'a live event after the reset');
    expect(late.events[0]!.event).toBe('reset');
    expect(late.data<{ reason: string; lastEventId: string }>('reset')[0]!.reason).toMatch(/replay window/);
    expect(amounts(late)).toEqual([live]);

    const future = await connect(traderA, '', { 'last-event-id': String(hub.lastEventId + 1_000) });
    await until(() => future.events.length === 1, 'the reset for an id this server never sent');
    expect(future.events[0]).toMatchObject({ event: 'reset', id: String(hub.lastEventId) });
    await late.close();
    await future.close();
    await keepOpen.close();
  });

  it('sends new candles of the watched pairs only to those who watch them', async () => {
    const key = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' };
    const other = { exchange: 'binance', symbol: 'SOL/USDT', timeframe: '5m' };
    const watcher = await connect(traderA, '?watch=BTC/USDT:5m,binance:ETH/USDT:1h');
    const notWatching = await connect(traderB);
    expect(hub.watchedPairs).toBe(2);
    const [newest] = await cachedCandlesAfter(db, key, undefined);
    const openMs = (newest?.openTimeMs ?? Date.UTC(2026, 10, 1)) + 5 * 60_000;
    await upsertCandles(db, key, [[openMs, 64_000.5, 64_100, 63_900.25, 64_050, 12.5]]);
    const [newestOther] = await cachedCandlesAfter(db, other, undefined);
    await upsertCandles(db, other, [[(newestOther?.openTimeMs ?? Date.UTC(2026, 10, 1)) + 5 * 60_000, 150, 151, 149, 150.5, 3]]);
    await until(() => watcher.data('candle').length === 1, 'the new candle arrived');
    const sentinel = await trade(traderB);
    await until(() => amounts(notWatching).includes(sentinel), "B's own event arrived");
    const [candle] = watcher.data<Record<string, string>>('candle');
    expect({
      ...candle,
      open: Number(candle!.open),
      high: Number(candle!.high),
      low: Number(candle!.low),
      close: Number(candle!.close),
    }).toEqual({
      exchange: 'binance',
      symbol: 'BTC/USDT',
      timeframe: '5m',
      openTime: new Date(openMs).toISOString(),
      open: 64_000.5,
      high: 64_100,
      low: 63_900.25,
      close: 64_050,
      volumeBase: expect.stringMatching(/^12\.50*$/),
    });
    expect(notWatching.data('candle')).toEqual([]);
    await watcher.close();
    await notWatching.close();
  });

  it('tells the person who queued a backtest (POST /backtests, run as a job) that it finished', async () => {
    // The cache holds the bundled BTC/USDT 1h bars of the range (as `data import` would put them).
    const series = loadCandleFile(new URL('../../candles/binance_BTCUSDT_1h.csv', import.meta.url).pathname);
    const from = Date.parse('2024-06-01T00:00:00Z');
    const to = Date.parse('2024-08-01T00:00:00Z');
    const rows: number[][] = [];
    for (let i = 0; i < series.length; i++)
      if (series.time[i]! >= from && series.time[i]! <= to)
        rows.push([series.time[i]!, series.open[i]!, series.high[i]!, series.low[i]!, series.close[i]!, series.volume[i]!]);
    await upsertCandles(db, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }, rows);
    const a = await connect(traderA);
    const b = await connect(traderB);
    const response = await fetch(`${server.url}/api/v1/backtests`, {
      method: 'POST',
      headers: { cookie: traderA.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({
        strategy: 'rsi',
        symbol: 'BTC/USDT',
        timeframe: '1h',
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
      }),
    });
    expect(response.status, await response.clone().text()).toBe(202);
    const { backtestId } = (await response.json()) as { backtestId: string };
    await until(() => a.data('backtest_finished').length === 1, 'the backtest finished');
    const result = (await (
      await fetch(`${server.url}/api/v1/backtests/${backtestId}`, { headers: { cookie: traderA.cookie } })
    ).json()) as {
      metrics: { trades: number; totalReturnPct: number };
    };
    const [finished] = a.data<{ totalReturnPct: string; trades: number }>('backtest_finished');
    expect(finished).toMatchObject({ backtestId, strategy: 'rsi', symbol: 'BTC/USDT', timeframe: '1h', status: 'succeeded' });
    expect(Number(finished!.totalReturnPct)).toBeCloseTo(result.metrics.totalReturnPct, 3);
    const sentinel = await trade(traderB);
    await until(() => amounts(b).includes(sentinel), "B's own event arrived");
    expect(b.data('backtest_finished')).toEqual([]);
    await a.close();
    await b.close();
  });

  it('sends an approval to the staff who may decide it, and its decision to them and to who asked; never to a trader', async () => {
    const boss = await connect(ceo);
    const asker = await connect(member);
    const a = await connect(traderA);
    // Telegram's copies in the outbox (a card for a linked decider, even one addressed to a trader by mistake) are not the source: skipped.
    const card = {
      approvalId: crypto.randomUUID(),
      tool: 'refund_payment',
      summary: 'A Telegram card',
      expiresAt: '2026-12-03T00:00:00.000Z',
    };
    await enqueueNotification(db, { tenantId: ceo.tenantId, to: { userId: ceo.userId }, type: 'approval_requested', payload: card });
    await enqueueNotification(db, {
      tenantId: traderA.tenantId,
      to: { userId: traderA.userId },
      type: 'approval_requested',
      payload: card,
    });
    // What a finance member asks for: the finance head, the CEO or an admin decides it.
    const expiresAt = new Date(Date.now() + 86_400_000);
    const approvalId = await requestApproval(db, {
      tenantId: traderA.tenantId,
      requestedByUserId: member.userId,
      agent: 'finance',
      tool: 'refund_payment',
      args: { invoiceId: 'in_test' },
      summary: 'Refund invoice in_test (R$ 49,00)',
      approverDepartment: 'finance',
      expiresAt,
    });
    await until(() => boss.data('approval_requested').length === 1, 'the CEO was asked');
    expect(boss.data('approval_requested')).toEqual([
      {
        approvalId,
        tool: 'refund_payment',
        summary: 'Refund invoice in_test (R$ 49,00)',
        approverDepartment: 'finance',
        requestedBy: expect.any(String),
        expiresAt: expiresAt.toISOString(),
      },
    ]);
    const decider = await actorForEmail(db, ceo.email);
    const decided = await decideApproval(
      TOOLS,
      { db, billing: new BillingService(db, undefined), now: () => new Date() },
      decider!,
      approvalId,
      'reject',
      'not this month',
    );
    expect(decided).toMatchObject({ decided: true, status: 'rejected' });
    await until(
      () => boss.data('approval_decided').length === 1 && asker.data('approval_decided').length === 1,
      'both told of the decision',
    );
    const decision = {
      approvalId,
      summary: 'Refund invoice in_test (R$ 49,00)',
      decision: 'rejected',
      decidedBy: expect.any(String),
      note: 'not this month',
    };
    expect(boss.data('approval_decided')).toEqual([decision]);
    expect(asker.data('approval_decided')).toEqual([decision]);
    // Who asked is not asked to decide it; a trader hears of no approval at all.
    expect(asker.data('approval_requested')).toEqual([]);
    await enqueueNotification(db, {
      tenantId: ceo.tenantId,
      to: { department: ceo.department as never },
      type: 'message',
      payload: { text: 'For the department' },
    });
    const sentinel = await trade(traderA);
    await until(() => boss.data('notification').length === 1 && amounts(a).includes(sentinel), 'the department notice and the sentinel');
    expect(boss.data('notification')).toEqual([{ type: 'message', payload: { text: 'For the department' } }]);
    expect(boss.data('approval_requested')).toHaveLength(1);
    expect(asker.data('notification')).toEqual([]);
    expect(a.events.map((e) => e.event)).toEqual(['trade']);
    await boss.close();
    await asker.close();
    await a.close();
  });

  it('sends heartbeat comments on the clock, and removes every subscriber and watched pair on disconnect', async () => {
    for (const client of clients) await client.close();
    await until(() => hub.subscriberCount === 0, 'earlier streams left');
    const opened = [
      await connect(traderA),
      await connect(traderA, '?watch=ETH/USDT:1h'),
      await connect(traderB, '?watch=ETH/USDT:1h,BTC/USDT:5m'),
      await connect(ceo),
    ];
    expect(hub.subscriberCount).toBe(4);
    expect(await metric('live_event_clients')).toBe(4);
    expect(hub.watchedPairs).toBe(2);
    await clock.jump(15_000);
    await until(() => opened.every((client) => client.comments.includes('heartbeat')), 'every client got a heartbeat');
    for (const client of opened) await client.close();
    await until(() => hub.subscriberCount === 0 && hub.watchedPairs === 0, 'the hub forgot the closed streams');
    expect(await metric('live_event_clients')).toBe(0);
    // With nobody connected the readers linger for the replay window, then stop.
    expect(hub.running).toBe(true);
    await clock.jump(10 * 60_000);
    expect(hub.running).toBe(false);
    expect(clock.pending).toBe(0);
    // Started again, the hub publishes only what is queued from then on (the outbox's earlier rows are not news).
    const again = await connect(traderA);
    const sentinel = await trade(traderA);
    await until(() => amounts(again).includes(sentinel), 'a new event after the restart');
    expect(amounts(again)).toEqual([sentinel]);
    await again.close();
  });

  it.skipIf(driver !== 'postgres')('brings a trade queued by another process (a worker ticking the bot) to its owner', async () => {
    const a = await connect(traderA);
    const b = await connect(traderB);
    marker++;
    const amount = String(marker);
    const child = spawn(process.execPath, [fileURLToPath(new URL('../support/trade-event-child.ts', import.meta.url))], {
      env: { PATH: process.env.PATH, DATABASE_URL: api.test.url!, BOT_ID: traderA.botId, TENANT_ID: traderA.tenantId, AMOUNT: amount },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exitCode = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(exitCode, stderr).toBe(0);
    // Nothing in this process woke the reader: its poll finds the row.
    await until(() => amounts(a).includes(amount), "the other process's trade arrived");
    const sentinel = await trade(traderB);
    await until(() => amounts(b).includes(sentinel), "B's own event arrived");
    expect(amounts(a)).toEqual([amount]);
    expect(amounts(b)).toEqual([sentinel]);
    await a.close();
    await b.close();
  });

  it.skipIf(driver !== 'postgres')(
    "wakes on the server's notice (LISTEN) that another process queued an event, without waiting for its poll",
    async () => {
      // A hub whose clock does not move on: its poll never comes, so only the NOTIFY can bring the event.
      const stillClock = new ManualClock();
      const listening = new LiveEvents({
        db,
        clock: stillClock,
        pollIntervalMs: 3_600_000,
        wakeOnQueue: false,
        listen: (onQueued) => api.test.handle.listen!(OUTBOX_QUEUED_CHANNEL, onQueued),
      });
      const received: string[] = [];
      const { unsubscribe } = await listening.subscribe({
        userId: traderA.userId,
        staff: false,
        department: null,
        approverOf: [],
        watches: [],
        send: (event) => {
          if (event.type === 'trade') received.push(String(event.data['amountBase']));
        },
        comment: () => {},
        close: () => {},
      });
      try {
        marker++;
        const amount = String(marker);
        const child = spawn(process.execPath, [fileURLToPath(new URL('../support/trade-event-child.ts', import.meta.url))], {
          env: { PATH: process.env.PATH, DATABASE_URL: api.test.url!, BOT_ID: traderA.botId, TENANT_ID: traderA.tenantId, AMOUNT: amount },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        expect(await new Promise<number | null>((resolve) => child.on('exit', resolve)), stderr).toBe(0);
        // A wake reads at once (a timer due now, fired by advance(0)); the hour's poll stays far off.
        await vi.waitFor(
          async () => {
            await stillClock.advance(0);
            expect(received).toEqual([amount]);
          },
          { timeout: 10_000, interval: 20 },
        );
      } finally {
        unsubscribe();
        listening.stop();
      }
    },
  );

  it('ends the event streams at once when the server closes (a shutdown does not wait out its grace period)', async () => {
    const second = await startHttpServer(api.app, { host: '127.0.0.1', port: 0 });
    const client = await SseClient.open(`${second.url}/api/v1/events`, { cookie: traderA.cookie });
    clients.push(client);
    await until(() => client.comments.includes('connected') && hub.subscriberCount === 1, 'the stream is connected');
    // A minute of grace: the close resolves long before it (the test's own timeout would fail first).
    await second.close(60_000);
    await until(() => client.ended && hub.subscriberCount === 0, 'the stream ended and left the hub');
    // The hub goes on for the other server's clients.
    const a = await connect(traderA);
    const sentinel = await trade(traderA);
    await until(() => amounts(a).includes(sentinel), 'a live event on the server still open');
    await a.close();
  });

  it('cuts off a client that stopped reading once too many events wait for it (memory stays bounded)', async () => {
    // A client that connects and never reads: the kernel's buffers fill, then the events wait in the server.
    const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.pause();
    socket.write(`GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${traderA.cookie}\r\nAccept: text/event-stream\r\n\r\n`);
    await until(() => hub.subscriberCount === 1, 'the stalled client subscribed');
    const reader = await connect(traderA); // one that reads, for comparison
    const big = 'x'.repeat(16 * 1024);
    let published = 0;
    // 16 KiB events until the stalled one is cut off (its limit here: 200 waiting writes); each
    // turn lets the sockets move, so the reading client keeps up.
    while (hub.subscriberCount === 2 && published < 5_000) {
      hub.publish('notification', { type: 'message', payload: { text: big } }, { kind: 'user', userId: traderA.userId });
      published++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(hub.subscriberCount).toBe(1);
    expect(await metric('live_event_clients_cut_off_total')).toBe(1);
    expect(await metric('live_event_clients')).toBe(1);
    // The server closed the connection: reading again, the client finds its end.
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.resume();
    await until(() => socket.closed, 'the stalled connection was closed');
    await until(() => reader.data('notification').length === published, 'the reading client got every event');
    socket.destroy();
    await reader.close();
  });

  it('serves the same stream without a Node response (app.request: the bytes go through the body stream)', async () => {
    await until(() => hub.subscriberCount === 0, 'earlier streams left');
    const response = await api.request('/api/v1/events', { cookie: traderA.cookie, headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    })();
    await until(() => text.includes(': connected\n\n'), 'the stream says it is connected');
    expect(hub.subscriberCount).toBe(1);
    const sentinel = await trade(traderA);
    await until(() => text.includes(`"amountBase":"${sentinel}"`), 'the trade arrived');
    expect(text).toMatch(/^: connected\n\nevent: trade\nid: \d+\ndata: \{.*\}\n\n$/);
    await reader.cancel();
    await reading;
    await until(() => hub.subscriberCount === 0, 'the cancelled stream left the hub');
  });

  it('is in the OpenAPI document as text/event-stream with the event types described', async () => {
    const document = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, unknown> }> }>>;
      components: { schemas: Record<string, unknown> };
    };
    const operation = document.paths['/api/v1/events']?.get;
    expect(operation?.responses['200']?.content).toHaveProperty('text/event-stream');
    for (const schema of [
      'LiveEvent',
      'LiveTrade',
      'LiveBotStatus',
      'LiveBacktestFinished',
      'LiveApprovalRequested',
      'LiveCandle',
      'LiveReset',
    ])
      expect(document.components.schemas, schema).toHaveProperty(schema);
  });
});
