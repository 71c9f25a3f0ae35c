import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCandles } from '../trading/engine.ts';
import { generateCandleFile } from './load.ts';
import { MALLOC_TUNABLES } from './malloc-tunables.ts';

const CHILD = fileURLToPath(new URL('./engine-cold-child.ts', import.meta.url));
const ROWS = 1_300_000;
const RUNS = 15;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The engine cold (issue 15's target: ≥ 30 M candles/s for a single run on a 1.3 M-candle series,
 * one CLI call, JIT included): each run is a new process that loads the candles from the binary
 * cache (not timed) and backtests once.
 */
export function engineCold(out: (line?: string) => void): void {
  out('## Engine cold: one backtest of 1.3 M candles in a new process (target ≥ 30 M candles/s, JIT included)');
  out();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-bench-engine-'));
  try {
    const file = path.join(work, 'generated_BTCUSDT_1m.csv');
    generateCandleFile(file, ROWS);
    const cacheDir = path.join(work, 'cache');
    loadCandles(file, { cacheDir });
    out(
      `A generated random walk of ${ROWS.toLocaleString('en-US')} 1-minute bars (bench/load.ts's generator), loaded from its binary cache before the clock starts. ` +
        `Each row: ${RUNS} new processes (\`node bench/engine-cold-child.ts\`), interleaved with the other rows'; wall time of the backtest, and the main thread's CPU time (the JIT's compiler threads run beside it). ` +
        `"As npx": \`GLIBC_TUNABLES=${MALLOC_TUNABLES}\`, the glibc malloc settings bin/botcriptofy.js's first line sets for \`npx botcriptofy\` (and \`npm start\`, the image: bin/malloc-tunables.js); "none" is \`node bin/botcriptofy.js\` alone, which reads no first line. Node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the start.`,
    );
    out();
    out(
      '| strategy, malloc settings | processes | trades | wall ms median | M candles/s | main-thread CPU ms median | min | M candles/s (CPU median) |',
    );
    out('|---|---:|---:|---:|---:|---:|---:|---:|');
    const { GLIBC_TUNABLES: _inherited, ...plain } = process.env;
    const tunables = (value: string) => ({ ...plain, GLIBC_TUNABLES: value });
    const variants = [
      { label: 'rsi-reference, none', strategy: 'rsi-reference', env: plain },
      { label: 'rsi-reference, huge pages only (hugetlb=1)', strategy: 'rsi-reference', env: tunables('glibc.malloc.hugetlb=1') },
      { label: 'rsi-reference, as npx', strategy: 'rsi-reference', env: tunables(MALLOC_TUNABLES) },
      { label: 'rsi, as npx', strategy: 'rsi', env: tunables(MALLOC_TUNABLES) },
    ];
    const runs = variants.map(() => [] as { ms: number; cpuMs: number; trades: number; finalEquity: number }[]);
    for (let k = 0; k < RUNS; k++) {
      variants.forEach((variant, v) => {
        const result = spawnSync(process.execPath, [CHILD, file, cacheDir, variant.strategy], { encoding: 'utf8', env: variant.env });
        if (result.status !== 0) throw new Error(`engine-cold-child failed: ${result.stderr}`);
        runs[v]!.push(JSON.parse(result.stdout));
      });
    }
    variants.forEach((variant, v) => {
      const rows = runs[v]!;
      if (new Set(rows.map((run) => `${run.trades} ${run.finalEquity}`)).size !== 1)
        throw new Error(`${variant.label}: results differ between runs`);
      const ms = median(rows.map((run) => run.ms));
      const cpu = rows.map((run) => run.cpuMs);
      out(
        `| ${variant.label} | ${rows.length} | ${rows[0]!.trades} | ${ms.toFixed(1)} | ${(ROWS / ms / 1000).toFixed(1)} | ${median(cpu).toFixed(1)} | ${Math.min(...cpu).toFixed(1)} | ${(ROWS / median(cpu) / 1000).toFixed(1)} |`,
      );
    });
    out();
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
