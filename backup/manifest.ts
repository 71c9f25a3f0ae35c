import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ProductError, UsageError } from '../errors/index.ts';

/**
 * What a backup is: a dump file and, beside it, its manifest (one JSON file with the same base
 * name). The manifest says what the dump must give back once restored — the row count of every
 * table, the audit chain's head, the migration level — and the dump's SHA-256, so a copy that
 * lost or changed one byte is refused before anything reads it.
 */

/**
 * The dump formats: PGlite's data-folder image (a tar), pg_dump's custom format, and the
 * logical dump made through SQL when no recent enough pg_dump is installed (logical.ts).
 */
export const backupKinds = ['pglite-data-dir', 'pg-dump-custom', 'logical-copy'] as const;
export type BackupKind = (typeof backupKinds)[number];

const DUMP_SUFFIX: Record<BackupKind, string> = {
  'pglite-data-dir': '.pglite.tar',
  'pg-dump-custom': '.pgdump',
  'logical-copy': '.logical.gz',
};
const MANIFEST_SUFFIX = '.manifest.json';
const NAME_PREFIX = 'botcriptofy-';

export const auditHeadSchema = z.object({
  /** Rows in the audit log. */
  rows: z.number().int().min(0),
  /** The newest row's id and hash (null and the genesis hash when the log is empty). */
  lastId: z.number().int().nullable(),
  lastHash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AuditHead = z.infer<typeof auditHeadSchema>;

export const backupManifestSchema = z.object({
  format: z.literal('botcriptofy-backup'),
  formatVersion: z.literal(1),
  kind: z.enum(backupKinds),
  createdAt: z.iso.datetime(),
  productVersion: z.string().min(1),
  source: z.object({
    driver: z.enum(['pglite', 'postgres']),
    /** Where the data came from, without a password. */
    location: z.string(),
    /** PostgreSQL's `server_version` of the source. */
    serverVersion: z.string(),
    /** The TimescaleDB extension's version when the source had it (pg_dump's restore then needs its pre/post steps). */
    timescaledb: z.string().nullable(),
  }),
  dump: z.object({
    /** The dump's file name, in the manifest's folder. */
    file: z.string().min(1),
    bytes: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** pg_dump's version line, for a pg_dump; what made a logical dump. */
    tool: z.string().nullable(),
  }),
  migrations: z.object({
    applied: z.number().int().min(0),
    /** The newest applied migration's timestamp (drizzle's `created_at`, the journal's `when`). */
    latestCreatedAt: z.number().int().nullable(),
  }),
  /** Rows per table, `schema.table`, for every table of the database. */
  tables: z.record(z.string(), z.number().int().min(0)),
  totalRows: z.number().int().min(0),
  auditHead: auditHeadSchema,
  elapsedMs: z.number().min(0),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

/** The dump file's content is not what the manifest recorded, or the manifest is unreadable. */
export class BackupCorruptError extends ProductError {
  readonly category = 'bad_data' as const;
  constructor(message: string) {
    super(message);
    this.name = 'BackupCorruptError';
  }
}

/** Names of a new backup's two files, from its time (sortable: the newest sorts last). */
export function backupFileNames(kind: BackupKind, at: Date): { dump: string; manifest: string } {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  const base = `${NAME_PREFIX}${stamp}`;
  return { dump: `${base}${DUMP_SUFFIX[kind]}`, manifest: `${base}${MANIFEST_SUFFIX}` };
}

/** The manifest beside a dump file, or the manifest itself when that is what was named. */
export function manifestPathFor(file: string): string {
  if (file.endsWith(MANIFEST_SUFFIX)) return file;
  for (const suffix of Object.values(DUMP_SUFFIX)) {
    if (file.endsWith(suffix)) return `${file.slice(0, -suffix.length)}${MANIFEST_SUFFIX}`;
  }
  throw new UsageError(
    `${file} is not a backup file: expected a name ending in ${[...Object.values(DUMP_SUFFIX), MANIFEST_SUFFIX].join(', ')} (as backup create writes them)`,
  );
}

export interface OpenedBackup {
  readonly manifest: BackupManifest;
  readonly manifestPath: string;
  readonly dumpPath: string;
}

/**
 * Reads and checks a backup named by its dump file or its manifest: the manifest must parse,
 * and the dump must have the size and SHA-256 it records. Nothing else reads the dump before this.
 */
export async function openBackup(file: string): Promise<OpenedBackup> {
  const manifestPath = manifestPathFor(path.resolve(file));
  if (!fs.existsSync(file)) throw new UsageError(`${file} does not exist`);
  if (!fs.existsSync(manifestPath))
    throw new BackupCorruptError(`backup ${file} has no manifest: ${path.basename(manifestPath)} is missing beside it`);
  let manifest: BackupManifest;
  try {
    manifest = backupManifestSchema.parse(JSON.parse(fs.readFileSync(manifestPath, 'utf8')));
  } catch (error) {
    const why = error instanceof z.ZodError ? `${error.issues[0]?.path.join('.') ?? 'a field'} is wrong` : 'it is not JSON';
    throw new BackupCorruptError(`backup manifest ${manifestPath} is unreadable (${why})`);
  }
  const dumpPath = path.join(path.dirname(manifestPath), manifest.dump.file);
  if (!fs.existsSync(dumpPath)) throw new BackupCorruptError(`backup ${manifest.dump.file} is missing beside its manifest ${manifestPath}`);
  const bytes = fs.statSync(dumpPath).size;
  const sha256 = await sha256OfFile(dumpPath);
  if (sha256 !== manifest.dump.sha256)
    throw new BackupCorruptError(
      `backup ${dumpPath} is corrupt: its SHA-256 is ${sha256.slice(0, 16)}…, the manifest recorded ${manifest.dump.sha256.slice(0, 16)}…` +
        (bytes !== manifest.dump.bytes ? ` (${bytes} bytes, ${manifest.dump.bytes} recorded)` : ''),
    );
  return { manifest, manifestPath, dumpPath };
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Writes a file under a temporary name and renames it, so a crash never leaves half a file under the real name. */
export function writeFileAtomically(file: string, data: string | Uint8Array): void {
  const partial = `${file}.partial-${process.pid}`;
  fs.writeFileSync(partial, data, { mode: 0o600 });
  fs.renameSync(partial, file);
}

/** Backups in a folder (their manifests), oldest first. */
export function listBackups(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.startsWith(NAME_PREFIX) && name.endsWith(MANIFEST_SUFFIX))
    .sort()
    .map((name) => path.join(dir, name));
}

/**
 * Keeps the newest `keep` backups of a folder and deletes the older ones (manifest and dump);
 * only files this product named are touched. Returns the manifests deleted.
 */
export function pruneBackups(dir: string, keep: number): string[] {
  const all = listBackups(dir);
  const old = all.slice(0, Math.max(0, all.length - Math.max(1, keep)));
  for (const manifestPath of old) {
    const base = path.basename(manifestPath, MANIFEST_SUFFIX);
    for (const suffix of Object.values(DUMP_SUFFIX)) fs.rmSync(path.join(dir, `${base}${suffix}`), { force: true });
    fs.rmSync(manifestPath, { force: true });
  }
  return old;
}
