import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { is, sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite, PgliteDatabase } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema/index.ts';
import { serveEmbedded, socketPathFor, type SharedEmbeddedServer } from './shared-embedded.ts';
import { ProductError } from '../errors/index.ts';
import { withPreparedStatements } from './pglite-prepared.ts';

export type Schema = typeof schema;
/** What every data-access function takes: either driver, or a transaction of either. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type DatabaseDriver = 'postgres' | 'pglite';

export interface DatabaseHandle {
  readonly db: Database;
  readonly driver: DatabaseDriver;
  /** Where the data lives, safe to print (no password). */
  readonly location: string;
  /** Round-trip time of `select 1`, in milliseconds; throws when the database is gone. */
  ping(): Promise<number>;
  /**
   * Runs `work` while holding a database-wide advisory lock, so several processes starting
   * at once (e.g. workers running migrations) take turns.
   */
  withExclusiveLock<T>(lockKey: number, work: () => Promise<T>): Promise<T>;
  /**
   * Embedded database in a folder only: serve it to this machine's other processes (see
   * db/shared-embedded.ts) until close; returns the socket's path.
   */
  share?(): Promise<string>;
  /**
   * PostgreSQL server only: calls `onNotify` for every NOTIFY on `channel` from any process, on
   * a connection of its own (re-listened after a reconnect); returns the undo. Absent for the
   * embedded engine and its shared socket, where the notice would not cross processes.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  /** Embedded only: an image of the whole data folder (a tar), which `fromImage` opens again. */
  image?(): Promise<Blob>;
  close(): Promise<void>;
}

/** The database could not be opened or reached; the message says what to do. */
export class DatabaseUnavailableError extends ProductError {
  readonly category = 'unavailable' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** An image was to be loaded into a data folder that already holds a database. */
export class EmbeddedFolderNotEmptyError extends ProductError {
  readonly category = 'conflict' as const;
  readonly dir: string;
  constructor(dir: string) {
    super(`${dir} already holds a database; an image is only loaded into an empty or missing folder`);
    this.dir = dir;
    this.name = 'EmbeddedFolderNotEmptyError';
  }
}

export interface OpenDatabaseOptions {
  /** A postgres:// URL; without it the embedded PGlite in `dataDir` is used. */
  readonly url?: string | undefined;
  readonly dataDir: string;
  readonly poolMax?: number;
  readonly connectTimeoutS?: number;
  /** Embedded only: keep everything in memory (tests). */
  readonly inMemory?: boolean;
  /**
   * Embedded only: start from this image of a data folder (from `image()`) instead of an
   * empty cluster — half a second instead of the two to three seconds initdb takes. In a
   * folder, only one that holds no database yet (a restore never lands on live data).
   */
  readonly fromImage?: Blob;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) return openPostgres(options.url, options);
  const owner = options.inMemory ? undefined : sharingOwner(options.dataDir);
  return owner ? openShared(owner, options) : openEmbedded(options);
}

/** The embedded database in a folder another process holds and serves: a client of its socket. */
function openShared(owner: { pid: number; socketPath: string }, options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const dir = path.join(options.dataDir, 'pglite');
  return openPostgres(undefined, options, {
    // Named statements would live in the one backend every client shares, and clash.
    client: postgres({
      path: owner.socketPath,
      database: 'postgres',
      username: 'postgres',
      max: Math.min(options.poolMax ?? 4, 4),
      prepare: false,
      connect_timeout: options.connectTimeoutS ?? 10,
      idle_timeout: 20,
      onnotice: () => {},
    }),
    location: `embedded PostgreSQL in ${dir}, served by process ${owner.pid}`,
    unreachable: `The embedded database in ${dir} is held by process ${owner.pid}, which did not answer on ${owner.socketPath}`,
  });
}

async function openPostgres(
  url: string | undefined,
  options: OpenDatabaseOptions,
  shared?: { client: postgres.Sql; location: string; unreachable: string },
): Promise<DatabaseHandle> {
  const client =
    shared?.client ??
    postgres(url!, {
      max: options.poolMax ?? 10,
      connect_timeout: options.connectTimeoutS ?? 10,
      idle_timeout: 30,
      onnotice: () => {},
      connection: { application_name: 'botcriptofy' },
    });
  const target = url ? describePostgresUrl(url) : '';
  const db = drizzlePostgres(client, { schema, casing: 'snake_case' }) as unknown as Database;
  const handle: DatabaseHandle = {
    db,
    driver: 'postgres',
    location: shared?.location ?? `PostgreSQL at ${target}`,
    async ping() {
      const started = performance.now();
      await client`select 1`;
      return performance.now() - started;
    },
    async withExclusiveLock(lockKey, work) {
      const reserved = await client.reserve();
      try {
        await reserved`select pg_advisory_lock(${lockKey})`;
        try {
          return await work();
        } finally {
          await reserved`select pg_advisory_unlock(${lockKey})`;
        }
      } finally {
        reserved.release();
      }
    },
    ...(shared
      ? {}
      : {
          async listen(channel: string, onNotify: () => void) {
            const { unlisten } = await client.listen(channel, () => onNotify());
            return unlisten;
          },
        }),
    async close() {
      await client.end({ timeout: 5 });
    },
  };
  try {
    await handle.ping();
  } catch (error) {
    await client.end({ timeout: 1 }).catch(() => {});
    if (shared)
      throw new DatabaseUnavailableError(
        `${shared.unreachable} (${errorText(error)}). Stop that process, or wait for it to finish starting.`,
        { cause: error },
      );
    throw new DatabaseUnavailableError(
      `Cannot connect to PostgreSQL at ${target}: ${errorText(error)}. ` +
        'Check that the server is running and DATABASE_URL is right, or unset DATABASE_URL to use the embedded database.',
      { cause: error },
    );
  }
  return handle;
}

/**
 * PostgreSQL's 128 MB of shared buffers would live in the engine's WASM heap, which never
 * shrinks; the files sit in the OS page cache anyway, so a small buffer pool costs little
 * and keeps the API process well under its memory target. The pool fills up within minutes
 * of `start` on the demo: at 32 MB it held ~30 MB more of the process's resident memory than
 * at 8 MB, and scans of the demo's tables took the same time (BENCHMARKS.md, "The start
 * process's memory").
 */
const EMBEDDED_SETTINGS = ['shared_buffers=8MB'];

async function openEmbedded(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  let release = () => {};
  let client: PGlite;
  let location: string;
  if (options.inMemory) {
    client = await PGlite.create({ postgresqlconf: EMBEDDED_SETTINGS, ...(options.fromImage ? { loadDataDir: options.fromImage } : {}) });
    location = 'embedded PostgreSQL (in memory)';
  } else {
    const dir = path.join(options.dataDir, 'pglite');
    location = `embedded PostgreSQL in ${dir}`;
    fs.mkdirSync(options.dataDir, { recursive: true });
    release = lockDataDir(options.dataDir);
    if (options.fromImage && fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
      release();
      throw new EmbeddedFolderNotEmptyError(dir);
    }
    try {
      client = await PGlite.create(dir, {
        postgresqlconf: EMBEDDED_SETTINGS,
        ...(options.fromImage ? { loadDataDir: options.fromImage } : {}),
      });
      await client.query('select 1');
    } catch (error) {
      release();
      throw new DatabaseUnavailableError(
        `The embedded database in ${dir} cannot be opened (${errorText(error)}). ` +
          'The folder looks damaged or was written by another program. Restore it from a backup, ' +
          `or move it away (e.g. mv "${dir}" "${dir}.broken") and start again to create a fresh one.`,
        { cause: error },
      );
    }
  }
  const db = drizzlePglite(withPreparedStatements(client), { schema, casing: 'snake_case' }) as unknown as Database;
  // PGlite is one connection in this process: queries already run one at a time, and the
  // data-folder lock keeps other processes out, so the exclusive lock is a plain queue.
  let queue: Promise<unknown> = Promise.resolve();
  let server: SharedEmbeddedServer | undefined;
  return {
    db,
    driver: 'pglite',
    location,
    ...(options.inMemory
      ? {}
      : {
          async share() {
            server ??= await serveEmbedded(client, socketPathFor(options.dataDir));
            // Other processes find the socket through the lock file.
            const lockPath = path.join(options.dataDir, 'pglite.lock');
            fs.writeFileSync(`${lockPath}.${process.pid}`, `${process.pid}\n${server.socketPath}\n`);
            fs.renameSync(`${lockPath}.${process.pid}`, lockPath);
            return server.socketPath;
          },
        }),
    async ping() {
      const started = performance.now();
      await client.query('select 1');
      return performance.now() - started;
    },
    image: () => client.dumpDataDir('none'),
    withExclusiveLock(_lockKey, work) {
      const run = queue.then(work, work);
      queue = run.catch(() => {});
      return run;
    },
    async close() {
      await server?.stop().catch(() => {});
      try {
        // Flush the WAL now, so the next open starts from a clean checkpoint instead of
        // replaying (which grows the engine's memory for good).
        await client.query('checkpoint').catch(() => {});
        await client.close();
      } finally {
        release();
      }
    },
  };
}

/**
 * PGlite must never be opened by two processes at once: that corrupts the folder. A lock
 * file holding the owner's pid keeps the second one out; a stale file (dead pid) is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockPath = path.join(dataDir, 'pglite.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isProcessAlive(owner)) {
        throw new DatabaseUnavailableError(
          `The embedded database in ${dataDir} is in use by process ${owner}, which does not share it ` +
            '(only `start` and `worker` do). Wait for it to finish, or set DATA_DIR to another folder.',
        );
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new DatabaseUnavailableError(`Could not lock the data folder ${dataDir}.`);
}

/** The process holding the embedded database in `dataDir` and serving it, if one does. */
function sharingOwner(dataDir: string): { pid: number; socketPath: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dataDir, 'pglite.lock'), 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, socketPath] = text.split('\n');
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!Number.isInteger(pid) || pid === process.pid || !isProcessAlive(pid) || !socketPath || !fs.existsSync(socketPath)) return undefined;
  return { pid, socketPath };
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname || ''}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorText(error.errors[0]);
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message || String(code);
  }
  return String(error);
}

/**
 * True for the embedded database itself (not a transaction in it): one connection that runs
 * one statement at a time, and transactions exclusively, so a single statement never
 * interleaves with another writer and needs no lock of its own.
 */
export function runsStatementsOneAtATime(db: Database): boolean {
  return is(db, PgliteDatabase);
}

/** Rows of a raw query, the same shape for both drivers. */
export async function queryRows<T extends Record<string, unknown>>(db: Database, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** True when the table exists in the current schema. */
export async function tableExists(db: Database, name: string, schemaName = 'public'): Promise<boolean> {
  const rows = await queryRows<{ exists: boolean }>(
    db,
    sql`select exists (select 1 from information_schema.tables where table_schema = ${schemaName} and table_name = ${name}) as "exists"`,
  );
  return rows[0]?.exists === true;
}
