export {
  createSecretBox,
  keyHint,
  MissingMasterKeyError,
  resolveMasterKey,
  SecretDecryptionError,
  type MasterKeyResolution,
  type SecretBox,
} from './box.ts';
export { resealStoredSecrets, type ResealResult } from './reseal.ts';
export { hasStoredSecrets } from './stored.ts';
