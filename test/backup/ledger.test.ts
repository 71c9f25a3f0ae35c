import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackup, restoreBackup } from '../../backup/index.ts';
import { ErasureLedgerUnreadableError, readErasureLedger, recordErasure, type ErasureLedgerEntry } from '../../privacy/index.ts';
import { createTestDatabase } from '../support/databases.ts';

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
