import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows } from '../../db/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import { runCliHere } from '../support/cli.ts';

// `botcriptofy secrets rotate-master-key` on the embedded demo (its key in DATA_DIR/master.key):
// every sealed exchange key must read back, the same plaintext, under the new key only; a
// failure of any kind changes nothing.

type Sealed = {
  id: string;
  tenant_id: string;
  api_key_encrypted: string;
  api_secret_encrypted: string;
  passphrase_encrypted: string | null;
};

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-cli-rotate-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
const env = { DATA_DIR: dataDir, PAPER_MARKET: 'replay', LOG_LEVEL: 'error' };
const keyFile = path.join(dataDir, 'master.key');

async function withDatabase<T>(work: (db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>): Promise<T> {
  const handle = await openDatabase({ dataDir });
  try {
    return await work(handle.db);
  } finally {
    await handle.close();
  }
}

const readSealed = () =>
  withDatabase((db) =>
    queryRows<Sealed>(
      db,
      sql`select id, tenant_id, api_key_encrypted, api_secret_encrypted, passphrase_encrypted from exchange_accounts order by id`,
    ),
  );

function openAll(rows: readonly Sealed[], keyHex: string): string[] {
  const box = createSecretBox(Buffer.from(keyHex, 'hex'));
  return rows.flatMap((row) => [
    box.open(row.api_key_encrypted, `exchange_accounts:${row.tenant_id}:api_key`),
    box.open(row.api_secret_encrypted, `exchange_accounts:${row.tenant_id}:api_secret`),
    ...(row.passphrase_encrypted ? [box.open(row.passphrase_encrypted, `exchange_accounts:${row.tenant_id}:passphrase`)] : []),
  ]);
}

function writeKey(name: string, contents: string): string {
  const file = path.join(os.tmpdir(), `bcf-rotate-${process.pid}-${name}`);
  fs.writeFileSync(file, contents, { mode: 0o600 });
  return file;
}

describe('botcriptofy secrets rotate-master-key', { timeout: 300_000 }, () => {
  let before: Sealed[];
  let oldKey: string;
  let plaintexts: string[];

  beforeAll(async () => {
    const seeded = await runCliHere(['seed', '--demo', '--traders', '12', '--as-of', '2026-11-01'], env);
    expect(seeded.code, seeded.stderr).toBe(0);
    oldKey = fs.readFileSync(keyFile, 'utf8').trim();
    before = await readSealed();
    plaintexts = openAll(before, oldKey);
  });

  it('has exchange keys to rotate in the demo', () => {
    expect(before.length).toBeGreaterThan(0);
    expect(plaintexts.every((text) => text.length > 0)).toBe(true);
  });

  it('refuses a malformed key file and the key already in use, with exit 2 and nothing changed', async () => {
    const short = await runCliHere(['secrets', 'rotate-master-key', '--new-key-file', writeKey('short', 'abc123\n')], env);
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('expected 64 hex characters');
    const missing = await runCliHere(['secrets', 'rotate-master-key', '--new-key-file', path.join(dataDir, 'no-such-file')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ENOENT');
    const same = await runCliHere(['secrets', 'rotate-master-key', '--new-key-file', writeKey('same', `${oldKey}\n`)], env);
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('already in use');
    expect(await readSealed()).toEqual(before);
  });

  it('refuses while a process is ticking bots (exit 1), naming it', async () => {
    await withDatabase((db) =>
      db.execute(
        sql`insert into bot_ticks (bot_id, slot_at, worker_id, owner_epoch) select id, now(), 'worker-still-running', 1 from bots limit 1`,
      ),
    );
    const refused = await runCliHere(
      ['secrets', 'rotate-master-key', '--new-key-file', writeKey('busy', `${crypto.randomBytes(32).toString('hex')}\n`)],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('worker-still-running');
    expect(await readSealed()).toEqual(before);
    await withDatabase((db) => db.execute(sql`delete from bot_ticks where worker_id = 'worker-still-running'`));
  });

  it('seals every value again under the new key, replaces the demo key file and records it in the audit chain', async () => {
    const newKey = crypto.randomBytes(32).toString('hex');
    const result = await runCliHere(
      ['secrets', 'rotate-master-key', '--new-key-file', writeKey('new', `${newKey.toUpperCase()}\n`), '--json'],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { accounts: number; values: number; keySource: string; keyFileReplaced: boolean };
    expect(summary).toEqual({ accounts: before.length, values: plaintexts.length, keySource: 'data-dir', keyFileReplaced: true });
    expect(fs.readFileSync(keyFile, 'utf8').trim()).toBe(newKey);
    expect((fs.statSync(keyFile).mode & 0o777).toString(8)).toBe('600');

    const after = await readSealed();
    expect(after.map((row) => row.id)).toEqual(before.map((row) => row.id));
    for (const [i, row] of after.entries()) expect(row.api_key_encrypted).not.toBe(before[i]!.api_key_encrypted);
    expect(openAll(after, newKey)).toEqual(plaintexts);
    expect(() => openAll(after, oldKey)).toThrow(/Cannot decrypt/);

    const audit = await withDatabase((db) =>
      queryRows<{ details: { accounts: number; values: number }; actor_kind: string }>(
        db,
        sql`select details, actor_kind from audit_log where action = 'secrets.master_key_rotated'`,
      ),
    );
    expect(audit).toEqual([{ details: { accounts: before.length, values: plaintexts.length }, actor_kind: 'staff' }]);
    const verified = await runCliHere(['audit', 'verify', '--json'], env);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true });
  });

  it('names the account and changes nothing when a value does not open with the current key', async () => {
    const current = fs.readFileSync(keyFile, 'utf8').trim();
    const rows = await readSealed();
    // One row sealed under a key nobody has: the rotation must stop at it and roll back.
    const stranger = createSecretBox(crypto.randomBytes(32));
    const victim = rows[rows.length - 1]!;
    await withDatabase((db) =>
      db.execute(
        sql`update exchange_accounts set api_secret_encrypted = ${stranger.seal('x', `exchange_accounts:${victim.tenant_id}:api_secret`)} where id = ${victim.id}`,
      ),
    );
    const tampered = await readSealed();
    const result = await runCliHere(
      ['secrets', 'rotate-master-key', '--new-key-file', writeKey('again', `${crypto.randomBytes(32).toString('hex')}\n`)],
      env,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`exchange account ${victim.id} (api_secret)`);
    expect(await readSealed()).toEqual(tampered);
    expect(fs.readFileSync(keyFile, 'utf8').trim()).toBe(current);
  });
});
