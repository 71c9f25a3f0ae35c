/**
 * Backups you can trust: a dump of the whole database with a manifest (row counts per table,
 * the audit chain's head, the migration level, the dump's SHA-256), checked by restoring it
 * into a scratch database, and restored only into an empty one. The embedded database is
 * copied as PGlite's data-folder image; a server with pg_dump's custom format, or, without a
 * pg_dump as new as the server, a logical dump through SQL (COPY of every table).
 */
export {
  createBackup,
  verifyBackup,
  restoreBackup,
  RestoreTargetNotEmptyError,
  BackupUnavailableError,
  serverBackupFormats,
  type ServerBackupFormat,
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
export { BackupToolFailedError, BackupToolUnavailableError, findPgTool, type PgTool } from './pg-tools.ts';
export { LOGICAL_FORMAT } from './logical.ts';
export { RestoreUndoneError } from './undo.ts';
export {
  RestoreTargetUnsuitableError,
  timescaleOnTarget,
  timescaleRestorePlan,
  withTimescaleRestore,
  type TimescaleOnTarget,
  type TimescaleRestorePlan,
} from './timescale.ts';
