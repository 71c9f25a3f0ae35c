import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCandles } from '../trading/engine.ts';
import { lcg } from '../test/support/random.ts';
import { MALLOC_TUNABLES } from './malloc-tunables.ts';

const CHILD = fileURLToPath(new URL('./load-child.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/botcriptofy.js', import.meta.url));
const LINK = fileURLToPath(new URL('../node_modules/.bin/botcriptofy', import.meta.url));
const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Fresh processes per measurement (cold JIT, as one CLI call), and in-process repetitions. */
const PROCESS_RUNS = 5;
const WARM_RUNS = 5;
const CLI_RUNS = 11;
const GENERATED_ROWS = 1_650_000;
/**
 * What bin/botcriptofy.js's first line gives a command run as `npx botcriptofy`: glibc's malloc
 * settings (bin/malloc-tunables.js), transparent huge pages for its large blocks (the columns).
 */
const AS_NPX = { ...process.env, GLIBC_TUNABLES: MALLOC_TUNABLES };
/** Milliseconds to allocate and first write argv[1] bytes, in a new process. */
const TOUCH_SCRIPT =
  'const t = performance.now(); Buffer.allocUnsafeSlow(Number(process.argv[1])).fill(1); process.stdout.write(String(performance.now() - t))';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mbps = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(0);

/**
 * Candle loading: the CSV parser and the binary cache (trading/market-data/load.ts, cache.ts), on
 * the bundled files and a generated 1-minute file of about 80 MB, and the whole `botcriptofy
 * backtest --data` process a user waits for.
 */
export async function candleLoading(out: (line?: string) => void, dataDir: string): Promise<void> {
  out(
    '## Candle loading (targets: CSV ≥ 150 MB/s cold, ≥ 1 GB/s from the binary cache; `backtest --data` BTC 5m ≤ 0.35 s as a whole process)',
  );
  out();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-bench-load-'));
  try {
    const generated = path.join(work, 'generated_BTCUSDT_1m.csv');
    const generatedMs = generateCandleFile(generated, GENERATED_ROWS);
    const files = [
      ...['binance_BTCUSDT_5m.csv', 'binance_BTCUSDT_1h.csv', 'binance_BTCUSDT_15m.csv', 'binance_BTCUSDT_1m.csv'].map((name) =>
        path.join(dataDir, name),
      ),
      generated,
    ];
    out(
      `Each "new process" figure is the median of ${PROCESS_RUNS} processes that load the file once (a fresh JIT, as one CLI call), wall time with the process's CPU time (user + system) beside it; "warm" is the median of ${WARM_RUNS} loads in this process after one. ` +
        `MB/s are the CSV file's bytes (10^6) per second, from the cache too. "Touch" is the time to allocate and first write memory of the columns' size (rows × 48 bytes) on this machine: every load must do that much, whatever it reads. ` +
        `"As npx" columns: the same new processes with \`GLIBC_TUNABLES=${MALLOC_TUNABLES}\`, which bin/botcriptofy.js's first line sets for \`npx botcriptofy\` (glibc then asks for 2 MiB transparent pages for large blocks). ` +
        `The last file is generated for the run (a random walk, ${GENERATED_ROWS.toLocaleString('en-US')} rows, written in ${(generatedMs / 1000).toFixed(1)} s) and deleted after; the others are in ${path.relative(ROOT, dataDir) || dataDir}/. Node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the start.`,
    );
    out();
    out(
      '| file | MB | candles | parse, new process: ms (CPU ms) | MB/s | parse, as npx: ms (CPU ms) | MB/s | parse, warm MB/s | cache, new process: ms (CPU ms) | MB/s | cache, as npx: ms (CPU ms) | MB/s | cache, warm MB/s | touch ms | touch, as npx ms |',
    );
    out('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const file of files) {
      const bytes = fs.statSync(file).size;
      const cacheDir = path.join(work, 'cache');
      const parsed = childLoads(file, '-', 'file');
      const parsedAsNpx = childLoads(file, '-', 'file', AS_NPX);
      loadCandles(file, { cacheDir }); // writes the cache
      const cached = childLoads(file, cacheDir, 'cache');
      const cachedAsNpx = childLoads(file, cacheDir, 'cache', AS_NPX);
      const warmParse = warm(() => loadCandles(file, { cacheDir: null }).series.length);
      const warmCache = warm(() => loadCandles(file, { cacheDir }).series.length);
      const touch = median(
        Array.from({ length: 3 }, () => {
          const started = performance.now();
          Buffer.allocUnsafeSlow(parsed.rows * 48).fill(1);
          return performance.now() - started;
        }),
      );
      const touchAsNpx = median(
        Array.from({ length: 3 }, () => {
          const result = spawnSync(process.execPath, ['-e', TOUCH_SCRIPT, String(parsed.rows * 48)], { encoding: 'utf8', env: AS_NPX });
          return Number(result.stdout);
        }),
      );
      const cell = (load: { ms: number; cpuMs: number }) => `${load.ms.toFixed(1)} (${load.cpuMs.toFixed(0)}) | ${mbps(bytes, load.ms)}`;
      out(
        `| ${path.basename(file)} | ${(bytes / 1e6).toFixed(1)} | ${parsed.rows} | ${cell(parsed)} | ${cell(parsedAsNpx)} | ${mbps(bytes, warmParse)} | ` +
          `${cell(cached)} | ${cell(cachedAsNpx)} | ${mbps(bytes, warmCache)} | ${touch.toFixed(1)} | ${touchAsNpx.toFixed(1)} |`,
      );
    }
    out();

    out(
      `Whole processes, \`${path.basename(process.execPath)} bin/botcriptofy.js …\` with the Node running the bench (no hand-over to another Node: the image's entry point, and \`npx botcriptofy\` on a system Node ≥ 22.18), ` +
        'each row with a new data folder and a new start-up cache (bin/start-cache.js: stripped sources and V8 code, BOTCRIPTOFY_START_CACHE_DIR), which its first run writes; the runs after it read both, as every later call does. ' +
        `Wall seconds of the runs after the first, and their CPU time (user + system, by /usr/bin/time); load average ${os.loadavg()[0]!.toFixed(1)} before them:`,
    );
    out();
    out('| command | first run s (writes the caches) | runs | median s | max s | min s | CPU s (user + sys) median | CPU min |');
    out('|---|---:|---:|---:|---:|---:|---:|---:|');
    // CPU time through /usr/bin/time (Node reports no children's usage): other processes on the
    // machine stretch the wall time far more than the CPU time.
    const time = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
    const wall = (command: string, args: string[], env: Record<string, string>) => {
      const started = performance.now();
      const result = spawnSync(time ?? command, time ? ['-f', 'cpu %U %S', command, ...args] : args, {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, BOTCRIPTOFY_NO_ENV_FILE: '1', ...env } as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const seconds = (performance.now() - started) / 1000;
      if (result.status !== 0) throw new Error(`${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
      const usage = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(result.stderr.toString());
      return { seconds, cpu: usage ? Number(usage[1]) + Number(usage[2]) : Number.NaN };
    };
    const row = (
      label: string,
      args: string[],
      runs: number,
      options: { cached?: boolean; env?: Record<string, string>; node?: string; command?: string } = {},
    ) => {
      const env = {
        DATA_DIR: fs.mkdtempSync(path.join(work, 'data-')),
        BOTCRIPTOFY_START_CACHE_DIR: fs.mkdtempSync(path.join(work, 'start-cache-')),
        ...options.env,
      };
      const node = options.command ?? options.node ?? process.execPath;
      const first = options.cached === false ? undefined : wall(node, args, env).seconds;
      const measured = Array.from({ length: runs }, () => wall(node, args, env));
      const times = measured.map((run) => run.seconds);
      const cpu = measured.map((run) => run.cpu);
      out(
        `| ${label} | ${first === undefined ? '–' : first.toFixed(3)} | ${runs} | ${median(times).toFixed(3)} | ${Math.max(...times).toFixed(3)} | ${Math.min(...times).toFixed(3)} | ${median(cpu).toFixed(2)} | ${Math.min(...cpu).toFixed(2)} |`,
      );
    };
    const backtest5m = ['backtest', '--strategy', 'rsi-reference', '--data', path.join(dataDir, 'binance_BTCUSDT_5m.csv'), '--json'];
    row('`node -e 0` (Node alone)', ['-e', '0'], CLI_RUNS - 1, { cached: false });
    row('`botcriptofy --version`', [BIN, '--version'], CLI_RUNS - 1);
    row('`botcriptofy backtest --strategy rsi-reference --data candles/binance_BTCUSDT_5m.csv --json`', [BIN, ...backtest5m], CLI_RUNS - 1);
    row(
      'the same without the start-up cache (`BOTCRIPTOFY_NO_START_CACHE=1`: Node strips and compiles every module)',
      [BIN, ...backtest5m],
      CLI_RUNS - 1,
      {
        env: { BOTCRIPTOFY_NO_START_CACHE: '1' },
      },
    );
    const olderNode = ['/usr/bin/node', '/usr/local/bin/node'].find((candidate) => {
      const version = spawnSync(candidate, ['--version'], { encoding: 'utf8' }).stdout?.trim();
      const [major, minor] = (version ?? '').replace(/^v/, '').split('.').map(Number) as [number, number];
      return version && (major < 22 || (major === 22 && minor < 18));
    });
    if (olderNode)
      row(
        `the same started by the system's ${spawnSync(olderNode, ['--version'], { encoding: 'utf8' }).stdout.trim()} (\`${olderNode} bin/botcriptofy.js …\`: hands over to the bundled Node, two processes)`,
        [BIN, ...backtest5m],
        5,
        { node: olderNode },
      );
    const generatedArgs = ['backtest', '--strategy', 'rsi-reference', '--data', generated, '--json'];
    const generatedLabel = `\`botcriptofy backtest --strategy rsi-reference --data ${path.basename(generated)} --json\` (${(fs.statSync(generated).size / 1e6).toFixed(0)} MB)`;
    row(generatedLabel, [BIN, ...generatedArgs], 5);
    // As npx runs it: the link's first line (env -S GLIBC_TUNABLES=… node) with node_modules/.bin, where
    // the bundled Node is, first on PATH.
    row(`the same as \`npx botcriptofy\` runs it (node_modules/.bin/botcriptofy: the first line's malloc settings)`, generatedArgs, 5, {
      command: LINK,
      env: { PATH: `${path.dirname(LINK)}${path.delimiter}${process.env.PATH}` },
    });
    out();
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function childLoads(
  file: string,
  cacheDir: string,
  expected: 'file' | 'cache',
  env: NodeJS.ProcessEnv = process.env,
): { ms: number; cpuMs: number; rows: number } {
  const runs = Array.from({ length: PROCESS_RUNS }, () => {
    const result = spawnSync(process.execPath, [CHILD, file, cacheDir], { encoding: 'utf8', env });
    if (result.status !== 0) throw new Error(`load-child ${file} failed: ${result.stderr}`);
    const line = JSON.parse(result.stdout) as { ms: number; cpuMs: number; from: string; rows: number };
    if (line.from !== expected) throw new Error(`load-child ${file}: expected a load from the ${expected}, got ${line.from}`);
    return line;
  });
  return { ms: median(runs.map((run) => run.ms)), cpuMs: median(runs.map((run) => run.cpuMs)), rows: runs[0]!.rows };
}

function warm(load: () => number): number {
  load();
  return median(
    Array.from({ length: WARM_RUNS }, () => {
      const started = performance.now();
      load();
      return performance.now() - started;
    }),
  );
}

/** A random walk of 1-minute candles (prices to the cent, volumes to 5 decimals); its milliseconds to write. */
export function generateCandleFile(file: string, rows: number): number {
  const started = performance.now();
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, 'timestamp,open,high,low,close,volume\n');
    let time = 1_600_000_000_000;
    let price = 40_000;
    const random = lcg(42);
    let chunk: string[] = [];
    for (let i = 0; i < rows; i++) {
      const open = price;
      const close = Math.max(1, open * (1 + (random() - 0.5) * 0.004));
      const high = Math.max(open, close) * (1 + random() * 0.001);
      const low = Math.min(open, close) * (1 - random() * 0.001);
      chunk.push(`${time},${open.toFixed(2)},${high.toFixed(2)},${low.toFixed(2)},${close.toFixed(2)},${(random() * 50).toFixed(5)}`);
      price = Number(close.toFixed(2));
      time += 60_000;
      if (chunk.length === 10_000) {
        fs.writeSync(fd, `${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length) fs.writeSync(fd, `${chunk.join('\n')}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return performance.now() - started;
}
