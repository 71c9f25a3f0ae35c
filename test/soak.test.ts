import { describe, expect, it } from 'vitest';
import { runSoak, soakViolations } from '../bench/soak.ts';
import { privatePostgresAvailable } from './support/private-postgres.ts';

const redisInstalled = await import('node:child_process').then(({ spawnSync }) => spawnSync('redis-server', ['--version']).status === 0);

/**
 * The 2-minute soak (bench/soak.ts; `npm run soak` runs the long one): `start` and three
 * workers on a private PostgreSQL and Redis, 20 signed webhooks and 3 notifications a second,
 * a worker killed, one frozen past its lock TTL, PostgreSQL crash-restarted and Redis
 * restarted empty — and afterwards nothing lost, nothing done twice, every log line JSON.
 */
describe.skipIf(!privatePostgresAvailable || !redisInstalled)('soak: the product survives its infrastructure failing', () => {
  it('2 minutes under load with every fault: every invariant holds', async () => {
    const result = await runSoak({ durationS: 120, workers: 3, webhooksPerS: 20, notificationsPerS: 3, faults: true });
    expect(soakViolations(result)).toEqual([]);
    // The figures behind the invariants, so a run that did nothing cannot pass.
    expect(result.webhooks.distinctEvents).toBeGreaterThan(2_000);
    expect(result.webhooks.notAccepted).toBeGreaterThan(0); // the crash was felt…
    expect(result.webhooks.unanswered).toBe(0); // …and every event got in on a retry
    expect(result.notifications.sent).toBeGreaterThan(300);
    expect(result.ticks.total).toBeGreaterThan(20);
    expect(result.faults.map((fault) => fault.fault)).toHaveLength(4);
    const redisFault = result.faults.find((fault) => fault.fault.startsWith('Redis'))!;
    expect(redisFault.recoveredS).not.toBeNull();
    expect(redisFault.recoveredS!).toBeLessThanOrEqual(5 + 2); // one check interval (5 s here), with slack for a loaded machine
  }, 600_000);
});
