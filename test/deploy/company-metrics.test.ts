import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../audit/index.ts';
import { createLogger, createMetrics } from '../../observability/index.ts';
import { watchCompany } from '../../cli/deployment-metrics.ts';
import { createApp } from '../../server/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { seedPaperBots } from '../support/paper-bots.ts';

// The deployment-wide gauges `start` exports for the alert rules (deploy/observability/alerts.yaml):
// bots not ticking, workers alive, the model offline, the audit chain broken.

const silent = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);

function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('deployment-wide metrics on /metrics (cli/deployment-metrics.ts)', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('pglite');
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('counts running bots not ticked, workers that ticked, and whether the model is up', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let model: 'ready' | 'down' = 'down';
    watchCompany(metrics, {
      db: test.handle.db,
      tickIntervalS: 10,
      botLockTtlMs: 30_000,
      modelStatus: async () => ({ state: model }),
      auditEveryMs: 3_600_000,
    });
    const app = createApp({ database: test.handle, metrics, logger: silent, version: 't', startedAt: new Date() });
    const scrape = async () => (await app.request('/metrics')).text();

    let text = await scrape();
    expect(sample(text, 'bots_running')).toBe(0);
    expect(sample(text, 'bots_running_not_ticked')).toBe(0);
    expect(sample(text, 'bot_workers_alive')).toBe(0);
    expect(sample(text, 'agent_model_up')).toBe(0);

    const ids = await seedPaperBots(test.handle.db, 3);
    // One was ticked a moment ago by worker A, one a minute ago (past three 10 s intervals), one never.
    await test.handle.db.execute(sql`update bots set last_tick_at = now() where id = ${ids[0]!}`);
    await test.handle.db.execute(sql`update bots set last_tick_at = now() - interval '60 seconds' where id = ${ids[1]!}`);
    await test.handle.db.execute(
      sql`insert into bot_ticks (bot_id, slot_at, worker_id, owner_epoch, processed_at) values (${ids[0]!}, now(), 'worker-a', 1, now()), (${ids[1]!}, now() - interval '60 seconds', 'worker-b', 1, now() - interval '60 seconds')`,
    );
    model = 'ready';
    text = await scrape();
    expect(sample(text, 'bots_running')).toBe(3);
    expect(sample(text, 'bots_running_not_ticked')).toBe(2);
    expect(sample(text, 'bot_workers_alive')).toBe(1);
    expect(sample(text, 'agent_model_up')).toBe(1);
  });

  it('verifies the audit chain in the background of a scrape and reports a broken one', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let clock = Date.parse('2026-11-01T00:00:00Z');
    const company = watchCompany(metrics, {
      db: test.handle.db,
      tickIntervalS: 10,
      botLockTtlMs: 30_000,
      auditEveryMs: 3_600_000,
      now: () => clock,
    });
    const app = createApp({ database: test.handle, metrics, logger: silent, version: 't', startedAt: new Date() });
    for (let i = 0; i < 5; i++)
      await appendAudit(test.handle.db, { actorKind: 'system', actorId: 'test', action: 'deploy.test', outcome: 'ok', args: { i } });

    // The first scrape starts a verification; its result is there once it has finished.
    const before = await (await app.request('/metrics')).text();
    expect(sample(before, 'audit_chain_broken')).toBe(0);
    expect(sample(before, 'audit_chain_checked_timestamp_seconds')).toBe(0);
    await company.verifyAudit();
    let text = await (await app.request('/metrics')).text();
    expect(sample(text, 'audit_chain_broken')).toBe(0);
    expect(sample(text, 'audit_chain_rows_checked')).toBeGreaterThanOrEqual(5);
    expect(sample(text, 'audit_chain_checked_timestamp_seconds')).toBe(clock / 1000);

    await test.handle.db.execute(sql`alter table audit_log disable trigger audit_log_no_update_delete`);
    try {
      await test.handle.db.execute(sql`update audit_log set args = '{"i":99}' where id = (select min(id) from audit_log)`);
    } finally {
      await test.handle.db.execute(sql`alter table audit_log enable trigger audit_log_no_update_delete`);
    }
    // Within the hour the scrape keeps the last result; past it, a scrape verifies again.
    clock += 10 * 60_000;
    await app.request('/metrics');
    expect(sample(await (await app.request('/metrics')).text(), 'audit_chain_broken')).toBe(0);
    clock += 60 * 60_000;
    await app.request('/metrics');
    await company.verifyAudit();
    text = await (await app.request('/metrics')).text();
    expect(sample(text, 'audit_chain_broken')).toBe(1);
    expect(sample(text, 'audit_chain_checked_timestamp_seconds')).toBe(clock / 1000);
  });
});
