import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSecretBox, MissingMasterKeyError, resolveMasterKey, SecretDecryptionError } from '../secrets/index.ts';

describe('secrets at rest (AES-256-GCM)', () => {
  const box = createSecretBox(crypto.randomBytes(32));

  it('seals and opens, with a fresh IV every time', () => {
    const a = box.seal('my-api-key', 'exchange_accounts:t1:api_key');
    const b = box.seal('my-api-key', 'exchange_accounts:t1:api_key');
    expect(a).not.toBe(b);
    expect(a).not.toContain('my-api-key');
    expect(box.open(a, 'exchange_accounts:t1:api_key')).toBe('my-api-key');
  });

  it('refuses a ciphertext moved to another owner', () => {
    const sealed = box.seal('secret', 'exchange_accounts:t1:api_key');
    expect(() => box.open(sealed, 'exchange_accounts:t2:api_key')).toThrow(SecretDecryptionError);
  });

  it('refuses a tampered ciphertext and another key', () => {
    const sealed = box.seal('secret', 'ctx');
    const parts = sealed.split('.');
    const data = Buffer.from(parts[3]!, 'base64url');
    data[0] = data[0]! ^ 1;
    parts[3] = data.toString('base64url');
    expect(() => box.open(parts.join('.'), 'ctx')).toThrow(SecretDecryptionError);
    expect(() => createSecretBox(crypto.randomBytes(32)).open(sealed, 'ctx')).toThrow(SecretDecryptionError);
  });

  it('says clearly that MASTER_KEY is missing when a secret is stored without one', () => {
    const keyless = createSecretBox(undefined);
    expect(() => keyless.seal('x', 'ctx')).toThrow(MissingMasterKeyError);
    expect(() => keyless.seal('x', 'ctx')).toThrow(/MASTER_KEY is not set/);
  });

  it('generates and keeps a demo key in the data folder only for the embedded database', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-key-'));
    expect(resolveMasterKey({ fromEnvironment: undefined, embedded: false, dataDir: dir })).toEqual({ key: undefined, source: 'none' });
    const first = resolveMasterKey({ fromEnvironment: undefined, embedded: true, dataDir: dir });
    expect(first.source).toBe('generated');
    expect(fs.statSync(path.join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    const second = resolveMasterKey({ fromEnvironment: undefined, embedded: true, dataDir: dir });
    expect(second.source).toBe('data-dir');
    expect(second.key).toEqual(first.key);
    const fromEnv = crypto.randomBytes(32);
    expect(resolveMasterKey({ fromEnvironment: fromEnv, embedded: true, dataDir: dir }).key).toBe(fromEnv);
    fs.rmSync(dir, { recursive: true });
  });
});
