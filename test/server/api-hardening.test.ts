import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiHardening, rateLimitRedis } from '../../server/api/hardening.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { redisAvailable, startPrivateRedis } from '../support/redis.ts';

// The HTTP door's own limits on /api/v1 (issue 16): secure headers, CORS closed unless
// configured, the body cap (413) and rate limits per credential and per address (429 with
// Retry-After), in the API's error shape.

describe('API hardening', () => {
  let api: ApiFixture;
  let traderA: string;
  let traderB: string;

  beforeAll(async () => {
    api = await apiFixture('pglite', {
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
      error: { category: 'payload_too_large', message: 'The request body is larger than 2048 bytes.' },
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
      error: { category: 'rate_limited', message: expect.stringMatching(/^Too many requests from this API key or session/) },
    });
    expect((await api.request('/api/v1/strategies', { cookie: traderA, ip: '203.0.113.71' })).status).toBe(200);
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
