import crypto from 'node:crypto';

// An email a request named, as the audit log may keep it when the request did not go through
// (no one holds the email, or the asker may not ask): a keyed digest, never the address. The
// key is derived from the master key (set by the runtime at start), so the digest of a guessed
// address cannot be computed from the database or a copy of the log alone; with the master key,
// an operator can still tell whether a given address was asked about. Without a master key
// (a test's own database) the key is random for the process: digests are then comparable only
// within it. A new master key (`secrets rotate-master-key`) starts new digests.

const KEY_LABEL = 'botcriptofy/privacy/email-lookup/v1';

let lookupKey: Buffer | undefined;

/** The key this process digests emails with from now on, derived from the master key; undefined: a random one. */
export function usePrivacyLookupKey(masterKey: Buffer | undefined): void {
  lookupKey = masterKey ? crypto.createHmac('sha256', masterKey).update(KEY_LABEL).digest() : undefined;
}

/** `email-hmac:` and 32 hex digits of HMAC-SHA256 over the address in lower case. */
export function emailLookupDigest(email: string): string {
  lookupKey ??= crypto.randomBytes(32);
  const mac = crypto.createHmac('sha256', lookupKey).update(email.trim().toLowerCase()).digest('hex');
  return `email-hmac:${mac.slice(0, 32)}`;
}
