// One backtest in a fresh process (bench/engine-cold.ts): what a single CLI call's engine sees,
// JIT cold. The candles are loaded first (from the binary cache when there is one) and not timed.
// Usage: node bench/engine-cold-child.ts FILE CACHE_DIR STRATEGY
// Prints one JSON line: wall and main-thread CPU milliseconds of the backtest, candles, trades, final equity.
import { loadCandles, runBacktest, strategyRules } from '../trading/backtest-core.ts';

const [file, cacheDir, name] = process.argv.slice(2) as [string, string, string];
const series = loadCandles(file, { cacheDir: cacheDir === '-' ? null : cacheDir }).series;
const rules = strategyRules(name);
const cpu = process.threadCpuUsage();
const processCpu = process.cpuUsage();
const started = performance.now();
const result = runBacktest(series, rules, { ...rules.defaults });
const ms = performance.now() - started;
const used = process.threadCpuUsage(cpu);
const processUsed = process.cpuUsage(processCpu);
console.log(
  JSON.stringify({
    ms,
    cpuMs: (used.user + used.system) / 1000,
    processCpuMs: (processUsed.user + processUsed.system) / 1000,
    candles: series.length,
    trades: result.trades,
    finalEquity: result.finalEquity,
  }),
);
