export { exportPersonData, EXPORT_EXCLUDED, EXPORT_SOURCES, type PersonExport } from './export.ts';
export { erasePerson, ERASED_TEXT, type ErasureActor, type ErasureResult } from './erase.ts';
export { consentInputSchema, consentsOf, recordConsent, type ConsentInput, type ConsentRecord } from './consent.ts';
export {
  applyRetention,
  runRetention,
  DEFAULT_RETENTION,
  retentionScheduleSchema,
  type RetentionCounts,
  type RetentionSchedule,
} from './retention.ts';
export { findDataSubject, PersonNotFoundError, PrivacyRequestError, personEmailSchema, type DataSubject } from './subject.ts';
