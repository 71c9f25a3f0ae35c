export {
  appendAudit,
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
export { canonicalJson, normalizeJson, sha256Hex } from './canonical.ts';
