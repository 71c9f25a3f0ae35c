// `node_modules/.bin/node bench/backup.ts [--runs 5] [--write]`: backups of the demo company on
// the embedded database (target: backup ≤ 10 s), with verify and restore beside it. The
// database is a data folder on disk, as `start` keeps it (not in memory), seeded with the full
// demo company; each run is `createBackup` as `botcriptofy backup create` calls it (the image,
// the counts in the same transaction, the file, its SHA-256, the manifest, the audit row).
// With --write the table replaces the "Backups" section of BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createBackup, restoreBackup, verifyBackup, type CreatedBackup } from '../backup/index.ts';
import { openDatabase, runMigrations } from '../db/index.ts';
import { DEFAULT_DEMO_TRADERS, seedDemoCompany } from '../demo/index.ts';
import { createSecretBox } from '../secrets/index.ts';
import { writeOwnSection } from './benchmarks-file.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, write: { type: 'boolean', default: false } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 50) {
  console.error(`--runs: expected a whole number from 1 to 50, got "${values.runs}"`);
  process.exit(2);
}

const TARGET_MS = 10_000;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-bench-backup-'));
const loadAtStart = os.loadavg()[0]!;
const timings = { create: [] as number[], verify: [] as number[], restore: [] as number[] };
let last: CreatedBackup | undefined;
try {
  const dataDir = path.join(root, 'data');
  const handle = await openDatabase({ dataDir });
  try {
    await runMigrations(handle);
    const seedStarted = performance.now();
    await seedDemoCompany(handle.db, { secretBox: createSecretBox(crypto.randomBytes(32)), asOf: new Date('2026-11-01T00:00:00Z') });
    console.error(
      `[backup bench] demo company (${DEFAULT_DEMO_TRADERS} traders) seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
    );
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      last = await createBackup({ handle, outDir: path.join(root, `out-${run}`), productVersion: 'bench', actorId: 'bench' });
      timings.create.push(performance.now() - started);
      console.error(`[backup bench] create ${run + 1}/${runs}: ${(timings.create.at(-1)! / 1000).toFixed(2)} s`);
    }
  } finally {
    await handle.close();
  }
  for (let run = 0; run < Math.min(runs, 3); run++) {
    let started = performance.now();
    await verifyBackup(last!.dumpPath);
    timings.verify.push(performance.now() - started);
    started = performance.now();
    await restoreBackup({ file: last!.dumpPath, dataDir: path.join(root, `restored-${run}`), actorId: 'bench' });
    timings.restore.push(performance.now() - started);
    console.error(`[backup bench] verify ${timings.verify.at(-1)!.toFixed(0)} ms, restore ${timings.restore.at(-1)!.toFixed(0)} ms`);
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}

const sorted = (list: number[]) => [...list].sort((a, b) => a - b);
const median = (list: number[]) => sorted(list)[Math.floor((list.length - 1) / 2)]!;
const seconds = (ms: number) => (ms / 1000).toFixed(2);
const row = (name: string, list: number[]) =>
  `| ${name} | ${list.length} | ${seconds(median(list))} | ${seconds(sorted(list)[0]!)} | ${seconds(sorted(list).at(-1)!)} |`;
const manifest = last!.manifest;
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const worst = Math.max(...timings.create);
const section = [
  `## Backups (target: backup of the demo company ≤ 10 s embedded)`,
  '',
  `\`node_modules/.bin/node bench/backup.ts --runs ${runs} --write\` on commit ${commit}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim()}), ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average ${loadAtStart.toFixed(1)} at the start, ` +
    `${os.loadavg()[0]!.toFixed(1)} at the end (the machine is shared). The embedded database in a data folder on disk with the demo company ` +
    `(${DEFAULT_DEMO_TRADERS} traders: ${manifest.totalRows.toLocaleString('en-US')} rows in ${Object.keys(manifest.tables).length} tables); ` +
    `the image is ${(manifest.dump.bytes / 1_048_576).toFixed(1)} MB (the data folder with its WAL, uncompressed). ` +
    `Create = \`createBackup\` (counts and image in one transaction, file, SHA-256, manifest, audit row); verify = SHA-256 + load into an in-memory PGlite + counts + ` +
    `audit chain; restore = into a new empty data folder, checked the same way.`,
  '',
  '| step | runs | median s | min s | max s |',
  '|---|---:|---:|---:|---:|',
  row('backup create', timings.create),
  row('backup verify', timings.verify),
  row('backup restore', timings.restore),
  '',
  worst <= TARGET_MS
    ? `Slowest backup ${seconds(worst)} s: within the 10 s target.`
    : `Slowest backup ${seconds(worst)} s: over the 10 s target on this run (median ${seconds(median(timings.create))} s).`,
].join('\n');
console.log(section);
if (values.write) writeOwnSection('## Backups', section);
