import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../audit/index.ts';
import { createBackup, restoreBackup } from '../../backup/index.ts';
import { BillingService } from '../../billing/index.ts';
import { openDatabase, queryRows } from '../../db/index.ts';
import {
  ErasureLedgerUnreadableError,
  readErasureLedger,
  recordErasure,
  useErasureLedger,
  type ErasureLedgerEntry,
} from '../../privacy/index.ts';
import { invokeTool, TOOLS } from '../../tools/index.ts';
import { createTestDatabase, TEST_DATABASE_URL, testDrivers } from '../support/databases.ts';

// The erasure ledger's file (privacy/ledger.ts): what a line holds, that a damaged line is
// named (not skipped: a skipped erasure would come back with a restore), and that a restore
// reads it before writing anything. Its end-to-end use (backup → erase → restore) is in
// backup.test.ts on both drivers.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-ledger-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const entry = (at: string, pseudonym: string): ErasureLedgerEntry => ({
  at,
  userId: crypto.randomUUID(),
  pseudonym,
  auditId: 7,
});

describe('the erasure ledger', () => {
  it('appends one line per erasure in a file only this user reads, and reads them back oldest first across files, each once', () => {
    const file = path.join(tmp, 'a', 'erasure-ledger.jsonl');
    const other = path.join(tmp, 'b', 'erasure-ledger.jsonl');
    const first = entry('2026-11-02T10:00:00.000Z', 'erased-aaaaaaaaaaaa');
    const second = entry('2026-11-01T10:00:00.000Z', 'erased-bbbbbbbbbbbb');
    recordErasure(first, file);
    recordErasure(second, file);
    recordErasure(first, other); // the same erasure in a copy next to the backups
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(readErasureLedger([file, other, path.join(tmp, 'missing.jsonl')])).toEqual([second, first]);
    // Nowhere set: nothing written (a test's own database, a bench).
    recordErasure(entry('2026-11-03T10:00:00.000Z', 'erased-cccccccccccc'), undefined);
    expect(readErasureLedger([file])).toHaveLength(2);
  });

  it('refuses anything but an erasure record: an email has no place in it', () => {
    expect(() =>
      recordErasure(
        { ...entry('2026-11-02T10:00:00.000Z', 'erased-x'), email: 'ana@example.com' } as ErasureLedgerEntry,
        path.join(tmp, 'c.jsonl'),
      ),
    ).toThrow();
    expect(fs.existsSync(path.join(tmp, 'c.jsonl'))).toBe(false);
  });

  it('names the damaged line instead of skipping it, and a restore is refused before anything is written', async () => {
    const file = path.join(tmp, 'damaged.jsonl');
    fs.writeFileSync(file, `${JSON.stringify(entry('2026-11-02T10:00:00.000Z', 'erased-dddddddddddd'))}\n{"at": "yesterday"}\n`);
    expect(() => readErasureLedger([file])).toThrow(ErasureLedgerUnreadableError);
    expect(() => readErasureLedger([file])).toThrow(
      new RegExp(`^erasure ledger ${file.replaceAll('.', '\\.')}, line 2, is not an erasure record: repair or remove that line`),
    );
    const database = await createTestDatabase('pglite');
    try {
      const created = await createBackup({
        handle: database.handle,
        outDir: path.join(tmp, 'backups'),
        productVersion: 'test',
        actorId: 'test',
      });
      const dataDir = path.join(tmp, 'restored');
      await expect(restoreBackup({ file: created.dumpPath, dataDir, actorId: 'test', erasureLedgers: [file] })).rejects.toThrow(
        ErasureLedgerUnreadableError,
      );
      expect(fs.existsSync(path.join(dataDir, 'pglite'))).toBe(false);
      // With the line repaired it restores, and nobody in this backup was erased since.
      fs.writeFileSync(file, `${JSON.stringify(entry('2026-11-02T10:00:00.000Z', 'erased-dddddddddddd'))}\n`);
      const restored = await restoreBackup({ file: created.dumpPath, dataDir, actorId: 'test', erasureLedgers: [file] });
      expect(restored.erasuresReapplied).toBe(0);
    } finally {
      await database.dispose();
    }
  });
});

describe.each(testDrivers)('a person known only as a lead, erased after a backup, on %s', { timeout: 300_000 }, (driver) => {
  it('stays erased when the backup is restored: the ledger names the lead row, never the email', async () => {
    const database = await createTestDatabase(driver);
    const dir = fs.mkdtempSync(path.join(tmp, `lead-${driver}-`));
    const ledgerFile = path.join(dir, 'erasure-ledger.jsonl');
    const email = 'lead.only@example.com';
    const admin = driver === 'postgres' ? postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} }) : undefined;
    const restoredName = `bcf_lead_${crypto.randomBytes(4).toString('hex')}`;
    try {
      const db = database.handle.db;
      const [lead] = await queryRows<{ id: string }>(
        db,
        sql`insert into leads (name, email, source, notes) values ('Lia Somente Lead', ${email}, 'site', 'quer o plano Pro') returning id::text as id`,
      );
      const created = await createBackup({
        handle: database.handle,
        url: database.url,
        outDir: path.join(dir, 'backups'),
        productVersion: 'test',
        actorId: 'test',
      });
      // Erased through the tool, as the CLI and an approval do: the ledger gets the erasure.
      useErasureLedger(ledgerFile);
      try {
        const erased = await invokeTool(
          TOOLS,
          { db, actor: { kind: 'system', name: 'test' }, billing: new BillingService(db, undefined), now: () => new Date() },
          'privacy_erase',
          { email },
        );
        expect(erased).toMatchObject({ ok: true, result: { personFound: true } });
      } finally {
        useErasureLedger(undefined);
      }
      const ledger = fs.readFileSync(ledgerFile, 'utf8');
      expect(readErasureLedger([ledgerFile])).toEqual([
        {
          at: expect.any(String),
          userId: null,
          leadIds: [lead!.id],
          pseudonym: expect.stringMatching(/^erased-/),
          auditId: expect.any(Number),
        },
      ]);
      expect(ledger).not.toContain(email);
      expect(ledger).not.toContain('Lia');

      // Restored into an empty place, the lead (back with its email from the backup) is erased again.
      let url: string | undefined;
      if (admin) {
        await admin.unsafe(`create database "${restoredName}"`);
        const target = new URL(TEST_DATABASE_URL);
        target.pathname = `/${restoredName}`;
        url = target.toString();
      }
      const dataDir = path.join(dir, 'restored');
      const restored = await restoreBackup({ file: created.dumpPath, url, dataDir, actorId: 'test', erasureLedgers: [ledgerFile] });
      expect(restored.erasuresReapplied).toBe(1);
      const again = url ? await openDatabase({ url, dataDir: '' }) : await openDatabase({ dataDir });
      try {
        const [row] = await queryRows<{ email: string; name: string; notes: string | null }>(
          again.db,
          sql`select email, name, notes from leads where id = ${lead!.id}::uuid`,
        );
        expect(row).toMatchObject({ email: expect.stringMatching(/^erased-[0-9a-f]{12}@erased\.invalid$/), notes: null });
        expect(row!.name).toMatch(/^Erased person /);
        const [{ n } = { n: -1 }] = await queryRows<{ n: number }>(
          again.db,
          sql`select count(*)::int as n from leads where lower(email) = ${email} or name = 'Lia Somente Lead'`,
        );
        expect(n).toBe(0);
        const [last] = await queryRows<{ action: string; actor_id: string }>(
          again.db,
          sql`select action, actor_id from audit_log order by id desc limit 1`,
        );
        expect(last).toEqual({ action: 'privacy.erasure', actor_id: 'system:backup-restore' });
        expect((await verifyAuditChain(again.db)).ok).toBe(true);
      } finally {
        await again.close();
      }
    } finally {
      await database.dispose();
      if (admin) {
        await admin.unsafe(`drop database if exists "${restoredName}" with (force)`);
        await admin.end({ timeout: 1 });
      }
    }
  });
});
