export {
  exportPersonData,
  exportTableObjects,
  writePersonExport,
  EXPORT_EXCLUDED,
  EXPORT_SOURCES,
  PERSON_EXPORT_FORMAT,
  type ExportSink,
  type ExportTable,
  type PersonExport,
  type PersonExportHead,
} from './export.ts';
export { emailLookupDigest, usePrivacyLookupKey } from './lookup.ts';
export {
  notStoredExport,
  PRIVACY_EXPORT_CATEGORY,
  privacyExportSlug,
  storedPersonExport,
  storePersonExport,
  type StoredExportDocument,
  type StoredPersonExport,
} from './delivery.ts';
export { erasePerson, ERASED_TEXT, type ErasureActor, type ErasureResult } from './erase.ts';
export {
  erasureLedgerEntrySchema,
  erasureLedgerFile,
  erasuresUndone,
  ErasureLedgerUnreadableError,
  readErasureLedger,
  reapplyErasures,
  recordErasure,
  useErasureLedger,
  type ErasureLedgerEntry,
} from './ledger.ts';
export {
  CONSENT_DOCUMENTS,
  consentInputSchema,
  consentStatus,
  consentsOf,
  consentTexts,
  recordConsent,
  recordOwnConsent,
  type ConsentInput,
  type ConsentRecord,
  type ConsentStatus,
  type ConsentText,
} from './consent.ts';
export {
  applyRetention,
  runRetention,
  DEFAULT_RETENTION,
  parseRetentionSchedule,
  retentionScheduleSchema,
  RetentionScheduleError,
  type RetentionCounts,
  type RetentionSchedule,
} from './retention.ts';
export { findDataSubject, PersonNotFoundError, PrivacyRequestError, personEmailSchema, type DataSubject } from './subject.ts';
