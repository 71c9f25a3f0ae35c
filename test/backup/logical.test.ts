import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import zlib from 'node:zlib';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackupToolUnavailableError,
  backupManifestSchema,
  createBackup,
  LOGICAL_FORMAT,
  takeInventory,
  type CreatedBackup,
  type PgTool,
} from '../../backup/index.ts';
import { migrationStatus, openDatabase, queryRows } from '../../db/index.ts';
import { runCliHere } from '../support/cli.ts';
import { createTestDatabase, realPostgresAvailable, TEST_DATABASE_URL, type TestDatabase } from '../support/databases.ts';

// The logical dump (issue 18's documented alternative to pg_dump), on the real PostgreSQL, in
// databases of this run's own (created from TEST_DATABASE_URL, dropped at the end): chosen by
// `auto` when the only pg_dump is older than the server (the lookup is injected, so the test
// does not depend on this machine's client); the demo company restored from it into an empty
// database with the same rows and an audit chain that ends at the recorded head; a corrupted
// file and a restore over live data refused.

const masterKey = crypto.randomBytes(32).toString('hex');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-logical-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** pg_dump 15 in front of a newer server: what the container (none) or Debian 12 (15) offers against PostgreSQL 17. */
const tooOldPgDump = async (serverMajor: number): Promise<PgTool> => {
  throw new BackupToolUnavailableError(
    `pg_dump ${serverMajor - 1} (/usr/bin/pg_dump) is older than the server (PostgreSQL ${serverMajor}) and cannot read its data`,
  );
};

describe.runIf(realPostgresAvailable)('the logical backup (COPY through SQL) on PostgreSQL', { timeout: 900_000 }, () => {
  let source: TestDatabase;
  let created: CreatedBackup;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  const emptyName = `bcf_logical_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const emptyUrl = (() => {
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${emptyName}`;
    return url.toString();
  })();
  const env = (url: string) => ({ DATA_DIR: path.join(tmp, 'data'), DATABASE_URL: url, LOG_LEVEL: 'error', MASTER_KEY: masterKey });

  beforeAll(async () => {
    source = await createTestDatabase('postgres', { poolMax: 2 });
    const seeded = await runCliHere(['seed', '--demo', '--traders', '12', '--as-of', '2026-11-01'], env(source.url!));
    expect(seeded.code, seeded.stderr).toBe(0);
    created = await createBackup({
      handle: source.handle,
      url: source.url,
      outDir: path.join(tmp, 'out'),
      productVersion: 'test',
      actorId: 'test',
      findPgDump: tooOldPgDump,
    });
    await admin.unsafe(`create database "${emptyName}"`);
  }, 600_000);
  afterAll(async () => {
    await source?.dispose();
    await admin.unsafe(`drop database if exists "${emptyName}" with (force)`);
    await admin.end({ timeout: 1 });
  });

  it('auto falls back to it when pg_dump is older than the server: a gzip of per-table COPY sections, with the usual manifest', async () => {
    const { manifest } = created;
    expect(manifest.kind).toBe('logical-copy');
    expect(created.dumpPath).toMatch(/botcriptofy-\d{8}T\d{6}Z\.logical\.gz$/);
    expect(manifest.dump.tool).toMatch(/logical dump/);
    expect(manifest.dump.sha256).toBe(crypto.createHash('sha256').update(fs.readFileSync(created.dumpPath)).digest('hex'));
    expect(manifest.tables['public.trades']).toBeGreaterThan(0);
    expect(manifest.migrations.applied).toBeGreaterThan(0);
    // The file's sections: a header, then per table its name, columns and rows, the rows, `\.`.
    const lines = readline.createInterface({ input: fs.createReadStream(created.dumpPath).pipe(zlib.createGunzip()) });
    const sections: Record<string, number> = {};
    let header: { format: string; tables: string[]; migrations: unknown[]; sequences: { name: string }[] } | undefined;
    let current: { table: string; rows: number } | undefined;
    let rows = 0;
    for await (const line of lines) {
      if (!header) header = JSON.parse(line);
      else if (!current) {
        current = JSON.parse(line);
        rows = 0;
      } else if (line === '\\.') {
        expect(rows, current.table).toBe(current.rows);
        sections[current.table] = rows;
        current = undefined;
      } else rows++;
    }
    expect(header?.format).toBe(LOGICAL_FORMAT);
    expect(header?.migrations).toHaveLength(manifest.migrations.applied);
    expect(header?.sequences.map((sequence) => sequence.name)).toContain('public.audit_log_id_seq');
    expect(sections).toEqual(manifest.tables);
    // Tables referenced by foreign keys come first (tenants before the trades that name them).
    expect(header!.tables.indexOf('public.tenants')).toBeLessThan(header!.tables.indexOf('public.trades'));
  });

  it('restores into an empty database: identical row counts, audit verify passes with the recorded head, sequences continue', async () => {
    const result = await runCliHere(['backup', 'restore', created.dumpPath, '--json'], env(emptyUrl));
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, kind: 'logical-copy', totalRows: created.manifest.totalRows });
    const handle = await openDatabase({ url: emptyUrl, dataDir: '' });
    try {
      const restored = (await takeInventory(handle.db)).tables;
      expect(Object.keys(restored).sort()).toEqual(Object.keys(created.manifest.tables).sort());
      for (const [table, rows] of Object.entries(created.manifest.tables))
        expect(restored[table], table).toBe(table === 'public.audit_log' ? rows + 1 : rows);
      const [last] = await queryRows<{ id: number; action: string; prev_hash: string }>(
        handle.db,
        sql`select id, action, prev_hash from audit_log order by id desc limit 1`,
      );
      // The restore's own audit row took the next id of the restored sequence, after the recorded head.
      expect(last).toMatchObject({ action: 'backup.restore', prev_hash: created.manifest.auditHead.lastHash });
      expect(Number(last!.id)).toBe(created.manifest.auditHead.lastId! + 1);
      // At the dump's migration level (this build's): the product's migrator has nothing left to apply.
      expect(await migrationStatus(handle)).toMatchObject({ applied: created.manifest.migrations.applied, pending: 0 });
    } finally {
      await handle.close();
    }
    const audit = await runCliHere(['audit', 'verify', '--json'], env(emptyUrl));
    expect(audit.code, audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true, rowsChecked: created.manifest.auditHead.rows + 1 });
  });

  it('verify restores it into a scratch database and drops it', async () => {
    const result = await runCliHere(['backup', 'verify', created.dumpPath, '--json'], env(source.url!));
    expect(result.code, result.stderr).toBe(0);
    const verified = JSON.parse(result.stdout);
    expect(verified).toMatchObject({ ok: true, kind: 'logical-copy', auditRowsVerified: created.manifest.auditHead.rows });
    const scratch = /botcriptofy_verify_[0-9a-f]+/.exec(verified.scratch)?.[0];
    expect(await admin`select 1 from pg_database where datname = ${scratch!}`).toHaveLength(0);
  });

  it('refuses to restore over live data, and changes nothing', async () => {
    const before = (await takeInventory(source.handle.db)).tables;
    const result = await runCliHere(['backup', 'restore', created.dumpPath], env(source.url!));
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^Error: Refusing to restore over live data: .* already holds \d+ tables/);
    expect((await takeInventory(source.handle.db)).tables).toEqual(before);
  });

  it('refuses a corrupted file (verify and restore, exit 1, one line) and writes nothing', async () => {
    const copy = path.join(tmp, 'corrupt');
    fs.cpSync(path.dirname(created.dumpPath), copy, { recursive: true });
    const dump = path.join(copy, path.basename(created.dumpPath));
    const bytes = fs.readFileSync(dump);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    fs.writeFileSync(dump, bytes);
    const verify = await runCliHere(['backup', 'verify', dump], env(source.url!));
    expect(verify.code).toBe(1);
    expect(verify.stderr.trim()).toMatch(
      /^Error: backup .* is corrupt: its SHA-256 is [0-9a-f]{16}…, the manifest recorded [0-9a-f]{16}…$/,
    );
    const name = `bcf_logical_never_${crypto.randomBytes(4).toString('hex')}`;
    await admin.unsafe(`create database "${name}"`);
    try {
      const url = new URL(TEST_DATABASE_URL);
      url.pathname = `/${name}`;
      const restore = await runCliHere(['backup', 'restore', dump], env(url.toString()));
      expect(restore.code).toBe(1);
      expect(restore.stderr.trim()).toMatch(/^Error: backup .* is corrupt/);
      const client = postgres(url.toString(), { max: 1, onnotice: () => {} });
      try {
        const [row] = await client<
          { n: number }[]
        >`select count(*)::int as n from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')`;
        expect(row!.n).toBe(0);
      } finally {
        await client.end({ timeout: 1 });
      }
    } finally {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
    }
  });

  it('a file whose SHA-256 matches but whose rows are not the manifest’s is refused by its row count', async () => {
    // The manifest edited to the file's new hash: only the content check can catch it.
    const copy = path.join(tmp, 'short');
    fs.mkdirSync(copy, { recursive: true });
    const text = zlib.gunzipSync(fs.readFileSync(created.dumpPath)).toString('utf8').split('\n');
    const tradesHeader = text.findIndex((line) => line.startsWith('{"table":"public.trades"'));
    text.splice(tradesHeader + 1, 1);
    const dump = path.join(copy, path.basename(created.dumpPath));
    fs.writeFileSync(dump, zlib.gzipSync(text.join('\n')));
    const manifest = backupManifestSchema.parse({
      ...created.manifest,
      dump: {
        ...created.manifest.dump,
        bytes: fs.statSync(dump).size,
        sha256: crypto.createHash('sha256').update(fs.readFileSync(dump)).digest('hex'),
      },
    });
    fs.writeFileSync(path.join(copy, path.basename(created.manifestPath)), JSON.stringify(manifest));
    const verify = await runCliHere(['backup', 'verify', dump], env(source.url!));
    expect(verify.code).toBe(1);
    expect(verify.stderr.trim()).toMatch(/^Error: backup .*: public\.trades holds \d+ rows, its section says \d+$/);
  });

  it('a restore whose result fails its check leaves the database empty, and a retry is not refused', async () => {
    const copy = path.join(tmp, 'edited-count');
    fs.cpSync(path.dirname(created.dumpPath), copy, { recursive: true });
    const manifestPath = path.join(copy, path.basename(created.manifestPath));
    const edited = {
      ...created.manifest,
      tables: { ...created.manifest.tables, 'public.trades': created.manifest.tables['public.trades']! + 1 },
    };
    fs.writeFileSync(manifestPath, JSON.stringify(edited));
    const name = `bcf_logical_undone_${crypto.randomBytes(4).toString('hex')}`;
    await admin.unsafe(`create database "${name}"`);
    try {
      const url = new URL(TEST_DATABASE_URL);
      url.pathname = `/${name}`;
      const restore = await runCliHere(['backup', 'restore', manifestPath], env(url.toString()));
      expect(restore.code).toBe(1);
      expect(restore.stderr.trim().split('\n'), restore.stderr).toHaveLength(1);
      // The logical restore counts each table in its own transaction, so nothing outlives the
      // refusal (no undo to report); either way the database is left empty.
      expect(restore.stderr.trim()).toMatch(/^Error: backup .* does not match its manifest: public\.trades: \d+ rows, manifest \d+ rows$/);
      const client = postgres(url.toString(), { max: 1, onnotice: () => {} });
      try {
        const [row] = await client<{ n: number }[]>`
          select (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname not like 'pg\_%' and n.nspname <> 'information_schema')
               + (select count(*) from pg_namespace n where n.nspname not like 'pg\_%' and n.nspname not in ('information_schema', 'public'))
               as n`;
        expect(Number(row!.n)).toBe(0);
      } finally {
        await client.end({ timeout: 1 });
      }
      const retry = await runCliHere(['backup', 'restore', created.dumpPath, '--json'], env(url.toString()));
      expect(retry.code, retry.stderr).toBe(0);
    } finally {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
    }
  });

  it('a second logical backup in the same process completes, and holds the first one’s audit row', async () => {
    // postgres.js once left its socket paused after a COPY stream and the next dump hung here.
    const second = await createBackup({
      handle: source.handle,
      url: source.url,
      outDir: path.join(tmp, 'second'),
      productVersion: 'test',
      actorId: 'test',
      format: 'logical',
    });
    expect(second.manifest.kind).toBe('logical-copy');
    expect(second.manifest.auditHead.rows).toBeGreaterThan(created.manifest.auditHead.rows);
    expect(second.manifest.tables['public.trades']).toBe(created.manifest.tables['public.trades']);
  });

  it('BACKUP_FORMAT=pg-dump refuses instead of falling back, and leaves no file', async () => {
    const outDir = path.join(tmp, 'forced');
    await expect(
      createBackup({
        handle: source.handle,
        url: source.url,
        outDir,
        productVersion: 'test',
        actorId: 'test',
        format: 'pg-dump',
        findPgDump: tooOldPgDump,
      }),
    ).rejects.toThrow(/^pg_dump \d+ \(\/usr\/bin\/pg_dump\) is older than the server/);
    expect(fs.readdirSync(outDir)).toEqual([]);
  });

  it('a dump made at a migration level this build lacks is refused before anything is written (exit 2)', async () => {
    const copy = path.join(tmp, 'newer');
    fs.mkdirSync(copy, { recursive: true });
    const text = zlib.gunzipSync(fs.readFileSync(created.dumpPath)).toString('utf8').split('\n');
    const header = JSON.parse(text[0]!);
    header.migrations.push({ hash: 'f'.repeat(64), createdAt: 4_102_444_800_000 });
    text[0] = JSON.stringify(header);
    const dump = path.join(copy, path.basename(created.dumpPath));
    fs.writeFileSync(dump, zlib.gzipSync(text.join('\n')));
    const manifest = {
      ...created.manifest,
      dump: {
        ...created.manifest.dump,
        bytes: fs.statSync(dump).size,
        sha256: crypto.createHash('sha256').update(fs.readFileSync(dump)).digest('hex'),
      },
    };
    fs.writeFileSync(path.join(copy, path.basename(created.manifestPath)), JSON.stringify(manifest));
    const name = `bcf_logical_newer_${crypto.randomBytes(4).toString('hex')}`;
    await admin.unsafe(`create database "${name}"`);
    try {
      const url = new URL(TEST_DATABASE_URL);
      url.pathname = `/${name}`;
      const restore = await runCliHere(['backup', 'restore', dump], env(url.toString()));
      expect(restore.code).toBe(2);
      expect(restore.stderr).toMatch(
        /was made at a migration level this build does not have \(1 migrations it does not ship\): restore it with product version test or newer/,
      );
      const client = postgres(url.toString(), { max: 1, onnotice: () => {} });
      try {
        const [row] = await client<
          { n: number }[]
        >`select count(*)::int as n from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')`;
        expect(row!.n).toBe(0);
      } finally {
        await client.end({ timeout: 1 });
      }
    } finally {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
    }
  });

  it('--format logical picks it from the CLI, and a bad --format is a usage error', async () => {
    const bad = await runCliHere(['backup', 'create', '--format', 'tar', '--out', path.join(tmp, 'cli')], env(source.url!));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^--format tar: expected one of auto, pg-dump, logical$/m);
    const result = await runCliHere(
      ['backup', 'create', '--format', 'logical', '--out', path.join(tmp, 'cli'), '--json'],
      env(source.url!),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).manifest.kind).toBe('logical-copy');
    // The embedded database has one format, its image: asking for another is a usage error.
    const embedded = await runCliHere(['backup', 'create', '--format', 'logical'], { ...env(''), DATA_DIR: path.join(tmp, 'embedded') });
    expect(embedded.code).toBe(2);
    expect(embedded.stderr).toMatch(/^--format logical applies to a PostgreSQL server \(DATABASE_URL\)/m);
  });
});
