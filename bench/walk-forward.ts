// `node bench/walk-forward.ts [--runs 3] [--workers 2] [--write]`: the walk-forward review of
// issue 22 item 5 — 5 folds × 200 combinations of the rsi strategy on 1 year of 5m candles
// (target ≤ 30 s on 2 cores). The year is generated (a seeded random walk with a daily wave), so
// the figure needs no data file and is the same on every machine. --write puts the figures in
// their own section of BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { percentile } from '../eval/stats.ts';
import { candlesFromRows, countCombinations, parseGrid, walkForward } from '../trading/index.ts';
import { writeOwnSection } from './benchmarks-file.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) || fallback : fallback);
const runs = option('--runs', 3);
const workers = option('--workers', 2);
const write = args.includes('--write');
const FIVE_MINUTES = 300_000;
const BARS = 365 * 288;

// Park–Miller, as test/support/random.ts (bench/ does not import test code).
let state = 20_261_202;
const random = () => {
  state = (state * 16807) % 2147483647;
  return state / 2147483647;
};
const rows: number[][] = [];
let price = 30_000;
for (let i = 0; i < BARS; i++) {
  const open = price;
  price *= 1 + (random() - 0.5) * 0.004 + 0.0004 * Math.sin((2 * Math.PI * i) / 288);
  rows.push([Date.UTC(2025, 10, 1) + i * FIVE_MINUTES, open, Math.max(open, price) * 1.0008, Math.min(open, price) * 0.9992, price, 1]);
}
const series = candlesFromRows(rows);
// 5 × 5 × 8 = 200 combinations around the defaults; stop loss and take profit held.
const grid = parseGrid('rsiPeriod=7|10|14|21|28,rsiBuy=20|25|30|35|40,rsiSell=55|60|65|70|75|80|85|90');
const combinations = countCombinations(grid);
const current = { rsiPeriod: 14, rsiBuy: 40, rsiSell: 60, stopLossPct: 3, takeProfitPct: 2 };

const loadStart = os.loadavg()[0]!;
const elapsed: number[] = [];
let last: Awaited<ReturnType<typeof walkForward>> | undefined;
for (let run = 0; run < runs; run++) {
  const started = performance.now();
  last = await walkForward(series, { strategy: 'rsi', grid, current, folds: 5, workers });
  elapsed.push(performance.now() - started);
  console.error(`run ${run + 1}: ${Math.round(elapsed.at(-1)!)} ms`);
}
const loadEnd = os.loadavg()[0]!;

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const cpu = os.cpus()[0]?.model.split(' ').slice(0, 2).join(' ') ?? 'unknown';
const sorted = [...elapsed].sort((a, b) => a - b);
const median = Math.round(percentile(sorted, 50));
const backtests = 5 * combinations + 5 * 3;
const section = [
  '## Walk-forward review (target: 5 folds × 200 combinations on 1 year of 5m candles ≤ 30 s on 2 cores)',
  '',
  `\`node_modules/.bin/node bench/walk-forward.ts --runs ${runs} --workers ${workers} --write\` on commit ${commit}, ${os.cpus().length} cores (${cpu}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average ${loadStart.toFixed(1)} at the start, ${loadEnd.toFixed(1)} at the end (the machine is shared, so other work ran beside it). ${series.length.toLocaleString('en')} generated 5m candles (a seeded random walk with a daily wave), rolling windows (3 segments in sample, 1 out of sample), ${combinations} rsi combinations per fold on ${workers} worker threads, plus the winner and the current parameters backtested on each window: ${backtests.toLocaleString('en')} backtests a run. Last run: ${last!.proposal ? 'proposed a change' : `proposed nothing (${last!.reasons.join(', ')})`}.`,
  '',
  '| runs | median ms | min ms | max ms | target ms | met |',
  '|---:|---:|---:|---:|---:|---|',
  `| ${runs} | ${median} | ${Math.round(sorted[0]!)} | ${Math.round(sorted.at(-1)!)} | 30000 | ${median <= 30_000 ? 'yes' : 'no'} |`,
].join('\n');
console.log(section);
if (write) writeOwnSection('## Walk-forward review', section);
