import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ROUTES } from '../../web/src/api.ts';
import { mountWeb } from '../../server/web.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';

// How the server hands out the dashboard (server/web.ts): its files, index.html for the app's
// own routes, and never in place of the server's paths; and that every route the dashboard's
// API client calls is in the OpenAPI document (a renamed route fails here, not in a browser).

describe('the dashboard served at /', () => {
  let dist: string;
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/api/v1/me', (c) => c.json({ me: true }));

  beforeAll(() => {
    dist = `${fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-dist-'))}/`;
    fs.mkdirSync(path.join(dist, 'assets'));
    fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html><div id="app"></div>');
    const js = 'console.log("dashboard");'.repeat(50);
    fs.writeFileSync(path.join(dist, 'assets', 'index-abc.js'), js);
    fs.writeFileSync(path.join(dist, 'assets', 'index-abc.js.gz'), zlib.gzipSync(js));
    mountWeb(app, dist);
    app.notFound((c) => c.json({ error: 'not_found', path: c.req.path }, 404));
  });
  afterAll(() => fs.rmSync(dist, { recursive: true, force: true }));

  it('serves index.html at / and for the app’s routes', async () => {
    for (const route of ['/', '/bots', '/bots/0b6f3c1e-2a55-4f4e-9b0e-3f1f2b1f7a10', '/backtest']) {
      const response = await app.request(route);
      expect(response.status, route).toBe(200);
      expect(response.headers.get('content-type'), route).toMatch(/^text\/html/);
      expect(await response.text(), route).toContain('<div id="app">');
    }
  });

  it('sends hashed assets gzipped to a browser that accepts it, cached for a year', async () => {
    const plain = await app.request('/assets/index-abc.js');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/javascript/);
    expect(plain.headers.get('content-encoding')).toBeNull();
    const gzipped = await app.request('/assets/index-abc.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    expect(gzipped.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('leaves the server’s own paths alone: its routes answer, an unknown one is a 404, not the app', async () => {
    expect(await (await app.request('/health')).json()).toEqual({ status: 'ok' });
    expect(await (await app.request('/api/v1/me')).json()).toEqual({ me: true });
    for (const route of [
      '/api/v1/nothing',
      '/api',
      '/health/x',
      '/metrics',
      '/webhooks/stripe',
      '/telegram/webhook',
      '/assets/missing.js',
      '/favicon.ico',
    ]) {
      const response = await app.request(route);
      expect(response.status, route).toBe(404);
      expect(await response.json(), route).toMatchObject({ error: 'not_found' });
    }
    // A path out of the folder gets no file from outside it (at most the app's page).
    for (const route of ['/assets/..%2f..%2f..%2fetc%2fpasswd', '/..%2f..%2fetc/passwd', '/%2e%2e/%2e%2e/etc/passwd'])
      expect(await (await app.request(route)).text(), route).not.toContain('root:');
  });

  it('says in words when the dashboard was not built', async () => {
    const bare = new Hono();
    mountWeb(bare, path.join(os.tmpdir(), 'bcf-no-such-dist/'));
    const response = await bare.request('/bots');
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('npm run build:web');
  });
});

describe("the dashboard's API client", () => {
  let api: ApiFixture;
  beforeAll(async () => {
    api = await apiFixture('pglite', { traders: 2 });
  });
  afterAll(async () => api?.dispose());

  it('calls only routes the OpenAPI document has', async () => {
    const document = (await (await api.request('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const [method, route] of CLIENT_ROUTES) expect(document.paths[route]?.[method], `${method.toUpperCase()} ${route}`).toBeDefined();
  });
});
