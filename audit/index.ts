export {
  appendAudit,
  appendAuditOnce,
  boundAuditJson,
  MAX_AUDIT_JSON_CHARS,
  verifyAuditChain,
  hashAuditRow,
  personalDigest,
  auditEntrySchema,
  auditActorKinds,
  auditOutcomes,
  GENESIS_HASH,
  type AuditEntry,
  type AppendedAuditRow,
  type AuditVerification,
} from './log.ts';
export { auditRowsNaming, redactAuditRows, redactionDigest, type RedactedFields, type RedactionResult } from './redaction.ts';
export type { ChainRow as AuditChainRow, HashedContent as AuditRowContent } from './log.ts';
export { canonicalDigest, canonicalJson, canonicalNormalizedJson, normalizeJson, sha256Hex, storableText } from './canonical.ts';
