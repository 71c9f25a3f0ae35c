import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ProductError } from '../errors/index.ts';

/**
 * AES-256-GCM for secrets at rest (exchange API keys). A sealed value is
 * `v1.<iv>.<tag>.<ciphertext>` in base64url. The context (e.g. the owning tenant and the
 * column) is bound as additional data, so a ciphertext copied to another row fails to open.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

export class MissingMasterKeyError extends ProductError {
  readonly category = 'unavailable' as const;
  constructor() {
    super(
      'MASTER_KEY is not set, and it is needed to store or read exchange API keys. ' +
        'Generate one with `openssl rand -hex 32` and set MASTER_KEY (64 hex characters); keep it safe, ' +
        'since keys stored under it cannot be read without it.',
    );
    this.name = 'MissingMasterKeyError';
  }
}

/** A stored secret does not open: most often MASTER_KEY is not the key it was sealed under. */
export class SecretDecryptionError extends ProductError {
  readonly category = 'config' as const;
  constructor(reason: string) {
    super(`Cannot decrypt a stored secret: ${reason}`);
    this.name = 'SecretDecryptionError';
  }
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A box over `masterKey`; without a key, every call throws MissingMasterKeyError. */
export function createSecretBox(masterKey: Buffer | undefined): SecretBox {
  if (masterKey !== undefined && masterKey.length !== 32) {
    throw new Error(`MASTER_KEY must be 32 bytes, got ${masterKey.length}`);
  }
  const key = masterKey;
  return {
    seal(plaintext, context) {
      if (!key) throw new MissingMasterKeyError();
      const iv = crypto.randomBytes(IV_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), ciphertext]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },
    open(sealed, context) {
      if (!key) throw new MissingMasterKeyError();
      const parts = sealed.split('.');
      if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretDecryptionError('unknown format');
      const [, ivText, tagText, dataText] = parts as [string, string, string, string];
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tagText, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(dataText, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretDecryptionError('wrong master key, wrong owner, or the value was altered');
      }
    },
  };
}

export interface MasterKeyResolution {
  readonly key: Buffer | undefined;
  /** Where the key came from; `generated` means a new demo key was just written. */
  readonly source: 'environment' | 'data-dir' | 'generated' | 'none';
  readonly path?: string;
}

/**
 * The key from MASTER_KEY when set. For the embedded demo only, a key kept in the data
 * folder (created on first use) so the demo works out of the box; real deployments set
 * MASTER_KEY. With an external database and no MASTER_KEY, there is no key, and storing a
 * secret fails with a clear error.
 */
export function resolveMasterKey(options: {
  fromEnvironment: Buffer | undefined;
  embedded: boolean;
  dataDir: string;
  /** False once secrets are stored: a new key could not open them, so none is made. */
  mayGenerate?: boolean;
}): MasterKeyResolution {
  if (options.fromEnvironment) return { key: options.fromEnvironment, source: 'environment' };
  if (!options.embedded) return { key: undefined, source: 'none' };
  const keyPath = path.join(options.dataDir, 'master.key');
  if (fs.existsSync(keyPath)) {
    const text = fs.readFileSync(keyPath, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(text)) {
      throw new Error(`${keyPath} is not a 64-character hex key; restore it or set MASTER_KEY.`);
    }
    return { key: Buffer.from(text, 'hex'), source: 'data-dir', path: keyPath };
  }
  if (options.mayGenerate === false) return { key: undefined, source: 'none', path: keyPath };
  fs.mkdirSync(options.dataDir, { recursive: true });
  const key = crypto.randomBytes(32);
  fs.writeFileSync(keyPath, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, source: 'generated', path: keyPath };
}

/** Last four characters, the only part of an API key ever shown. */
export function keyHint(apiKey: string): string {
  return apiKey.slice(-4);
}
