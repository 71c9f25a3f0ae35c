import fs from 'node:fs';
import path from 'node:path';
import { PGlite, parse as pgliteResults, protocol, type QueryOptions, type Results, type Transaction } from '@electric-sql/pglite';
import { is, sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite, PgliteDatabase } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema/index.ts';
import { serveEmbedded, socketPathFor, type SharedEmbeddedServer } from './shared-embedded.ts';
import { ProductError } from '../errors/index.ts';

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

export interface OpenDatabaseOptions {
  /** A postgres:// URL; without it the embedded PGlite in `dataDir` is used. */
  readonly url?: string | undefined;
  readonly dataDir: string;
  readonly poolMax?: number;
  readonly connectTimeoutS?: number;
  /** Embedded only: keep everything in memory (tests). */
  readonly inMemory?: boolean;
  /**
   * Embedded in memory only: start from this image of a data folder (from `image()`) instead
   * of an empty cluster — half a second instead of the two to three seconds initdb takes.
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
    client: postgres({ path: owner.socketPath, database: 'postgres', username: 'postgres', max: Math.min(options.poolMax ?? 4, 4), prepare: false, connect_timeout: options.connectTimeoutS ?? 10, idle_timeout: 20, onnotice: () => {} }),
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
    async close() {
      await client.end({ timeout: 5 });
    },
  };
  try {
    await handle.ping();
  } catch (error) {
    await client.end({ timeout: 1 }).catch(() => {});
    if (shared) throw new DatabaseUnavailableError(`${shared.unreachable} (${errorText(error)}). Stop that process, or wait for it to finish starting.`, { cause: error });
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
 * and keeps the API process well under its memory target.
 */
const EMBEDDED_SETTINGS = ['shared_buffers=32MB'];

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
    try {
      client = await PGlite.create(dir, { postgresqlconf: EMBEDDED_SETTINGS });
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

/** Query texts the embedded engine keeps prepared; past this the least recently used is closed. */
const PREPARED_MAX = 128;
/**
 * Runs after which a statement is prepared afresh. PostgreSQL keeps a statement's generic
 * plan until the table's statistics change, which without autovacuum means the next
 * scheduled analyze: a plan made while a table was tiny (a sequential scan for "the newest
 * audit row") would stay while the table grows, each run slower than the last. A statement
 * prepared again is planned for the table as it is then. (Planning at every run instead
 * halves the webhook throughput: its one-statement upsert is costly to plan.)
 */
const REPLAN_AFTER_RUNS = 250;
/** Plain data statements are prepared; DDL, transaction control and settings run as before. */
const PREPARABLE = /^\s*\(?\s*(select|insert|update|delete|with)\b/i;
/** Types drizzle reads as text (it passes identity parsers for them with every query). */
const DRIZZLE_TEXT_TYPES = [1114, 1184, 1186, 1082, 1231, 1115, 1185, 1187, 1182];

type ParserMap = Record<number | string, (value: string, typeId?: number) => unknown>;

/**
 * What drizzle talks to instead of the PGlite client itself. PGlite runs every query as an
 * unnamed statement (parsed, analysed and planned again each time, over six calls into the
 * engine) and copies its 300-odd type parsers to merge in the ones drizzle passes with every
 * query. Here a query text gets a named prepared statement the first time, and later runs
 * bind, describe, execute and sync in a single call, with drizzle's parsers merged once: a
 * repeated query costs a quarter to a third as much. Results, errors and locking are PGlite's
 * own (the same mutexes, parsers and result parser); anything else (DDL, other query options,
 * other methods) goes to PGlite unchanged.
 */
function withPreparedStatements(client: PGlite): PGlite {
  const statements = new Map<string, { readonly name: string; readonly paramTypes: number[]; runs: number }>();
  let created = 0;
  // drizzle's identity parsers over PGlite's, looked up through the prototype (so a later
  // refreshArrayTypes() still shows).
  const drizzleParsers = Object.create(client.parsers) as ParserMap;
  for (const typeId of DRIZZLE_TEXT_TYPES) drizzleParsers[typeId] = (value) => value;
  const parsersFor = (options: QueryOptions | undefined): ParserMap => {
    const given = options?.parsers as ParserMap | undefined;
    if (!given) return client.parsers as ParserMap;
    for (const key in given) {
      if (!DRIZZLE_TEXT_TYPES.includes(Number(key)) || given[key]!('0', Number(key)) !== '0') return { ...client.parsers, ...given };
    }
    return drizzleParsers;
  };
  const send = async (messages: Uint8Array[], query: string, params: unknown[], options: QueryOptions | undefined) => {
    const buffer = new Uint8Array(messages.reduce((length, message) => length + message.length, 0));
    let offset = 0;
    for (const message of messages) {
      buffer.set(message, offset);
      offset += message.length;
    }
    try {
      return (await client.execProtocol(buffer, { syncToFs: false })).messages;
    } catch (error) {
      // As PGlite reports a failed query.
      throw Object.assign(error as Error, { query, params, queryOptions: options });
    }
  };
  const { serialize } = protocol;

  /** Statements to close with the next batch sent: evicted or invalidated. */
  const unused: string[] = [];

  async function run(query: string, params: unknown[], options: QueryOptions | undefined, inTransaction: boolean, retried = false): Promise<Results> {
    let statement = statements.get(query);
    if (statement) statements.delete(query); // most recently used last
    if (statement && statement.runs >= REPLAN_AFTER_RUNS) {
      unused.push(statement.name);
      statement = undefined;
    }
    if (!statement) {
      if (statements.size >= PREPARED_MAX) {
        const [oldest, { name }] = statements.entries().next().value!;
        statements.delete(oldest);
        unused.push(name);
      }
      const name = `bcf_${++created}`;
      const messages = [...unused.splice(0).map((closed) => serialize.close({ type: 'S', name: closed })), serialize.parse({ name, text: query }), serialize.describe({ type: 'S', name }), serialize.sync()];
      statement = { name, paramTypes: pgliteResults.parseDescribeStatementResults(await send(messages, query, params, options)), runs: 0 };
    }
    statements.set(query, statement);
    statement.runs += 1;
    const { paramTypes } = statement;
    const values = params.map((param, i) => {
      if (param === null || param === undefined) return null;
      const serializer = client.serializers[paramTypes[i]!];
      return serializer ? (serializer(param) as string) : String(param);
    });
    let messages;
    try {
      messages = await send([serialize.bind({ statement: statement.name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()], query, params, options);
    } catch (error) {
      // A table changed shape under a prepared `select *` (or the statement is gone): prepare
      // it afresh, at once when no transaction was aborted by the error.
      if (!['0A000', '26000'].includes((error as { code?: string }).code ?? '')) throw error;
      statements.delete(query);
      unused.push(statement.name);
      if (inTransaction || retried) throw error;
      return run(query, params, options, inTransaction, true);
    }
    if (!inTransaction) await client.syncToFs();
    return pgliteResults.parseResults(messages, parsersFor(options), options?.rowMode ? { rowMode: options.rowMode } : undefined)[0]!;
  }

  const preparable = (query: string, options: QueryOptions | undefined) =>
    PREPARABLE.test(query) && (!options || Object.keys(options).every((key) => key === 'rowMode' || key === 'parsers'));

  const query = (text: string, params: unknown[] = [], options?: QueryOptions) =>
    preparable(text, options)
      ? client._runExclusiveTransaction(() => client.runExclusive(() => run(text, params, options, false)))
      : client.query(text, params, options);

  const transaction = <T>(callback: (tx: Transaction) => Promise<T>) =>
    client.transaction((tx) =>
      callback(
        Object.create(tx, {
          query: {
            value: async (text: string, params: unknown[] = [], options?: QueryOptions) => {
              if (!preparable(text, options)) return tx.query(text, params, options);
              if (tx.closed) throw new Error('Transaction is closed');
              return client.runExclusive(() => run(text, params, options, true));
            },
          },
        }) as Transaction,
      ),
    );

  return new Proxy(client, {
    get(target, key) {
      if (key === 'query') return query;
      if (key === 'transaction') return transaction;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
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
