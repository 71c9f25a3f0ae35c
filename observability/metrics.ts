import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process, so tests can build several apps without name clashes. */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly databaseUp: Gauge;
  readonly migrationsPending: Gauge;
  readonly auditAppends: Counter<'outcome'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'botcriptofy' });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, matched route and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    databaseUp: new Gauge({
      name: 'database_up',
      help: '1 when the last database health check succeeded, 0 otherwise.',
      registers: [registry],
    }),
    migrationsPending: new Gauge({
      name: 'database_migrations_pending',
      help: 'Migrations shipped with this build that the database has not applied.',
      registers: [registry],
    }),
    auditAppends: new Counter({
      name: 'audit_appends_total',
      help: 'Audit log entries appended, by outcome recorded in the entry.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
