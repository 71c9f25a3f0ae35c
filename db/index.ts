export * from './schema/index.ts';
export {
  openDatabase,
  queryRows,
  runsStatementsOneAtATime,
  tableExists,
  DatabaseUnavailableError,
  EmbeddedFolderNotEmptyError,
  type Database,
  type DatabaseDriver,
  type DatabaseHandle,
  type OpenDatabaseOptions,
  type Schema,
} from './client.ts';
export { analyzeDatabase, maintainEmbeddedDatabase } from './maintenance.ts';
export { runMigrations, migrationStatus, migrationsFolder, type MigrationStatus } from './migrate.ts';
export {
  tenantScope,
  assertTenantScope,
  selectScoped,
  getScoped,
  insertScoped,
  isTenantOwned,
  TenantScopeError,
  type TenantScope,
  type TenantOwnedTable,
} from './tenant-scope.ts';
export { tenantData, type TenantData } from './tenant-data.ts';
export {
  claimIdempotencyKey,
  forgetExpiredIdempotencyKeys,
  IDEMPOTENCY_WINDOW_MS,
  recordIdempotentResponse,
  releaseIdempotencyKey,
  type IdempotencyClaim,
} from './idempotency.ts';
export { companyCeo, companyTenantId, listStaff, type StaffMember } from './staff.ts';
export { roundTrip, settingValue } from './settings.ts';
export { PostgresMemoryStorage } from './mastra-memory.ts';
export { PostgresWorkflowsStorage } from './mastra-workflows.ts';
