import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { createBackup, restoreBackup, serverBackupFormats, verifyBackup } from '../../backup/index.ts';
import { UsageError } from '../../errors/index.ts';
import { loadConfig, type Config } from '../../config/index.ts';
import { withRuntime } from '../open-runtime.ts';
import { VERSION } from '../version.ts';

const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
const shortHash = (hash: string) => `${hash.slice(0, 16)}…`;

export async function backupCreateCommand(options: { out?: string; format?: string; json?: boolean }): Promise<void> {
  const format = z.enum(serverBackupFormats).optional().safeParse(options.format);
  if (!format.success) throw new UsageError(`--format ${options.format}: expected one of ${serverBackupFormats.join(', ')}`);
  await withRuntime(async ({ config, database }) => {
    if (format.data && format.data !== 'auto' && !config.database.url)
      throw new UsageError(
        `--format ${format.data} applies to a PostgreSQL server (DATABASE_URL): the embedded database is backed up as its data-folder image`,
      );
    const created = await createBackup({
      handle: database,
      url: config.database.url,
      outDir: options.out ? path.resolve(options.out) : config.backup.dir,
      productVersion: VERSION,
      actorId: 'cli',
      format: format.data ?? config.backup.format,
    });
    const { manifest } = created;
    if (options.json) {
      console.log(JSON.stringify({ dump: created.dumpPath, manifestPath: created.manifestPath, manifest }));
      return;
    }
    console.log(`Backup of ${database.location} written in ${(manifest.elapsedMs / 1000).toFixed(1)} s:`);
    console.log(
      `  dump      ${created.dumpPath} (${manifest.kind}, ${megabytes(manifest.dump.bytes)}, SHA-256 ${shortHash(manifest.dump.sha256)})`,
    );
    console.log(`  manifest  ${created.manifestPath}`);
    console.log(
      `  ${Object.keys(manifest.tables).length} tables, ${manifest.totalRows} rows, ${manifest.migrations.applied} migrations, ` +
        `audit head row ${manifest.auditHead.lastId ?? 'none'} ${shortHash(manifest.auditHead.lastHash)}`,
    );
    console.log(`Check it with: botcriptofy backup verify ${created.dumpPath}`);
  });
}

/** The erasure ledger this deployment keeps, and the one next to the backup (its BACKUP_DIR's, when the backup was copied with it). */
function erasureLedgers(config: Config, file: string): string[] {
  return [config.backup.erasureLedgerFile, path.join(path.dirname(path.resolve(file)), 'erasure-ledger.jsonl')];
}

export async function backupVerifyCommand(file: string, options: { json?: boolean }): Promise<void> {
  const config = loadConfig();
  const verified = await verifyBackup(file, { url: config.database.url, erasureLedgers: erasureLedgers(config, file) });
  if (options.json) {
    const { manifest, ...check } = verified;
    console.log(JSON.stringify({ ok: true, ...check, createdAt: manifest.createdAt, kind: manifest.kind }));
    return;
  }
  console.log(
    `Backup OK: ${verified.dumpPath} (made ${verified.manifest.createdAt}): SHA-256 matches; restored into ${verified.scratch}, ` +
      `${verified.tables} tables hold the manifest's ${verified.totalRows} rows; audit chain intact over ${verified.auditRowsVerified} rows ` +
      `up to the recorded head (row ${verified.auditHead.lastId ?? 'none'}, ${shortHash(verified.auditHead.lastHash)}).`,
  );
  if (verified.erasuresToReapply > 0)
    console.log(`It holds ${verified.erasuresToReapply} person(s) erased since (the erasure ledger): a restore of it erases them again.`);
}

export async function backupRestoreCommand(file: string, options: { json?: boolean }): Promise<void> {
  const config = loadConfig();
  const restored = await restoreBackup({
    file,
    url: config.database.url,
    dataDir: config.dataDir,
    actorId: 'cli',
    erasureLedgers: erasureLedgers(config, file),
  });
  if (options.json) {
    const { manifest, ...check } = restored;
    console.log(JSON.stringify({ ok: true, ...check, createdAt: manifest.createdAt, kind: manifest.kind }));
    return;
  }
  console.log(
    `Restored ${path.basename(file)} (made ${restored.manifest.createdAt}) into ${restored.location}: ` +
      `${restored.tables} tables hold the manifest's ${restored.totalRows} rows; audit chain intact over ${restored.auditRowsVerified} rows ` +
      `up to the recorded head (row ${restored.auditHead.lastId ?? 'none'}, ${shortHash(restored.auditHead.lastHash)}); the restore is in the audit log.`,
  );
  console.log(
    restored.erasuresReapplied > 0
      ? `Erasure ledger: ${restored.erasuresReapplied} person(s) erased after this backup was made were in it, and were erased again.`
      : 'Erasure ledger: nobody erased after this backup was made was in it.',
  );
  // Exchange keys in the data are sealed under the source's key, which is never in a backup.
  if (!config.masterKey && !fs.existsSync(path.join(config.dataDir, 'master.key')))
    console.log(
      "Before starting: set MASTER_KEY to the source's key (or copy its DATA_DIR/master.key here), or stored exchange keys cannot be read.",
    );
}
