import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetrics } from '../observability/index.ts';
import { createApp } from '../server/index.ts';
import { createTestDatabase, type TestDatabase } from './support/databases.ts';

const silentLogger = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);

describe('HTTP server', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('pglite');
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('reports health with the database and migration status', async () => {
    const app = createApp({
      database: test.handle,
      metrics: createMetrics(),
      logger: silentLogger,
      version: '9.9.9',
      startedAt: new Date(),
    });
    const response = await app.request('/health');
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', version: '9.9.9', database: { driver: 'pglite', ok: true }, migrations: { pending: 0 } });
  });

  it('exposes Prometheus metrics, including request durations by route', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const app = createApp({ database: test.handle, metrics, logger: silentLogger, version: '1', startedAt: new Date() });
    await app.request('/health');
    await app.request('/nope');
    const response = await app.request('/metrics');
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/http_request_duration_seconds_count\{.*route="\/health",status="200"\} 1/);
    expect(text).toMatch(/http_request_duration_seconds_count\{.*status="404"\} 1/);
    expect(text).toMatch(/database_up\{service="botcriptofy"\} 1/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const app = createApp({
      database: test.handle,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: silentLogger,
      version: '1',
      startedAt: new Date(),
    });
    const response = await app.request('/trade/x');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'not_found' });
  });

  it('answers 503 when the database is gone', async () => {
    const gone = await createTestDatabase('pglite');
    await gone.dispose();
    const metrics = createMetrics({ defaultMetrics: false });
    const app = createApp({ database: gone.handle, metrics, logger: silentLogger, version: '1', startedAt: new Date() });
    const response = await app.request('/health');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'down', database: { ok: false } });
    expect(await metrics.registry.getSingleMetricAsString('database_up')).toMatch(/database_up\{service="botcriptofy"\} 0/);
  });
});
