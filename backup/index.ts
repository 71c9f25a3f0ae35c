/**
 * Backups you can trust: a dump of the whole database with a manifest (row counts per table,
 * the audit chain's head, the migration level, the dump's SHA-256), checked by restoring it
 * into a scratch database, and restored only into an empty one. The embedded database is
 * copied as PGlite's data-folder image; a server with pg_dump's custom format.
 */
export {
  createBackup,
  verifyBackup,
  restoreBackup,
  RestoreTargetNotEmptyError,
  BackupUnavailableError,
  type CreateBackupOptions,
  type CreatedBackup,
  type VerifiedBackup,
  type RestoreOptions,
  type RestoredBackup,
} from './service.ts';
export {
  BackupCorruptError,
  backupManifestSchema,
  backupKinds,
  listBackups,
  pruneBackups,
  type BackupKind,
  type BackupManifest,
  type AuditHead,
} from './manifest.ts';
export { runScheduledBackup, lastBackupAt, type ScheduledBackupResult } from './schedule.ts';
export { takeInventory, type Inventory, type RestoreCheck } from './inventory.ts';
export { BackupToolFailedError, BackupToolUnavailableError } from './pg-tools.ts';
