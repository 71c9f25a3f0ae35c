import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../db/index.ts';
import { idempotency } from '../../server/api/idempotency.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';

// Idempotency-Key on the API's POST routes (issue 16): a repeat gets the first answer and does
// nothing again; the same key with another body is 422; keys are each person's; after 24 hours
// (on the API's injected clock) a key is forgotten.

describe.each(testDrivers)('Idempotency-Key on %s', (driver) => {
  let api: ApiFixture;
  let traderA: string;
  let traderB: string;
  let nowMs = Date.parse('2026-12-01T12:00:00Z');

  beforeAll(async () => {
    api = await apiFixture(driver, { now: () => new Date(nowMs) });
    const [, a, b] = api.signIns;
    traderA = await api.signIn(a!.email, a!.password);
    traderB = await api.signIn(b!.email, b!.password);
  });
  afterAll(async () => {
    await api?.dispose();
  });

  const post = async (path: string, cookie: string, body: unknown, key?: string) => {
    const response = await api.request(path, {
      method: 'POST',
      cookie,
      body: JSON.stringify(body),
      ...(key ? { headers: { 'idempotency-key': key } } : {}),
    });
    return {
      status: response.status,
      replayed: response.headers.get('idempotent-replayed'),
      body: (await response.json()) as { error?: { code: string; message: string } } & Record<string, unknown>,
    };
  };
  const botsNamed = async (name: string) =>
    Number((await queryRows<{ n: number }>(api.test.handle.db, sql`select count(*)::int as n from bots where name = ${name}`))[0]!.n);
  const newBot = (name: string) => ({ name, strategy: 'rsi', symbols: ['BTC/USDT'], timeframe: '1h', stakeQuote: 100 });

  it('answers a repeat with the first answer and creates nothing twice', async () => {
    const first = await post('/api/v1/bots', traderA, newBot('idempotent bot'), 'key-1');
    expect(first.status).toBe(201);
    expect(first.replayed).toBeNull();
    const again = await post('/api/v1/bots', traderA, newBot('idempotent bot'), 'key-1');
    expect(again.status).toBe(201);
    expect(again.replayed).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await botsNamed('idempotent bot')).toBe(1);
    // Without a key, each request acts.
    await post('/api/v1/bots', traderA, newBot('plain bot'));
    await post('/api/v1/bots', traderA, newBot('plain bot'));
    expect(await botsNamed('plain bot')).toBe(2);
  });

  it('refuses the same key with another request (422), keeps keys per person, and checks the header', async () => {
    const other = await post('/api/v1/bots', traderA, newBot('another name'), 'key-1');
    expect(other.status).toBe(422);
    expect(other.body.error).toMatchObject({ code: 'bad_data', message: expect.stringMatching(/different request/) });
    expect(await botsNamed('another name')).toBe(0);
    // Trader B's key-1 is theirs: it acts.
    const theirs = await post('/api/v1/bots', traderB, newBot('idempotent bot'), 'key-1');
    expect(theirs.status).toBe(201);
    expect(theirs.replayed).toBeNull();
    expect(await botsNamed('idempotent bot')).toBe(2);
    const bad = await post('/api/v1/bots', traderA, newBot('x'), 'has space');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/^Invalid header: Idempotency-Key/);
  });

  it('does not remember a refusal as a server fault, and forgets a key after 24 hours', async () => {
    // A 4xx answer is the answer: repeated as it was.
    const refused = await post('/api/v1/bots/00000000-0000-4000-8000-000000000000/stop', traderA, {}, 'stop-unknown');
    expect(refused.status).toBe(404);
    const repeated = await post('/api/v1/bots/00000000-0000-4000-8000-000000000000/stop', traderA, {}, 'stop-unknown');
    expect(repeated).toMatchObject({ status: 404, replayed: 'true' });

    nowMs += 24 * 60 * 60 * 1000 + 1000;
    const later = await post('/api/v1/bots', traderA, newBot('a day later'), 'key-1');
    expect(later.status).toBe(201);
    expect(later.replayed).toBeNull();
  });
  it('answers a repeat that arrives while the first still runs with 409, then replays the first answer', async () => {
    // The middleware in front of a route held open by the test: the first request is inside
    // the route when its repeat arrives.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let runs = 0;
    const [user] = await queryRows<{ id: string }>(api.test.handle.db, sql`select id from users limit 1`);
    const app = new Hono();
    app.use('*', idempotency({ db: api.test.handle.db, now: () => new Date(nowMs), principalOf: async () => user!.id }));
    app.post('/api/v1/slow', async (c) => {
      runs += 1;
      entered();
      await held;
      return c.json({ run: runs }, 201);
    });
    const send = () =>
      app.request('http://127.0.0.1/api/v1/slow', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'slow-one' },
        body: '{}',
      });
    const first = send();
    await inside;
    const meanwhile = await send();
    expect(meanwhile.status).toBe(409);
    expect(((await meanwhile.json()) as { error: { code: string } }).error.code).toBe('conflict');
    release();
    expect((await first).status).toBe(201);
    const after = await send();
    expect(after.status).toBe(201);
    expect(after.headers.get('idempotent-replayed')).toBe('true');
    expect(await after.json()).toEqual({ run: 1 });
    expect(runs).toBe(1);
  });
});
