import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../audit/index.ts';
import {
  backupManifestSchema,
  lastBackupAt,
  listBackups,
  runScheduledBackup,
  takeInventory,
  type BackupManifest,
} from '../../backup/index.ts';
import { openDatabase, queryRows, type DatabaseHandle } from '../../db/index.ts';
import { createMetrics } from '../../observability/index.ts';
import { watchCompany } from '../../cli/deployment-metrics.ts';
import { runCliHere } from '../support/cli.ts';
import { createTestDatabase, TEST_DATABASE_URL, testDrivers, type TestDatabase } from '../support/databases.ts';

// Backups (issue 18) on both drivers, through the CLI: the demo company backed up, its database
// dropped, restored into an empty one — the same row counts, and `audit verify` passing with the
// manifest's head still in the chain; a corrupted dump or manifest refused by verify and
// restore; a restore over live data refused. The server's databases are this run's own
// (created from TEST_DATABASE_URL and dropped), never a shared one.

const masterKey = crypto.randomBytes(32).toString('hex');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-backup-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Target {
  readonly env: Record<string, string>;
  /** The database the backup was made of, open (for reading what it holds). */
  open(): Promise<DatabaseHandle>;
  /** Drops the database and leaves an empty one in its place (same DATA_DIR, or same database name). */
  dropAndRecreateEmpty(): Promise<void>;
  dispose(): Promise<void>;
}

async function embeddedTarget(name: string): Promise<Target> {
  const dataDir = path.join(tmp, name);
  return {
    env: { DATA_DIR: dataDir, PAPER_MARKET: 'replay', LOG_LEVEL: 'error', MASTER_KEY: masterKey },
    open: () => openDatabase({ dataDir }),
    async dropAndRecreateEmpty() {
      fs.rmSync(path.join(dataDir, 'pglite'), { recursive: true, force: true });
    },
    async dispose() {},
  };
}

async function serverTarget(name: string): Promise<Target> {
  // A migrated database of this run's own; its name is kept to recreate it empty after the drop.
  let database: TestDatabase | undefined = await createTestDatabase('postgres');
  const url = database.url!;
  const dbName = new URL(url).pathname.slice(1);
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  return {
    env: { DATA_DIR: path.join(tmp, name), DATABASE_URL: url, LOG_LEVEL: 'error', MASTER_KEY: masterKey },
    open: () => openDatabase({ url, dataDir: '' }),
    async dropAndRecreateEmpty() {
      await database?.dispose();
      database = undefined;
      await admin.unsafe(`create database "${dbName}"`);
    },
    async dispose() {
      await database?.dispose();
      await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
      await admin.end({ timeout: 1 });
    },
  };
}

/** An empty place to restore into (a data folder, or a new database), and what it holds. */
async function emptyPlace(driver: string, name: string) {
  const dataDir = path.join(tmp, name);
  if (driver === 'pglite')
    return {
      env: { DATA_DIR: dataDir, DATABASE_URL: '' },
      // Files in the embedded folder (it is removed when the restore is undone).
      objects: async () => (fs.existsSync(path.join(dataDir, 'pglite')) ? fs.readdirSync(path.join(dataDir, 'pglite')).length : 0),
      open: () => openDatabase({ dataDir }),
      dispose: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
    };
  const dbName = `bcf_undo_${crypto.randomBytes(4).toString('hex')}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${dbName}`;
  return {
    env: { DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    open: () => openDatabase({ url: url.toString(), dataDir: '' }),
    // Tables, views, sequences, types, routines and schemas beyond a new database's own.
    objects: async () => {
      const sqlc = postgres(url.toString(), { max: 1, onnotice: () => {} });
      try {
        const [row] = await sqlc<{ n: number }[]>`
          select (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname not like 'pg\_%' and n.nspname <> 'information_schema')
               + (select count(*) from pg_type t join pg_namespace n on n.oid = t.typnamespace
                   where n.nspname not like 'pg\_%' and n.nspname <> 'information_schema')
               + (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                   where n.nspname not like 'pg\_%' and n.nspname <> 'information_schema')
               + (select count(*) from pg_namespace n where n.nspname not like 'pg\_%' and n.nspname not in ('information_schema', 'public'))
               + (select count(*) from pg_extension where extname <> 'plpgsql') as n`;
        return Number(row!.n);
      } finally {
        await sqlc.end({ timeout: 1 });
      }
    },
    dispose: async () => {
      await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
      await admin.end({ timeout: 1 });
    },
  };
}

async function tableCounts(target: Target): Promise<Record<string, number>> {
  const handle = await target.open();
  try {
    return (await takeInventory(handle.db)).tables;
  } finally {
    await handle.close();
  }
}

describe.each(testDrivers)('backups on %s', { timeout: 900_000 }, (driver) => {
  let target: Target;
  let created: { dump: string; manifestPath: string; manifest: BackupManifest };
  const out = path.join(tmp, `${driver}-backups`);

  beforeAll(async () => {
    target = driver === 'pglite' ? await embeddedTarget('embedded') : await serverTarget('server');
    const seeded = await runCliHere(['seed', '--demo', '--traders', '12', '--as-of', '2026-11-01'], target.env);
    expect(seeded.code, seeded.stderr).toBe(0);
    const result = await runCliHere(['backup', 'create', '--out', out, '--json'], target.env);
    expect(result.code, result.stderr).toBe(0);
    created = JSON.parse(result.stdout);
  }, 600_000);
  afterAll(async () => {
    await target?.dispose();
  });

  it('writes a dump and a manifest with the time, migration level, every table’s rows, the SHA-256 and the audit head', async () => {
    const manifest = backupManifestSchema.parse(JSON.parse(fs.readFileSync(created.manifestPath, 'utf8')));
    expect(manifest.kind).toBe(driver === 'pglite' ? 'pglite-data-dir' : 'pg-dump-custom');
    expect(path.dirname(created.dump)).toBe(out);
    expect(manifest.dump.sha256).toBe(crypto.createHash('sha256').update(fs.readFileSync(created.dump)).digest('hex'));
    expect(manifest.dump.bytes).toBe(fs.statSync(created.dump).size);
    // The dump holds everyone's personal data: this user's only, whatever wrote it (pg_dump too).
    expect((fs.statSync(created.dump).mode & 0o777).toString(8)).toBe('600');
    expect((fs.statSync(created.manifestPath).mode & 0o777).toString(8)).toBe('600');
    expect(manifest.migrations.applied).toBeGreaterThan(0);
    // The demo company's rows are all there, as the live database held them when it was copied.
    expect(manifest.tables['public.tenants']).toBeGreaterThan(12);
    expect(manifest.tables['public.trades']).toBeGreaterThan(0);
    const live = await tableCounts(target);
    for (const [table, rows] of Object.entries(manifest.tables)) {
      // The backup itself is audited after the copy: one row more in the live log.
      expect(live[table], table).toBe(table === 'public.audit_log' ? rows + 1 : rows);
    }
    expect(manifest.totalRows).toBe(Object.values(manifest.tables).reduce((a, b) => a + b, 0));
    const handle = await target.open();
    try {
      const [head] = await queryRows<{ hash: string }>(handle.db, sql`select hash from audit_log where id = ${manifest.auditHead.lastId}`);
      expect(head?.hash).toBe(manifest.auditHead.lastHash);
      expect(manifest.auditHead.rows).toBe(manifest.tables['public.audit_log']);
      // Any process's gauge reads the newest backup from the audit log.
      expect((await lastBackupAt(handle.db))?.getTime()).toBeGreaterThanOrEqual(Date.parse(manifest.createdAt));
      const metrics = createMetrics({ defaultMetrics: false });
      watchCompany(metrics, { db: handle.db, tickIntervalS: 10, botLockTtlMs: 30_000 });
      const gauge = (await metrics.registry.getSingleMetric('backup_last_success_timestamp_seconds')!.get()).values[0]?.value ?? 0;
      expect(gauge * 1000).toBeGreaterThanOrEqual(Date.parse(manifest.createdAt));
      expect(gauge * 1000).toBeLessThan(Date.now() + 1000);
    } finally {
      await handle.close();
    }
  });

  it('verify restores it into a scratch database and finds the manifest’s rows and audit head', async () => {
    const result = await runCliHere(['backup', 'verify', created.dump, '--json'], target.env);
    expect(result.code, result.stderr).toBe(0);
    const verified = JSON.parse(result.stdout);
    expect(verified).toMatchObject({ ok: true, totalRows: created.manifest.totalRows, auditRowsVerified: created.manifest.auditHead.rows });
    expect(verified.auditHead).toEqual(created.manifest.auditHead);
    if (driver === 'postgres') {
      // The scratch database is gone afterwards.
      const scratch = /botcriptofy_verify_[0-9a-f]+/.exec(verified.scratch)?.[0];
      expect(scratch).toBeDefined();
      const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
      try {
        expect(await admin`select 1 from pg_database where datname = ${scratch!}`).toHaveLength(0);
      } finally {
        await admin.end({ timeout: 1 });
      }
    }
  });

  it('refuses to restore over live data, and changes nothing', async () => {
    const before = await tableCounts(target);
    const result = await runCliHere(['backup', 'restore', created.dump], target.env);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^Error: Refusing to restore over live data: .* already holds/);
    expect(await tableCounts(target)).toEqual(before);
  });

  it('refuses a corrupted dump (verify and restore, exit 1, one line) and restores nothing', async () => {
    const copy = path.join(tmp, `${driver}-corrupt`);
    fs.cpSync(out, copy, { recursive: true });
    const dump = path.join(copy, path.basename(created.dump));
    const bytes = fs.readFileSync(dump);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    fs.writeFileSync(dump, bytes);
    const verify = await runCliHere(['backup', 'verify', dump], target.env);
    expect(verify.code).toBe(1);
    expect(verify.stderr.trim()).toMatch(
      /^Error: backup .* is corrupt: its SHA-256 is [0-9a-f]{16}…, the manifest recorded [0-9a-f]{16}…$/,
    );
    // Into an empty place, so only the corruption can stop it.
    const emptyDir = path.join(tmp, `${driver}-never-restored`);
    const restore = await runCliHere(['backup', 'restore', dump], { ...target.env, DATA_DIR: emptyDir, DATABASE_URL: '' });
    expect(restore.code).toBe(1);
    expect(restore.stderr.trim()).toMatch(/^Error: backup .* is corrupt/);
    expect(fs.existsSync(path.join(emptyDir, 'pglite'))).toBe(false);
  });

  it('refuses a manifest whose counts or audit head the dump does not give back', async () => {
    const copy = path.join(tmp, `${driver}-edited`);
    fs.cpSync(out, copy, { recursive: true });
    const manifestPath = path.join(copy, path.basename(created.manifestPath));
    const edited = {
      ...created.manifest,
      tables: { ...created.manifest.tables, 'public.trades': created.manifest.tables['public.trades']! + 1 },
    };
    fs.writeFileSync(manifestPath, JSON.stringify(edited));
    const rows = await runCliHere(['backup', 'verify', manifestPath], target.env);
    expect(rows.code).toBe(1);
    expect(rows.stderr.trim()).toMatch(/does not match its manifest: public\.trades: \d+ rows, manifest \d+ rows$/);
    // Restored into an empty place, the check fails: the place is put back empty, and says so;
    // a retry with the right manifest is then not refused as live data.
    const empty = await emptyPlace(driver, `${driver}-undone`);
    try {
      const restore = await runCliHere(['backup', 'restore', manifestPath], { ...target.env, ...empty.env });
      expect(restore.code).toBe(1);
      expect(restore.stderr.trim().split('\n'), restore.stderr).toHaveLength(1);
      expect(restore.stderr.trim()).toMatch(
        driver === 'pglite'
          ? /^Error: backup .* does not match its manifest: public\.trades: \d+ rows, manifest \d+ rows\. The restore was undone: .*pglite was removed\.$/
          : /^Error: backup .* does not match its manifest: public\.trades: \d+ rows, manifest \d+ rows\. The restore was undone: \d+ objects it created were dropped, .* is empty again\.$/,
      );
      expect(await empty.objects()).toBe(0);
      const retry = await runCliHere(['backup', 'restore', created.dump, '--json'], { ...target.env, ...empty.env });
      expect(retry.code, retry.stderr).toBe(0);
      expect(await empty.objects()).toBeGreaterThan(0);
    } finally {
      await empty.dispose();
    }
    const head = { ...created.manifest, auditHead: { ...created.manifest.auditHead, lastHash: 'f'.repeat(64) } };
    fs.writeFileSync(manifestPath, JSON.stringify(head));
    const chain = await runCliHere(['backup', 'verify', manifestPath], target.env);
    expect(chain.code).toBe(1);
    expect(chain.stderr).toMatch(/the audit chain ends at row \d+ .*, the manifest recorded row \d+ \(ffffffffffffffff…\)/);
    fs.writeFileSync(manifestPath, '{"format": "botcriptofy-backup"');
    const unreadable = await runCliHere(['backup', 'verify', manifestPath], target.env);
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr.trim()).toMatch(/^Error: backup manifest .* is unreadable \(it is not JSON\)$/);
  });

  it('backup → drop → restore into the empty database: identical row counts, audit verify passes with the recorded head', async () => {
    await target.dropAndRecreateEmpty();
    const result = await runCliHere(['backup', 'restore', created.dump, '--json'], target.env);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, totalRows: created.manifest.totalRows });
    const restored = await tableCounts(target);
    for (const [table, rows] of Object.entries(created.manifest.tables)) {
      // The restore is audited once the counts matched: one row after the recorded head.
      expect(restored[table], table).toBe(table === 'public.audit_log' ? rows + 1 : rows);
    }
    expect(Object.keys(restored).sort()).toEqual(Object.keys(created.manifest.tables).sort());
    const audit = await runCliHere(['audit', 'verify', '--json'], target.env);
    expect(audit.code, audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true, rowsChecked: created.manifest.auditHead.rows + 1 });
    const handle = await target.open();
    try {
      const [head] = await queryRows<{ hash: string }>(
        handle.db,
        sql`select hash from audit_log where id = ${created.manifest.auditHead.lastId}`,
      );
      expect(head?.hash).toBe(created.manifest.auditHead.lastHash);
      const [last] = await queryRows<{ action: string; prev_hash: string }>(
        handle.db,
        sql`select action, prev_hash from audit_log order by id desc limit 1`,
      );
      expect(last).toEqual({ action: 'backup.restore', prev_hash: created.manifest.auditHead.lastHash });
      expect((await verifyAuditChain(handle.db)).ok).toBe(true);
    } finally {
      await handle.close();
    }
  });
  it('a person erased after the backup stays erased when it is restored: the erasure ledger is re-applied', async () => {
    // The backup holds a trader; they are erased afterwards (the ledger, next to the backups, records it).
    const handle = await target.open();
    let person: { id: string; email: string };
    try {
      [person] = (await queryRows<{ id: string; email: string }>(
        handle.db,
        sql`select u.id::text as id, u.email from users u join tenants t on t.id = u.tenant_id
            where t.kind = 'trader' and u.email not like '%@erased.invalid' order by u.email limit 1`,
      )) as [{ id: string; email: string }];
    } finally {
      await handle.close();
    }
    const erased = await runCliHere(['privacy', 'erase', '--email', person.email, '--yes', '--json'], target.env);
    expect(erased.code, erased.stderr).toBe(0);
    const ledgerFile = path.join(target.env.DATA_DIR!, 'backups', 'erasure-ledger.jsonl');
    const ledger = fs.readFileSync(ledgerFile, 'utf8');
    expect(
      ledger
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([{ at: expect.any(String), userId: person.id, pseudonym: JSON.parse(erased.stdout).pseudonym, auditId: expect.any(Number) }]);
    // Never the email or the name: the ledger is outside the database, and outlives the erasure.
    expect(ledger).not.toContain(person.email);
    expect((fs.statSync(ledgerFile).mode & 0o777).toString(8)).toBe('600');

    const empty = await emptyPlace(driver, `${driver}-after-erasure`);
    try {
      const env = { ...target.env, ...empty.env, ERASURE_LEDGER_FILE: ledgerFile };
      const verified = await runCliHere(['backup', 'verify', created.dump], env);
      expect(verified.code, verified.stderr).toBe(0);
      expect(verified.stdout).toContain('It holds 1 person(s) erased since (the erasure ledger): a restore of it erases them again.');
      const restored = await runCliHere(['backup', 'restore', created.dump], env);
      expect(restored.code, restored.stderr).toBe(0);
      expect(restored.stdout).toContain('Erasure ledger: 1 person(s) erased after this backup was made were in it, and were erased again.');
      const audit = await runCliHere(['audit', 'verify', '--json'], env);
      expect(audit.code, audit.stderr).toBe(0);
      expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true });
      const again = await empty.open();
      try {
        const [user] = await queryRows<{ email: string; status: string }>(
          again.db,
          sql`select email, status from users where id = ${person.id}::uuid`,
        );
        expect(user?.email).toMatch(/^erased-[0-9a-f]+@erased\.invalid$/);
        expect(user?.status).toBe('disabled');
        const [{ n } = { n: -1 }] = await queryRows<{ n: number }>(
          again.db,
          sql`select count(*)::int as n from users where lower(email) = ${person.email.toLowerCase()}`,
        );
        expect(n).toBe(0);
        const [last] = await queryRows<{ action: string; actor_id: string }>(
          again.db,
          sql`select action, actor_id from audit_log order by id desc limit 1`,
        );
        expect(last).toEqual({ action: 'privacy.erasure', actor_id: 'system:backup-restore' });
      } finally {
        await again.close();
      }
      // The backup itself still holds them until retention drops it: verify keeps saying so.
      const json = await runCliHere(['backup', 'verify', created.dump, '--json'], env);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, erasuresToReapply: 1 });
    } finally {
      await empty.dispose();
    }
  });
});

describe('the scheduled backup keeps BACKUP_RETENTION_COUNT backups', { timeout: 600_000 }, () => {
  it('writes one per run and deletes the oldest beyond the count, newest kept', async () => {
    const database = await createTestDatabase('pglite');
    const dir = path.join(tmp, 'scheduled');
    try {
      const written: string[] = [];
      for (const day of [1, 2, 3]) {
        const result = await runScheduledBackup({
          handle: database.handle,
          outDir: dir,
          retentionCount: 2,
          productVersion: 'test',
          actorId: 'scheduler',
          now: () => new Date(Date.UTC(2026, 10, day, 6, 30)),
        });
        written.push(result.manifestPath);
        expect(result.pruned).toEqual(day === 3 ? [written[0]] : []);
      }
      expect(listBackups(dir)).toEqual(written.slice(1));
      expect(fs.readdirSync(dir).sort()).toEqual([
        'botcriptofy-20261102T063000Z.manifest.json',
        'botcriptofy-20261102T063000Z.pglite.tar',
        'botcriptofy-20261103T063000Z.manifest.json',
        'botcriptofy-20261103T063000Z.pglite.tar',
      ]);
      // Each run is audited: the earlier backups are in the later ones' audit heads.
      const newest = backupManifestSchema.parse(JSON.parse(fs.readFileSync(written[2]!, 'utf8')));
      expect(newest.auditHead.rows).toBe(2);
    } finally {
      await database.dispose();
    }
  });
});

describe('verifying a server dump needs a server', () => {
  // A dump whose SHA-256 and manifest are right, so only the missing server can stop it.
  const dir = path.join(tmp, 'server-dump');
  const dump = path.join(dir, 'botcriptofy-20261101T000000Z.pgdump');
  beforeAll(() => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(dump, 'PGDMP not a real dump');
    const manifest: BackupManifest = {
      format: 'botcriptofy-backup',
      formatVersion: 1,
      kind: 'pg-dump-custom',
      createdAt: '2026-11-01T00:00:00.000Z',
      productVersion: 'test',
      source: { driver: 'postgres', location: 'PostgreSQL at example:5432/x', serverVersion: '15.20', timescaledb: null },
      dump: {
        file: path.basename(dump),
        bytes: fs.statSync(dump).size,
        sha256: crypto.createHash('sha256').update(fs.readFileSync(dump)).digest('hex'),
        tool: null,
      },
      migrations: { applied: 1, latestCreatedAt: null },
      tables: {},
      totalRows: 0,
      auditHead: { rows: 0, lastId: null, lastHash: '0'.repeat(64) },
      elapsedMs: 1,
    };
    fs.writeFileSync(path.join(dir, 'botcriptofy-20261101T000000Z.manifest.json'), JSON.stringify(manifest));
  });

  it('without DATABASE_URL is a usage error (exit 2) saying what to set', async () => {
    const result = await runCliHere(['backup', 'verify', dump], { DATA_DIR: path.join(tmp, 'nowhere') });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /is a PostgreSQL server dump: verifying it restores it into a scratch database on a server, so set DATABASE_URL/,
    );
  });

  it('with a server that does not answer, one line naming the scratch database it could not create (exit 1)', async () => {
    const result = await runCliHere(['backup', 'verify', dump], {
      DATA_DIR: path.join(tmp, 'nowhere'),
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^Error: cannot create the scratch database to verify .*needs a reachable server and a user with CREATEDB$/,
    );
  });
});
