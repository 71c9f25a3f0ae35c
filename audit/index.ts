export {
  appendAudit,
  appendAuditOnce,
  boundAuditJson,
  MAX_AUDIT_JSON_CHARS,
  verifyAuditChain,
  hashAuditRow,
  auditEntrySchema,
  auditActorKinds,
  auditOutcomes,
  GENESIS_HASH,
  type AuditEntry,
  type AppendedAuditRow,
  type AuditVerification,
} from './log.ts';
export { canonicalJson, normalizeJson, sha256Hex, storableText } from './canonical.ts';
