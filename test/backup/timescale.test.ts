import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RestoreTargetUnsuitableError,
  timescaleOnTarget,
  timescaleRestorePlan,
  withTimescaleRestore,
  type TimescaleOnTarget,
} from '../../backup/index.ts';
import { queryRows } from '../../db/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

// `backup restore` of a pg_dump from a server with TimescaleDB (backup/timescale.ts): the target
// is read first (the extension created there, the versions its server offers), and the restore
// gets timescaledb_pre_restore() / timescaledb_post_restore() around pg_restore, or is refused
// before anything is written, saying what to install. This machine's PostgreSQL has no
// TimescaleDB package (apt-cache search timescale finds none), so the steps themselves run only
// where it is installed; here the detection runs on the real server and the decisions on every case.

const none: TimescaleOnTarget = { installed: null, available: [] };

describe('the TimescaleDB restore plan', () => {
  it('a source without TimescaleDB restores as plain PostgreSQL, whatever the target has', () => {
    expect(timescaleRestorePlan(null, none, 'backup b.dump')).toEqual({ steps: false });
    expect(timescaleRestorePlan(null, { installed: '2.17.2', available: ['2.17.2'] }, 'backup b.dump')).toEqual({ steps: false });
  });

  it('a TimescaleDB source gets pre/post restore: the extension made first when the server offers its version', () => {
    expect(timescaleRestorePlan('2.17.2', { installed: null, available: ['2.16.1', '2.17.2'] }, 'backup b.dump')).toEqual({
      steps: true,
      version: '2.17.2',
      create: true,
    });
    expect(timescaleRestorePlan('2.17.2', { installed: '2.17.2', available: ['2.17.2'] }, 'backup b.dump')).toEqual({
      steps: true,
      version: '2.17.2',
      create: false,
    });
  });

  it('refuses a target without that TimescaleDB version, saying what to install', () => {
    expect(() => timescaleRestorePlan('2.17.2', none, 'backup b.dump')).toThrow(RestoreTargetUnsuitableError);
    expect(() => timescaleRestorePlan('2.17.2', none, 'backup b.dump')).toThrow(
      /backup b\.dump comes from a server with TimescaleDB 2\.17\.2, and this server has no TimescaleDB extension: install TimescaleDB 2\.17\.2/,
    );
    expect(() => timescaleRestorePlan('2.17.2', { installed: null, available: ['2.15.0'] }, 'backup b.dump')).toThrow(
      /offers TimescaleDB 2\.15\.0 only/,
    );
    expect(() => timescaleRestorePlan('2.17.2', { installed: '2.18.0', available: ['2.18.0'] }, 'backup b.dump')).toThrow(
      /the target database has TimescaleDB 2\.18\.0: TimescaleDB restores only into the same version/,
    );
  });
});

describe.each(testDrivers)('TimescaleDB detection on the restore target (%s)', (driver) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(driver, { migrate: false });
  }, 120_000);
  afterAll(async () => {
    await test?.dispose();
  });

  it("reads the target's extension as its catalog has it, and a plain target refuses a TimescaleDB dump before any step runs", async () => {
    const db = test.handle.db;
    const target = await timescaleOnTarget(db);
    const [catalog] = await queryRows<{ installed: number; available: number }>(
      db,
      sql`select (select count(*) from pg_extension where extname = 'timescaledb')::int as installed,
                 (select count(*) from pg_available_extension_versions where name = 'timescaledb')::int as available`,
    );
    expect(target.available).toHaveLength(catalog!.available);
    expect(target.installed === null ? 0 : 1).toBe(catalog!.installed);
    if (catalog!.available > 0) return; // a server with TimescaleDB: the refusal below does not apply
    expect(target).toEqual(none);
    let restored = 0;
    const restore = async () =>
      withTimescaleRestore(db, timescaleRestorePlan('2.17.2', target, 'backup b.dump'), async () => void restored++);
    await expect(restore()).rejects.toThrow(/has no TimescaleDB extension/);
    expect(restored).toBe(0);
    // A plain dump on the same target: no step, the restore runs once.
    await withTimescaleRestore(db, timescaleRestorePlan(null, target, 'backup b.dump'), async () => void restored++);
    expect(restored).toBe(1);
  });
});
