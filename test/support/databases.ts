import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { migrationsFolder, openDatabase, runMigrations, type DatabaseHandle } from '../../db/index.ts';

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
  // CI sets TEST_REQUIRE_POSTGRES once it has the server up: losing it then is a failure, not a skip.
  if (process.env.TEST_REQUIRE_POSTGRES === '1')
    throw new Error(`[tests] PostgreSQL at ${TEST_DATABASE_URL} does not answer, and TEST_REQUIRE_POSTGRES=1 says it must.`);
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
 * What a migrated database depends on: every migration file and the engine's version. Names
 * the template, so a changed migration (or PGlite) builds a new one instead of reusing a stale one.
 */
const templateKey: string = (() => {
  const hash = crypto.createHash('sha256');
  hash.update(fs.readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url)));
  for (const entry of fs
    .readdirSync(migrationsFolder, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort()) {
    hash.update(path.relative(migrationsFolder, entry)).update(fs.readFileSync(entry));
  }
  return hash.digest('hex').slice(0, 16);
})();

let embeddedTemplate: Promise<Blob> | undefined;

/**
 * An image of a migrated embedded database, made once per machine and migration set (in the
 * temporary folder; written under a temporary name and renamed, so test processes racing to
 * make it never read half a file) and kept in memory by each test process.
 */
function migratedEmbeddedImage(): Promise<Blob> {
  embeddedTemplate ??= (async () => {
    const file = path.join(os.tmpdir(), `botcriptofy-test-template-${templateKey}.tar`);
    if (fs.existsSync(file)) return new Blob([fs.readFileSync(file)]);
    const handle = await openDatabase({ dataDir: '', inMemory: true });
    try {
      await runMigrations(handle);
      const image = await handle.image!();
      const partial = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
      fs.writeFileSync(partial, Buffer.from(await image.arrayBuffer()));
      fs.renameSync(partial, file);
      return image;
    } finally {
      await handle.close();
    }
  })();
  return embeddedTemplate;
}

const TEMPLATE_LOCK_KEY = 0x42434654; // "BCFT"

/**
 * The name of a migrated template database on the real server, made once per migration set:
 * built under the lock under a temporary name, then renamed (nobody may be connected to a
 * template when it is copied), with all but the newest few templates of other migration sets dropped.
 */
let postgresTemplate: Promise<string> | undefined;
/** Templates of other migration sets kept on the server (the newest), for other checkouts testing at the same time. */
const KEPT_OTHER_TEMPLATES = 3;
function migratedPostgresTemplate(admin: postgres.Sql): Promise<string> {
  postgresTemplate ??= (async () => {
    const name = `bcf_template_${templateKey}`;
    const reserved = await admin.reserve();
    try {
      await reserved`select pg_advisory_lock(${TEMPLATE_LOCK_KEY})`;
      const [exists] = await reserved`select 1 from pg_database where datname = ${name}`;
      if (!exists) {
        // Other checkouts on this server may be testing another migration set right now (a branch,
        // a fresh clone running CI): their templates stay, only the oldest beyond a few go.
        const others = await reserved<{ datname: string }[]>`
          select datname from pg_database where datname like 'bcf\_template\_%' and datname not like '%\_building' order by oid desc`;
        for (const old of others.slice(KEPT_OTHER_TEMPLATES)) {
          await reserved.unsafe(`drop database if exists "${old.datname}" with (force)`);
        }
        const building = `${name}_building`;
        await reserved.unsafe(`drop database if exists "${building}" with (force)`);
        await reserved.unsafe(`create database "${building}"`);
        const url = new URL(TEST_DATABASE_URL);
        url.pathname = `/${building}`;
        const handle = await openDatabase({ url: url.toString(), dataDir: '' });
        try {
          await runMigrations(handle);
        } finally {
          await handle.close();
        }
        await reserved.unsafe(`alter database "${building}" rename to "${name}"`);
      }
      return name;
    } finally {
      await reserved`select pg_advisory_unlock(${TEMPLATE_LOCK_KEY})`.catch(() => {});
      reserved.release();
    }
  })();
  return postgresTemplate;
}

/**
 * A fresh, migrated database: an in-memory PGlite, or a new database on the real server
 * (created from TEST_DATABASE_URL, dropped on dispose) so runs never see each other's rows.
 * Both start from a template migrated once (an image of the embedded data folder; a template
 * database on the server), which is what migrating would give, in a fraction of the time.
 * `migrate: false` gives an empty database, for tests of the migrations themselves.
 */
export async function createTestDatabase(
  driver: 'pglite' | 'postgres',
  options: { poolMax?: number; migrate?: boolean } = {},
): Promise<TestDatabase> {
  const migrate = options.migrate ?? true;
  if (driver === 'pglite') {
    const handle = await openDatabase({ dataDir: '', inMemory: true, ...(migrate ? { fromImage: await migratedEmbeddedImage() } : {}) });
    return { handle, dispose: () => handle.close() };
  }
  const name = `bcf_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  const template = migrate ? await migratedPostgresTemplate(admin) : undefined;
  await admin.unsafe(template ? `create database "${name}" template "${template}"` : `create database "${name}"`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString(), dataDir: '', poolMax: options.poolMax ?? 10 });
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
