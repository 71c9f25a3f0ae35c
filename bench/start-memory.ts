import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MALLOC_TUNABLES } from './malloc-tunables.ts';

const BIN = fileURLToPath(new URL('../bin/botcriptofy.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SAMPLE_MS = 10_000;

/** VmRSS and VmHWM of a process, in MB (10^6 bytes), from /proc. */
function residentMb(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rss: (kb('VmRSS') * 1024) / 1e6, peak: (kb('VmHWM') * 1024) / 1e6 };
  } catch {
    return undefined;
  }
}

/**
 * The `start` process's resident memory on the demo company (target ≤ 350 MB after 10 minutes):
 * the demo seeded into a new embedded database by `seed --demo` (its own process, as `start`
 * does it in a child), then `botcriptofy start` on it, its RSS read from /proc every 10 s for
 * START_MEMORY_MINUTES (default 10) while its bots tick, its schedules run and Binance is probed.
 */
export async function startMemory(out: (line?: string) => void): Promise<void> {
  const minutes = Number(process.env['START_MEMORY_MINUTES'] ?? 10);
  out(`## The start process's memory (target: resident ≤ 350 MB after 10 minutes on the demo company)`);
  out();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-bench-start-'));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, BOTCRIPTOFY_NO_ENV_FILE: '1', LOG_LEVEL: 'warn' };
  try {
    const seeded = spawnSync(process.execPath, [BIN, 'seed', '--demo'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (seeded.status !== 0) throw new Error(`seed --demo failed: ${seeded.stderr}`);
    const child = spawn(process.execPath, [BIN, 'start'], {
      cwd: ROOT,
      env: { ...env, PORT: '0', LOG_FORMAT: 'json', GLIBC_TUNABLES: MALLOC_TUNABLES },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const samples: { atS: number; rss: number; peak: number }[] = [];
    const startedAt = performance.now();
    for (let at = SAMPLE_MS; at <= minutes * 60_000; at += SAMPLE_MS) {
      await new Promise((resolve) => setTimeout(resolve, startedAt + at - performance.now()));
      const reading = residentMb(child.pid!);
      if (!reading) throw new Error('botcriptofy start exited during the measurement');
      samples.push({ atS: at / 1000, ...reading });
    }
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('close', resolve));
    out(
      `\`botcriptofy start\` (GLIBC_TUNABLES=${MALLOC_TUNABLES} ${path.basename(process.execPath)} bin/botcriptofy.js start, as \`npm start\` runs it; embedded PGlite, the demo company seeded by \`seed --demo\` first, PORT=0, no Telegram token, no network: the paper bots trade the replayed market), RSS read from /proc every ${SAMPLE_MS / 1000} s for ${minutes} minutes (${samples.length} samples); load average ${os.loadavg()[0]!.toFixed(1)} at the end on ${os.availableParallelism()} cores.`,
    );
    out();
    out('| after | RSS MB | peak RSS so far MB |');
    out('|---|---:|---:|');
    for (const minute of [1, 2, 5, 10, minutes].filter((m, i, all) => m <= minutes && all.indexOf(m) === i)) {
      const sample = samples.find((s) => s.atS === minute * 60);
      if (sample) out(`| ${minute} min | ${sample.rss.toFixed(0)} | ${sample.peak.toFixed(0)} |`);
    }
    out(`| max over the run | ${Math.max(...samples.map((s) => s.rss)).toFixed(0)} | |`);
    out();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
