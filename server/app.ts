import { Hono } from 'hono';
import { migrationStatus, type DatabaseHandle, type MigrationStatus } from '../db/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';

export interface AppDependencies {
  readonly database: DatabaseHandle;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly version: string;
  readonly startedAt: Date;
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
    deps.metrics.httpRequestDuration
      .labels(c.req.method, route, String(c.res.status))
      .observe((performance.now() - started) / 1000);
  });

  app.get('/health', async (c) => {
    const report = await checkHealth(deps);
    return c.json(report, report.status === 'ok' ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    const body = await deps.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': deps.metrics.registry.contentType });
  });

  app.notFound((c) => c.json({ error: 'not_found', message: `No route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    deps.logger.error({ err: error, path: c.req.path }, 'unhandled error in HTTP handler');
    return c.json({ error: 'internal_error', message: 'Something went wrong; it has been logged.' }, 500);
  });
  return app;
}
