import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { appendAudit } from '../audit/index.ts';
import { EmbeddedFolderNotEmptyError, openDatabase, queryRows, type DatabaseHandle } from '../db/index.ts';
import { ProductError, UsageError } from '../errors/index.ts';
import { erasuresUndone, readErasureLedger, reapplyErasures } from '../privacy/index.ts';
import { checkAgainstManifest, listTables, takeInventory, type Inventory, type RestoreCheck } from './inventory.ts';
import {
  BackupCorruptError,
  backupFileNames,
  backupManifestSchema,
  openBackup,
  sha256OfFile,
  writeFileAtomically,
  type BackupKind,
  type BackupManifest,
} from './manifest.ts';
import { restoreLogicalDump, writeLogicalDump } from './logical.ts';
import { BackupToolUnavailableError, findPgTool, libpqConnection, runPgTool, type PgTool } from './pg-tools.ts';
import { dropCreatedSince, objectsBeforeRestore, RestoreUndoneError } from './undo.ts';
import { timescaleOnTarget, timescaleRestorePlan, withTimescaleRestore } from './timescale.ts';

/**
 * How a server is dumped: `pg-dump` (custom format; needs pg_dump at least the server's major
 * version), `logical` (COPY of every table through SQL, no client binaries), or `auto`: pg_dump
 * when a recent enough one is installed, else logical.
 */
export const serverBackupFormats = ['auto', 'pg-dump', 'logical'] as const;
export type ServerBackupFormat = (typeof serverBackupFormats)[number];

/** The database a restore was pointed at holds data already: a restore never lands on live data. */
export class RestoreTargetNotEmptyError extends ProductError {
  readonly category = 'conflict' as const;
  constructor(message: string) {
    super(message);
    this.name = 'RestoreTargetNotEmptyError';
  }
}

/** The backup cannot be made here as things stand (the embedded database is held by another process). */
export class BackupUnavailableError extends ProductError {
  readonly category = 'unavailable' as const;
  constructor(message: string) {
    super(message);
    this.name = 'BackupUnavailableError';
  }
}

export interface CreateBackupOptions {
  /** The open database: the embedded one held by this process, or a PostgreSQL server. */
  readonly handle: DatabaseHandle;
  /** DATABASE_URL when the database is a server (pg_dump connects to it). */
  readonly url?: string | undefined;
  readonly outDir: string;
  readonly productVersion: string;
  /** Who asked, for the audit row (`cli`, `scheduler`). */
  readonly actorId: string;
  readonly now?: () => Date;
  /** A server's dump format (default `auto`); the embedded database is always its image. */
  readonly format?: ServerBackupFormat | undefined;
  /** Finds pg_dump for a server's major version (default: findPgTool); a test gives its own. */
  readonly findPgDump?: ((serverMajor: number) => Promise<PgTool>) | undefined;
}

export interface CreatedBackup {
  readonly manifest: BackupManifest;
  readonly manifestPath: string;
  readonly dumpPath: string;
}

/**
 * Writes a backup of the whole database to `outDir`: the dump and its manifest. The manifest's
 * counts and audit head describe exactly what the dump holds: read in the transaction the image
 * is taken in on the embedded database, and in the snapshot pg_dump reads on a server (an
 * exported snapshot). Appends `backup.create` to the audit log
 * once both files are in place.
 */
export async function createBackup(options: CreateBackupOptions): Promise<CreatedBackup> {
  const { handle, outDir } = options;
  const now = options.now ?? (() => new Date());
  const started = performance.now();
  const createdAt = now();
  fs.mkdirSync(outDir, { recursive: true, mode: 0o700 });
  let kind: BackupKind;
  let inventory: Inventory;
  let tool: string | null = null;
  let dumpPartial: string;
  let names: { dump: string; manifest: string };
  if (handle.driver === 'pglite' && handle.image) {
    kind = 'pglite-data-dir';
    names = backupFileNames(kind, createdAt);
    dumpPartial = path.join(outDir, `${names.dump}.partial-${process.pid}`);
    const takeImage = handle.image;
    // Every statement on PGlite holds its transaction lock, and the image only its statement
    // lock: inside one transaction, nothing else runs between the counts and the copy, which
    // is made between statements (a crash-consistent image, as after a power cut).
    let image: Blob | undefined;
    inventory = await handle.db.transaction(async (tx) => {
      const counted = await takeInventory(tx);
      image = await takeImage();
      return counted;
    });
    fs.writeFileSync(dumpPartial, Buffer.from(await image!.arrayBuffer()), { mode: 0o600 });
  } else if (options.url) {
    const url = options.url;
    const format = options.format ?? 'auto';
    if (handle.driver === 'pglite')
      throw new UsageError('the embedded database is backed up as its data-folder image: --format applies to a PostgreSQL server');
    let pgDump: PgTool | null = null;
    if (format !== 'logical') {
      const major = await serverMajor(handle);
      try {
        pgDump = await (options.findPgDump ?? ((wanted: number) => findPgTool('pg_dump', wanted)))(major);
      } catch (error) {
        // auto: no pg_dump as new as the server here (the usual case in the container image) → the logical dump.
        if (!(format === 'auto' && error instanceof BackupToolUnavailableError)) throw error;
      }
    }
    kind = pgDump ? 'pg-dump-custom' : 'logical-copy';
    names = backupFileNames(kind, createdAt);
    const partial = path.join(outDir, `${names.dump}.partial-${process.pid}`);
    dumpPartial = partial;
    tool = pgDump ? pgDump.version : 'botcriptofy logical dump (COPY through SQL, no pg_dump)';
    const { dbname, env } = libpqConnection(url);
    // pg_dump creates its file with the umask's mode (0644 as a rule): it writes into one made
    // 0600 first (it truncates, keeping the mode), like the manifest and the other formats.
    if (pgDump) fs.writeFileSync(partial, '', { mode: 0o600 });
    inventory = await handle.db
      .transaction(
        async (tx) => {
          const [exported] = await queryRows<{ snapshot: string }>(tx, sql`select pg_export_snapshot() as snapshot`);
          const counted = await takeInventory(tx);
          if (pgDump)
            await runPgTool(
              pgDump,
              ['--format=custom', `--file=${partial}`, `--snapshot=${exported!.snapshot}`, '--no-password', `--dbname=${dbname}`],
              env,
            );
          else await writeLogicalDump(url, exported!.snapshot, counted.tables, partial);
          return counted;
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      )
      .catch((error: unknown) => {
        // A dump that failed half-way leaves no partial file behind.
        fs.rmSync(partial, { force: true });
        throw error;
      });
  } else {
    throw new BackupUnavailableError(
      `${handle.location}: only the process holding the embedded database can copy its data folder. ` +
        'Its scheduled backup runs there (BACKUP_CRON); to back up now, stop it and run backup create again.',
    );
  }
  try {
    const dumpPath = path.join(outDir, names.dump);
    fs.chmodSync(dumpPartial, 0o600);
    fs.renameSync(dumpPartial, dumpPath);
    const manifest = backupManifestSchema.parse({
      format: 'botcriptofy-backup',
      formatVersion: 1,
      kind,
      createdAt: createdAt.toISOString(),
      productVersion: options.productVersion,
      source: {
        driver: handle.driver === 'pglite' ? 'pglite' : 'postgres',
        location: handle.location,
        serverVersion: inventory.serverVersion,
        timescaledb: inventory.timescaledb,
      },
      dump: { file: names.dump, bytes: fs.statSync(dumpPath).size, sha256: await sha256OfFile(dumpPath), tool },
      migrations: inventory.migrations,
      tables: inventory.tables,
      totalRows: inventory.totalRows,
      auditHead: inventory.auditHead,
      elapsedMs: Math.round(performance.now() - started),
    } satisfies BackupManifest);
    const manifestPath = path.join(outDir, names.manifest);
    writeFileAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    await appendAudit(handle.db, {
      actorKind: 'system',
      actorId: options.actorId,
      action: 'backup.create',
      outcome: 'ok',
      details: {
        file: names.dump,
        kind,
        bytes: manifest.dump.bytes,
        sha256: manifest.dump.sha256,
        tables: Object.keys(manifest.tables).length,
        rows: manifest.totalRows,
        auditHeadId: manifest.auditHead.lastId,
      },
    });
    return { manifest, manifestPath, dumpPath };
  } finally {
    fs.rmSync(dumpPartial, { force: true });
  }
}

export interface VerifiedBackup extends RestoreCheck {
  readonly manifest: BackupManifest;
  readonly dumpPath: string;
  /** Where it was restored to be checked. */
  readonly scratch: string;
  /** Ledgered erasures whose person this backup still holds: a restore of it erases them again. */
  readonly erasuresToReapply: number;
}

/**
 * Checks a backup without touching the live database: the dump's SHA-256, then a restore into
 * a scratch database (an in-memory PGlite for an embedded image; a new database on the server
 * of `url`, dropped afterwards, for a pg_dump), whose row counts and audit chain must be the
 * manifest's. Throws BackupCorruptError naming the first thing that differs.
 */
export async function verifyBackup(
  file: string,
  options: { url?: string | undefined; erasureLedgers?: readonly string[] | undefined } = {},
): Promise<VerifiedBackup> {
  const { manifest, dumpPath } = await openBackup(file);
  const ledger = readErasureLedger(options.erasureLedgers ?? []);
  if (manifest.kind === 'pglite-data-dir') {
    const image = new Blob([fs.readFileSync(dumpPath)]);
    const check = await withScratchEmbedded(
      image,
      async (db) => ({
        ...(await checkAgainstManifest(db, manifest, `backup ${manifest.dump.file} restored`)),
        erasuresToReapply: (await erasuresUndone(db, ledger)).length,
      }),
      dumpPath,
    );
    return { ...check, manifest, dumpPath, scratch: 'an in-memory embedded database' };
  }
  if (!options.url)
    throw new UsageError(
      `backup ${manifest.dump.file} is a PostgreSQL server dump: verifying it restores it into a scratch database on a server, so set DATABASE_URL (the scratch database is created there and dropped)`,
    );
  const admin = postgres(options.url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  const name = `botcriptofy_verify_${crypto.randomBytes(6).toString('hex')}`;
  try {
    try {
      await admin.unsafe(`create database "${name}"`);
    } catch (error) {
      throw new BackupUnavailableError(
        `cannot create the scratch database to verify ${manifest.dump.file} on the server of DATABASE_URL ` +
          `(${error instanceof Error ? error.message : String(error)}): verifying a server dump needs a reachable server and a user with CREATEDB`,
      );
    }
    try {
      const scratchUrl = new URL(options.url);
      scratchUrl.pathname = `/${name}`;
      const scratch = await openDatabase({ url: scratchUrl.toString(), dataDir: '', poolMax: 2 });
      try {
        await restoreServerDump(scratch, scratchUrl.toString(), dumpPath, manifest);
        const check = await checkAgainstManifest(scratch.db, manifest, `backup ${manifest.dump.file} restored`);
        const erasuresToReapply = (await erasuresUndone(scratch.db, ledger)).length;
        return { ...check, manifest, dumpPath, scratch: `scratch database ${name} (dropped)`, erasuresToReapply };
      } finally {
        await scratch.close();
      }
    } finally {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
    }
  } finally {
    await admin.end({ timeout: 2 });
  }
}

export interface RestoreOptions {
  readonly file: string;
  /** DATABASE_URL: restore into that (empty) database; unset: into DATA_DIR's (empty) embedded folder. */
  readonly url?: string | undefined;
  readonly dataDir: string;
  readonly actorId: string;
  /** Erasure ledger files (privacy/ledger.ts): every erasure they hold whose person the backup brings back is done again. */
  readonly erasureLedgers?: readonly string[] | undefined;
}

export interface RestoredBackup extends RestoreCheck {
  readonly manifest: BackupManifest;
  readonly location: string;
  /** People erased after the backup was made (per the ledger), erased again once restored. */
  readonly erasuresReapplied: number;
}

/**
 * Restores a backup into an empty database only — the embedded data folder must be missing or
 * empty, the server's database must hold no table — then checks the result against the
 * manifest (row counts, the audit chain and its recorded head), records the restore in the
 * audit log and erases again everyone the erasure ledger says was erased but the backup
 * holds. The dump's SHA-256 is checked before anything is written; when any later step
 * fails, the target is put back as it was (empty) and the error says so.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoredBackup> {
  const { manifest, dumpPath } = await openBackup(options.file);
  // Read before anything is written: a ledger that cannot be read refuses the restore.
  const ledger = readErasureLedger(options.erasureLedgers ?? []);
  const what = `backup ${manifest.dump.file} restored`;
  let handle: DatabaseHandle;
  /** Puts the target back as it was before the restore; says what it did (null: nothing had been written). */
  let undo: () => Promise<string | null>;
  if (!options.url) {
    if (manifest.kind !== 'pglite-data-dir')
      throw new UsageError(
        `backup ${manifest.dump.file} is a PostgreSQL server dump (${manifest.kind}): set DATABASE_URL to an empty database to restore it there`,
      );
    const folder = path.join(options.dataDir, 'pglite');
    const existed = fs.existsSync(folder);
    if (existed && fs.readdirSync(folder).length > 0) throw embeddedNotEmpty(folder);
    // The folder goes back to what it was (missing, or empty) when the restore fails.
    undo = async () => {
      fs.rmSync(folder, { recursive: true, force: true });
      if (existed) fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
      return `The restore was undone: ${folder} ${existed ? 'is empty again' : 'was removed'}.`;
    };
    try {
      handle = await openDatabase({ dataDir: options.dataDir, fromImage: new Blob([fs.readFileSync(dumpPath)]) });
    } catch (error) {
      if (error instanceof EmbeddedFolderNotEmptyError) throw embeddedNotEmpty(folder);
      throw new RestoreUndoneError(error, (await undo()) ?? '');
    }
  } else {
    if (manifest.kind === 'pglite-data-dir')
      throw new UsageError(
        `backup ${manifest.dump.file} is an embedded database's data folder: unset DATABASE_URL to restore it into DATA_DIR (an empty folder)`,
      );
    handle = await openDatabase({ url: options.url, dataDir: options.dataDir, poolMax: 2 });
    try {
      const tables = await listTables(handle.db);
      if (tables.length > 0)
        throw new RestoreTargetNotEmptyError(
          `Refusing to restore over live data: ${handle.location} already holds ${tables.length} tables (${tables.slice(0, 3).join(', ')}…). ` +
            'Restore only into an empty database: create a new one (createdb) and point DATABASE_URL at it.',
        );
      const before = await objectsBeforeRestore(handle.db);
      const server = handle;
      undo = async () => {
        const dropped = await dropCreatedSince(server.db, before);
        const left = await listTables(server.db);
        if (dropped === 0 && left.length === 0) return null;
        return left.length === 0
          ? `The restore was undone: ${dropped} objects it created were dropped, ${server.location} is empty again.`
          : `Undoing the restore left ${left.length} tables in ${server.location} (${left.slice(0, 3).join(', ')}…): drop that database and create it again before retrying.`;
      };
      try {
        await restoreServerDump(handle, options.url, dumpPath, manifest);
      } catch (error) {
        // pg_restore and the logical restore run in one transaction: usually nothing is left,
        // and a refusal before writing (TimescaleDB, the migration level) stays as it was.
        const undone = await undo();
        throw undone === null ? error : new RestoreUndoneError(error, undone);
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
  }
  try {
    const check = await checkAgainstManifest(handle.db, manifest, what);
    await appendAudit(handle.db, {
      actorKind: 'system',
      actorId: options.actorId,
      action: 'backup.restore',
      outcome: 'ok',
      details: {
        file: manifest.dump.file,
        sha256: manifest.dump.sha256,
        backupCreatedAt: manifest.createdAt,
        rows: check.totalRows,
        auditHeadId: manifest.auditHead.lastId,
      },
    });
    // The backup may predate erasures: a person erased since is not brought back (LGPD art. 18).
    const erasuresReapplied = await reapplyErasures(handle.db, ledger, { actor: 'backup-restore' });
    const location = handle.location;
    await handle.close();
    return { ...check, manifest, location, erasuresReapplied };
  } catch (error) {
    // Unchecked data (or data holding people erased since) never stays: a retry would be
    // refused as live data, and `start` would run on it. The embedded folder is removed once
    // closed; the server's objects are dropped while connected.
    if (handle.driver === 'pglite') await handle.close().catch(() => {});
    const undone = await undo().catch((failure: unknown) => {
      // A failed query's own reason is its cause (drizzle's message is the statement).
      const reason = failure instanceof Error && failure.cause instanceof Error ? failure.cause.message : String(failure);
      return `Undoing the restore failed too (${reason}): drop that database and create it again before retrying.`;
    });
    if (handle.driver !== 'pglite') await handle.close().catch(() => {});
    throw new RestoreUndoneError(error, undone ?? 'The restore was undone.');
  }
}

function embeddedNotEmpty(folder: string): RestoreTargetNotEmptyError {
  return new RestoreTargetNotEmptyError(
    `Refusing to restore over live data: ${folder} already holds a database. Restore only into an empty data folder: ` +
      `stop every botcriptofy process on it, then move it away (mv "${folder}" "${folder}.old") or set DATA_DIR to a new folder, and run restore again.`,
  );
}

/** An in-memory embedded database started from an image, for `work`, then closed. */
async function withScratchEmbedded<T>(image: Blob, work: (db: DatabaseHandle['db']) => Promise<T>, file?: string): Promise<T> {
  let scratch: DatabaseHandle;
  try {
    scratch = await openDatabase({ dataDir: '', inMemory: true, fromImage: image });
  } catch (error) {
    if (file === undefined) throw error;
    // The SHA-256 matched, so the file is what was written: the image itself is unusable.
    throw new BackupCorruptError(
      `backup ${file} cannot be opened as an embedded database: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    return await work(scratch.db);
  } finally {
    await scratch.close();
  }
}

async function serverMajor(handle: DatabaseHandle): Promise<number> {
  const [row] = await queryRows<{ version: string }>(handle.db, sql`select current_setting('server_version_num') as version`);
  return Math.floor(Number(row?.version) / 10_000);
}

/** A server dump (pg_dump's or the logical one) into an empty database. */
async function restoreServerDump(target: DatabaseHandle, url: string, dumpPath: string, manifest: BackupManifest): Promise<void> {
  if (manifest.kind === 'logical-copy') await restoreLogicalDump(url, dumpPath, manifest);
  else await pgRestore(target, url, dumpPath, manifest);
}

/**
 * pg_restore into an empty database, in one transaction (all or nothing), without the source's
 * owners and grants (the target's user owns what it restores). A source with TimescaleDB gets
 * the extension's documented steps around it (backup/timescale.ts): the target is checked
 * first (the same TimescaleDB version created there, or offered by its server; else refused
 * before anything is written), then timescaledb_pre_restore(), pg_restore and
 * timescaledb_post_restore() (also after a failure).
 */
async function pgRestore(target: DatabaseHandle, url: string, dumpPath: string, manifest: BackupManifest): Promise<void> {
  const plan = timescaleRestorePlan(manifest.source.timescaledb, await timescaleOnTarget(target.db), `backup ${manifest.dump.file}`);
  const pgRestoreTool = await findPgTool('pg_restore', Number(manifest.source.serverVersion.split('.')[0]) || 0);
  const { dbname, env } = libpqConnection(url);
  await withTimescaleRestore(target.db, plan, () =>
    runPgTool(
      pgRestoreTool,
      ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', '--no-password', `--dbname=${dbname}`, dumpPath],
      env,
    ),
  );
}
