import crypto from 'node:crypto';
import { Hono } from 'hono';
import type Stripe from 'stripe';
import { receiveStripeWebhook } from '../billing/index.ts';
import { migrationStatus, type DatabaseHandle, type MigrationStatus } from '../db/index.ts';
import { httpStatusFor, isProductError } from '../errors/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { OUTBOX_QUEUED_CHANNEL } from '../notifications/index.ts';
import { createApi, OPENAPI_PATH, type ApiDependencies } from './api/app.ts';
import { mountDocs } from './api/docs.ts';
import { apiError } from './api/errors.ts';
import { mountWeb } from './web.ts';

export interface AppDependencies {
  readonly database: DatabaseHandle;
  /** Stripe webhook verification; absent when STRIPE_WEBHOOK_SECRET is not set. */
  readonly stripeWebhooks?: { readonly stripe: Stripe; readonly secret: string };
  /** Telegram webhook mode: the secret Telegram sends back, and where an update goes. */
  readonly telegramWebhook?:
    | { readonly secret: string; handle(update: unknown): Promise<'accepted' | 'invalid' | 'unavailable'> }
    | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly version: string;
  readonly startedAt: Date;
  /** The HTTP API (/api/v1, its OpenAPI document and /api/docs); absent: not mounted. */
  readonly api?: Omit<ApiDependencies, 'db' | 'logger' | 'metrics'> | undefined;
}

export interface HealthReport {
  readonly status: 'ok' | 'degraded' | 'down';
  readonly version: string;
  readonly uptimeS: number;
  readonly database: { readonly driver: string; readonly ok: boolean; readonly latencyMs?: number; readonly error?: string };
  readonly migrations?: MigrationStatus;
}

export async function checkHealth(deps: AppDependencies): Promise<HealthReport> {
  const base = { version: deps.version, uptimeS: Math.round((Date.now() - deps.startedAt.getTime()) / 1000) };
  try {
    const latencyMs = Math.round((await deps.database.ping()) * 100) / 100;
    const migrations = await migrationStatus(deps.database);
    deps.metrics.databaseUp.set(1);
    deps.metrics.migrationsPending.set(migrations.pending);
    return {
      ...base,
      status: migrations.pending === 0 ? 'ok' : 'degraded',
      database: { driver: deps.database.driver, ok: true, latencyMs },
      migrations,
    };
  } catch (error) {
    deps.metrics.databaseUp.set(0);
    deps.logger.warn({ err: error }, 'health check: database unreachable');
    return {
      ...base,
      status: 'down',
      database: { driver: deps.database.driver, ok: false, error: error instanceof Error ? error.message : String(error) },
    };
  }
}

/** The HTTP surface; later issues mount their routes here. */
export function createApp(deps: AppDependencies): Hono {
  const app = new Hono();

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath || 'unmatched';
    deps.metrics.httpRequestDuration.labels(c.req.method, route, String(c.res.status)).observe((performance.now() - started) / 1000);
  });

  app.get('/health', async (c) => {
    const report = await checkHealth(deps);
    return c.json(report, report.status === 'ok' ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    const body = await deps.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': deps.metrics.registry.contentType });
  });

  app.post('/webhooks/stripe', async (c) => {
    if (!deps.stripeWebhooks) {
      return c.json(
        { received: false, error: 'Stripe webhooks are not configured on this server (set STRIPE_WEBHOOK_SECRET).' },
        httpStatusFor('unavailable'),
      );
    }
    // The signature covers the exact bytes Stripe sent: read the raw body, never re-serialise it.
    const result = await receiveStripeWebhook(deps.database.db, deps.stripeWebhooks.stripe, {
      rawBody: await c.req.text(),
      signature: c.req.header('stripe-signature'),
      secret: deps.stripeWebhooks.secret,
    });
    if (result.status !== 200) deps.logger.warn({ status: result.status, error: result.body.error }, 'stripe webhook not accepted');
    return c.json(result.body, result.status);
  });

  app.post('/telegram/webhook', async (c) => {
    const hook = deps.telegramWebhook;
    if (!hook)
      return c.json(
        { error: 'not_found', message: 'The Telegram webhook is not enabled on this server (TELEGRAM_WEBHOOK_URL).' },
        httpStatusFor('not_found'),
      );
    // Telegram echoes the secret given to setWebhook; anything else is not Telegram.
    const given = Buffer.from(c.req.header('x-telegram-bot-api-secret-token') ?? '');
    const expected = Buffer.from(hook.secret);
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      deps.logger.warn('telegram webhook: wrong or missing secret token');
      return c.json({ error: 'unauthorized' }, 401);
    }
    let update: unknown;
    try {
      update = await c.req.json();
    } catch {
      return c.json({ error: 'bad_request', message: 'expected a JSON update' }, httpStatusFor('usage'));
    }
    // Accepted at once; the update is handled in the background (an agent may take seconds).
    const outcome = await hook.handle(update);
    if (outcome === 'invalid') return c.json({ error: 'bad_request', message: 'not a Telegram update' }, httpStatusFor('usage'));
    if (outcome === 'unavailable')
      return c.json({ error: 'unavailable', message: 'shutting down; Telegram will retry' }, httpStatusFor('unavailable'));
    return c.json({ ok: true });
  });

  if (deps.api) {
    const { listen } = deps.database;
    app.route(
      '/',
      createApi({
        ...deps.api,
        db: deps.database.db,
        logger: deps.logger,
        metrics: deps.metrics,
        ...(listen ? { listenForQueuedNotifications: (onQueued) => listen.call(deps.database, OUTBOX_QUEUED_CHANNEL, onQueued) } : {}),
      }),
    );
    mountDocs(app, OPENAPI_PATH);
    // The web dashboard at / (after every server route, which keeps precedence).
    mountWeb(app);
  }

  app.notFound((c) =>
    c.req.path.startsWith('/api/')
      ? apiError(c, 'not_found', `No route for ${c.req.method} ${c.req.path}`)
      : c.json({ error: 'not_found', message: `No route for ${c.req.method} ${c.req.path}` }, httpStatusFor('not_found')),
  );
  app.onError((error, c) => {
    // A product error says what kind of failure it is: its category is the answer's code, and
    // httpStatusFor its status (usage 400, forbidden 403, not_found 404, conflict 409, bad_data
    // 422, config 500, unavailable 503). Anything else is a bug: logged, and a 500 that says no more.
    if (isProductError(error)) {
      const status = httpStatusFor(error.category);
      deps.logger.warn({ err: error, path: c.req.path, category: error.category }, 'HTTP request refused');
      return c.json({ error: error.category, message: error.message }, status);
    }
    deps.logger.error({ err: error, path: c.req.path }, 'unhandled error in HTTP handler');
    return c.json({ error: 'internal_error', message: 'Something went wrong; it has been logged.' }, 500);
  });
  return app;
}
