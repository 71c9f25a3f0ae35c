// `node_modules/.bin/node bench/backup-server.ts [--runs 3] [--write]`: backups of the demo company
// on a PostgreSQL server (DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432/postgres;
// the user needs CREATEDB), with pg_dump's custom format and with the logical dump through SQL,
// each made, verified (a scratch database) and restored into an empty database as the CLI does.
// The bench's databases are its own (created and dropped). With --write the table replaces the
// "Server backups" section of BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createBackup, findPgTool, restoreBackup, verifyBackup, type CreatedBackup } from '../backup/index.ts';
import { openDatabase, runMigrations } from '../db/index.ts';
import { DEFAULT_DEMO_TRADERS, seedDemoCompany } from '../demo/index.ts';
import { createSecretBox } from '../secrets/index.ts';
import { writeOwnSection } from './benchmarks-file.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, write: { type: 'boolean', default: false } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
  console.error(`--runs: expected a whole number from 1 to 20, got "${values.runs}"`);
  process.exit(2);
}
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const urlOf = (name: string) => {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
};

const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
const prefix = `bcf_bench_backup_${crypto.randomBytes(4).toString('hex')}`;
const created: string[] = [];
const createDatabase = async (suffix: string) => {
  const name = `${prefix}_${suffix}`;
  await admin.unsafe(`create database "${name}"`);
  created.push(name);
  return urlOf(name);
};
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-bench-backup-server-'));
const loadAtStart = os.loadavg()[0]!;
const formats = ['pg-dump', 'logical'] as const;
const timings = Object.fromEntries(
  formats.map((format) => [format, { create: [] as number[], verify: [] as number[], restore: [] as number[] }]),
);
const bytes: Record<string, number> = {};
let serverVersion = '';
let pgDumpVersion: string | null = null;
let totalRows = 0;
let tables = 0;
try {
  const sourceUrl = await createDatabase('source');
  const handle = await openDatabase({ url: sourceUrl, dataDir: '', poolMax: 2 });
  try {
    await runMigrations(handle);
    const seedStarted = performance.now();
    await seedDemoCompany(handle.db, { secretBox: createSecretBox(crypto.randomBytes(32)), asOf: new Date('2026-11-01T00:00:00Z') });
    console.error(`[backup-server bench] demo company seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
    const [version] = await admin<{ v: string }[]>`select current_setting('server_version_num') as v`;
    pgDumpVersion = await findPgTool('pg_dump', Math.floor(Number(version!.v) / 10_000))
      .then((tool) => tool.version)
      .catch(() => null);
    for (const format of formats) {
      if (format === 'pg-dump' && !pgDumpVersion) continue;
      let last: CreatedBackup | undefined;
      for (let run = 0; run < runs; run++) {
        const started = performance.now();
        last = await createBackup({
          handle,
          url: sourceUrl,
          outDir: path.join(root, `${format}-${run}`),
          productVersion: 'bench',
          actorId: 'bench',
          format,
        });
        timings[format]!.create.push(performance.now() - started);
        let at = performance.now();
        await verifyBackup(last.dumpPath, { url: serverUrl });
        timings[format]!.verify.push(performance.now() - at);
        const target = await createDatabase(`${format.replace('-', '')}_${run}`);
        at = performance.now();
        await restoreBackup({ file: last.dumpPath, url: target, dataDir: root, actorId: 'bench' });
        timings[format]!.restore.push(performance.now() - at);
        console.error(
          `[backup-server bench] ${format} ${run + 1}/${runs}: create ${(timings[format]!.create.at(-1)! / 1000).toFixed(2)} s, ` +
            `verify ${(timings[format]!.verify.at(-1)! / 1000).toFixed(2)} s, restore ${(timings[format]!.restore.at(-1)! / 1000).toFixed(2)} s`,
        );
      }
      bytes[format] = last!.manifest.dump.bytes;
      serverVersion = last!.manifest.source.serverVersion;
      totalRows = last!.manifest.totalRows;
      tables = Object.keys(last!.manifest.tables).length;
    }
  } finally {
    await handle.close();
  }
} finally {
  for (const name of created) await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.end({ timeout: 2 });
  fs.rmSync(root, { recursive: true, force: true });
}

const sorted = (list: number[]) => [...list].sort((a, b) => a - b);
const median = (list: number[]) => sorted(list)[Math.floor((list.length - 1) / 2)]!;
const seconds = (ms: number) => (ms / 1000).toFixed(2);
const rows = formats.flatMap((format) =>
  (['create', 'verify', 'restore'] as const)
    .filter(() => timings[format]!.create.length > 0)
    .map((step) => {
      const list = timings[format]![step];
      return `| ${format} | backup ${step} | ${list.length} | ${seconds(median(list))} | ${seconds(sorted(list)[0]!)} | ${seconds(sorted(list).at(-1)!)} |`;
    }),
);
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const section = [
  '## Server backups: pg_dump and the logical dump',
  '',
  `\`node_modules/.bin/node bench/backup-server.ts --runs ${runs} --write\` on commit ${commit}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim()}), ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average ${loadAtStart.toFixed(1)} at the start, ` +
    `${os.loadavg()[0]!.toFixed(1)} at the end (the machine is shared). PostgreSQL ${serverVersion} on the same machine, ${pgDumpVersion ?? 'no pg_dump as new as the server'}; ` +
    `the demo company (${DEFAULT_DEMO_TRADERS} traders: ${totalRows.toLocaleString('en-US')} rows in ${tables} tables). ` +
    `Dumps: ${Object.entries(bytes)
      .map(([format, size]) => `${format} ${(size / 1_048_576).toFixed(1)} MB`)
      .join(
        ', ',
      )}. Create = \`createBackup\` (counts in an exported snapshot, the dump, SHA-256, manifest, audit row); verify = into a scratch database ` +
    'created and dropped, counts and audit chain; restore = into a new empty database, checked the same way (the logical one runs the migrations first).',
  '',
  '| format | step | runs | median s | min s | max s |',
  '|---|---|---:|---:|---:|---:|',
  ...rows,
].join('\n');
console.log(section);
if (values.write) writeOwnSection('## Server backups', section);
