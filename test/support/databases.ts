import crypto from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, runMigrations, type DatabaseHandle } from '../../db/index.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<boolean> | undefined;

/** Whether the real PostgreSQL server answers; tests on it are skipped (with a reason) when not. */
export function realPostgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const sql = postgres(TEST_DATABASE_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
    try {
      await sql`select 1`;
      return true;
    } catch {
      return false;
    } finally {
      await sql.end({ timeout: 1 }).catch(() => {});
    }
  })();
  return reachable;
}

export const realPostgresAvailable = await realPostgresReachable();
if (!realPostgresAvailable) {
  console.warn(`[tests] PostgreSQL at ${TEST_DATABASE_URL} does not answer: real-server tests are skipped.`);
}

/** Drivers the shared data-layer suite runs against: embedded always, the real server when it answers. */
export const testDrivers: readonly ('pglite' | 'postgres')[] = realPostgresAvailable ? ['pglite', 'postgres'] : ['pglite'];

export interface TestDatabase {
  readonly handle: DatabaseHandle;
  /** URL of the throw-away database (real server only). */
  readonly url?: string;
  dispose(): Promise<void>;
}

/**
 * A fresh, migrated database: an in-memory PGlite, or a new database on the real server
 * (created from TEST_DATABASE_URL, dropped on dispose) so runs never see each other's rows.
 */
export async function createTestDatabase(driver: 'pglite' | 'postgres', options: { poolMax?: number; migrate?: boolean } = {}): Promise<TestDatabase> {
  if (driver === 'pglite') {
    const handle = await openDatabase({ dataDir: '', inMemory: true });
    if (options.migrate ?? true) await runMigrations(handle);
    return { handle, dispose: () => handle.close() };
  }
  const name = `bcf_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString(), dataDir: '', poolMax: options.poolMax ?? 10 });
  if (options.migrate ?? true) await runMigrations(handle);
  return {
    handle,
    url: url.toString(),
    async dispose() {
      await handle.close();
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 1 });
    },
  };
}
