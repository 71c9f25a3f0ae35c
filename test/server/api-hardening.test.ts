import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../db/index.ts';
import { apiHardening, rateLimitRedis } from '../../server/api/hardening.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';
import { redisAvailable, startPrivateRedis } from '../support/redis.ts';

// The HTTP door's own limits on /api/v1 (issue 16): secure headers, CORS closed unless
// configured, the body cap (413) and rate limits per credential and per address (429 with
// Retry-After), in the API's error shape.

describe.each(testDrivers)('API hardening on %s', (driver) => {
  let api: ApiFixture;
  let traderA: string;
  let traderB: string;

  beforeAll(async () => {
    api = await apiFixture(driver, {
      limits: { perCredentialPerMinute: 4, perAddressPerMinute: 12, maxBodyBytes: 2048, corsOrigins: ['https://app.example'] },
    });
    const [, a, b] = api.signIns;
    // Each sign-in from its own address: the address limit below counts only the requests it means to.
    traderA = await api.signIn(a!.email, a!.password, '198.51.100.1');
    traderB = await api.signIn(b!.email, b!.password, '198.51.100.2');
  });
  afterAll(async () => {
    await api?.dispose();
  });

  it('sends secure headers on every answer, also an error', async () => {
    for (const response of [
      await api.request('/api/v1/me', { ip: '203.0.113.50' }),
      await api.request('/api/v1/openapi.json', { ip: '203.0.113.50' }),
    ]) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=/);
      expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    }
  });

  it('answers CORS only for a configured origin', async () => {
    const preflight = (origin: string) =>
      api.request('/api/v1/bots', {
        method: 'OPTIONS',
        ip: '203.0.113.51',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,idempotency-key' },
      });
    const allowed = await preflight('https://app.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    const foreign = await preflight('https://evil.example');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('caps request bodies: 413 in the error shape', async () => {
    const response = await api.request('/api/v1/bots', {
      method: 'POST',
      cookie: traderA,
      ip: '203.0.113.52',
      body: JSON.stringify({ name: 'x'.repeat(4096), strategy: 'rsi', symbols: ['BTC/USDT'], stakeQuote: 100 }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      error: { code: 'payload_too_large', message: 'The request body is larger than 2048 bytes.' },
    });
  });

  it('limits requests per session (429, Retry-After) without touching another session', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await api.request('/api/v1/strategies', { cookie: traderB, ip: `203.0.113.${60 + i}` })).status);
    // The sign-in carried no session: four pass, the fifth is refused.
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const refused = await api.request('/api/v1/strategies', { cookie: traderB, ip: '203.0.113.70' });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await refused.json()).toMatchObject({
      error: { code: 'rate_limited', message: expect.stringMatching(/^Too many requests from this API key or session/) },
    });
    expect((await api.request('/api/v1/strategies', { cookie: traderA, ip: '203.0.113.71' })).status).toBe(200);
  });

  it("limits requests per API key, apart from its owner's session and other keys", async () => {
    const [, , , c] = api.signIns;
    const [owner] = await queryRows<{ id: string }>(api.test.handle.db, sql`select id from users where lower(email) = lower(${c!.email})`);
    const first = await api.accounts.createKey(owner!.id, { name: 'script one', scope: 'read' }, '203.0.113.90');
    const second = await api.accounts.createKey(owner!.id, { name: 'script two', scope: 'read' }, '203.0.113.90');
    const withKey = (key: string, i: number) =>
      api.request('/api/v1/strategies', { headers: { authorization: `Bearer ${key}` }, ip: `203.0.113.${91 + i}` });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await withKey(first.key, i)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const refused = await withKey(first.key, 5);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The other key and the owner's session have counts of their own.
    expect((await withKey(second.key, 6)).status).toBe(200);
    const session = await api.signIn(c!.email, c!.password, '198.51.100.3');
    expect((await api.request('/api/v1/strategies', { cookie: session, ip: '203.0.113.98' })).status).toBe(200);
  });

  it('limits requests per address, signed in or not', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 13; i++) statuses.push((await api.request('/api/v1/openapi.json', { ip: '203.0.113.80' })).status);
    expect(statuses.slice(0, 12).every((s) => s === 200)).toBe(true);
    expect(statuses[12]).toBe(429);
    expect((await api.request('/api/v1/openapi.json', { ip: '203.0.113.81' })).status).toBe(200);
  });

  it.skipIf(!redisAvailable)('shares the counts across processes through Redis', async () => {
    const redis = await startPrivateRedis();
    const apps = [0, 1].map(() => {
      // Each "process" has its own client, as `start` and each worker would.
      const client = rateLimitRedis(redis.url);
      const hardening = apiHardening({ perAddressPerMinute: 3, redis: client }, (c) => c.req.header('x-forwarded-for'));
      const app = new Hono();
      for (const middleware of hardening.middleware) app.use('*', middleware);
      app.get('/ping', (c) => c.text('pong'));
      return { app, client };
    });
    try {
      const statuses: number[] = [];
      // Two "processes" (two limiters on one Redis) answer in turn: together they allow three.
      for (let i = 0; i < 4; i++)
        statuses.push((await apps[i % 2]!.app.request('http://127.0.0.1/ping', { headers: { 'x-forwarded-for': '192.0.2.99' } })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      for (const { client } of apps) await client.quit();
      await redis.stop();
    }
  });
});

describe('API hardening with the defaults', () => {
  let api: ApiFixture;
  let ceo: string;
  beforeAll(async () => {
    // A deployment status that fails the way a bug would: with a message naming the server's insides.
    api = await apiFixture('pglite', {
      traders: 3,
      operations: () => ({
        deploymentStatus: () => Promise.reject(new Error('boom in /srv/botcriptofy/secret.ts: password=hunter2')),
      }),
    });
    const [ceoSignIn] = api.signIns;
    ceo = await api.signIn(ceoSignIn!.email, ceoSignIn!.password, '198.51.100.40');
  });
  afterAll(async () => {
    await api?.dispose();
  });

  it('answers no other origin (CORS closed unless API_CORS_ORIGINS names it)', async () => {
    const preflight = await api.request('/api/v1/bots', {
      method: 'OPTIONS',
      ip: '203.0.113.120',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const read = await api.request('/api/v1/strategies', { cookie: ceo, ip: '203.0.113.121', headers: { origin: 'https://app.example' } });
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a fault with 500 in the error shape: no message of the fault, no stack trace', async () => {
    const response = await api.request('/api/v1/status', { cookie: ceo, ip: '203.0.113.122' });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'internal', message: 'Something went wrong; it has been logged.' } });
    expect(text).not.toMatch(/boom|secret|hunter2|\bat \S+ \(|\.ts:\d+/);
  });
});
