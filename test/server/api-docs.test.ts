import { validate } from '@scalar/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, type ApiFixture } from '../support/api.ts';

// The OpenAPI 3.1 document and the reference page (issue 16): the document validates, lists
// every route the app mounts under /api/v1, and the page loads nothing from another host.

describe('the OpenAPI document and /api/docs', () => {
  let api: ApiFixture;
  let document: {
    openapi: string;
    paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  };

  beforeAll(async () => {
    api = await apiFixture('pglite', { traders: 3 });
    const response = await api.request('/api/v1/openapi.json');
    expect(response.status).toBe(200);
    document = (await response.json()) as typeof document;
  });
  afterAll(async () => {
    await api?.dispose();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.version).toBe('3.1');
    // The validator does refuse a broken one.
    const broken = await validate({ ...document, paths: { '/x': { get: { responses: { 200: { content: 5 } } } } } } as never);
    expect(broken.valid).toBe(false);
  });

  it('lists every route mounted under /api/v1 (a route missing from the document fails)', () => {
    const mounted = new Set(
      api.app.routes
        .filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/v1/') && r.path !== '/api/v1/openapi.json')
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    const documented = new Set(Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)));
    expect([...mounted].sort()).toEqual([...documented].sort());
    expect([...documented]).toEqual(
      expect.arrayContaining([
        'post /api/v1/auth/sign-in/email',
        'post /api/v1/auth/sign-out',
        'get /api/v1/me',
        'get /api/v1/strategies',
        'get /api/v1/bots',
        'get /api/v1/bots/{id}',
        'get /api/v1/plan',
        'post /api/v1/backtests',
        'post /api/v1/billing/checkout',
        'post /api/v1/billing/portal',
        'post /api/v1/privacy/export',
        'post /api/v1/privacy/erase',
        'get /api/v1/approvals',
        'post /api/v1/agents/{agent}/ask',
        'get /api/v1/reports/executive',
        'get /api/v1/kpis',
        'get /api/v1/audit',
        'post /api/v1/audit/verify',
        'get /api/v1/status',
      ]),
    );
  });

  it('documents POST /backtests as JSON or as a multipart CSV upload, and the Idempotency-Key header on the billing links', () => {
    const backtests = document.paths['/api/v1/backtests']!['post'] as unknown as {
      requestBody: { content: Record<string, { schema: unknown }> };
    };
    expect(Object.keys(backtests.requestBody.content).sort()).toEqual(['application/json', 'multipart/form-data']);
    const checkout = document.paths['/api/v1/billing/checkout']!['post'] as unknown as { parameters: { name: string; in: string }[] };
    expect(checkout.parameters).toContainEqual(expect.objectContaining({ name: 'idempotency-key', in: 'header' }));
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining(['NewBacktestUpload', 'CheckoutLink', 'BillingPortalLink', 'PersonDataExport', 'PendingPrivacyRequest']),
    );
  });

  it('names its schemas, the session cookie and the API key, and every route but sign-in, its TOTP step and sign-up requires one', () => {
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining(['Error', 'Me', 'Strategy', 'BotList', 'BotDetails', 'Plan', 'SignIn', 'ApiKey', 'ApiKeyCreated']),
    );
    expect(document.components.securitySchemes['session']).toMatchObject({ type: 'apiKey', in: 'cookie' });
    expect(document.components.securitySchemes['apiKey']).toMatchObject({ type: 'http', scheme: 'bearer' });
    // The TOTP step of a sign-in carries the sign-in's two-factor cookie, not a session yet; a sign-up has nothing yet.
    const open = ['/api/v1/auth/sign-in/email', '/api/v1/auth/sign-up/email', '/api/v1/auth/two-factor/verify-totp'];
    for (const [path, ops] of Object.entries(document.paths))
      for (const [method, op] of Object.entries(ops)) {
        if (open.includes(path)) continue;
        expect([[{ session: [] }], [{ session: [] }, { apiKey: [] }]], `${method} ${path}`).toContainEqual(op.security);
      }
  });

  it('serves /api/docs with no external URL, and the Scalar bundle from this server', async () => {
    const page = await api.request('/api/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/api/v1/openapi.json');
    expect(html).toContain('src="/api/docs/scalar.js"');
    expect(html.match(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/gi) ?? []).toEqual([]);
    const bundle = await api.request('/api/docs/scalar.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toContain('javascript');
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);
  });
});
