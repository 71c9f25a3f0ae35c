// One candle load in a fresh process (bench/load.ts): what a single CLI call sees, JIT cold.
// Usage: node bench/load-child.ts FILE CACHE_DIR|-   ("-": no cache, parse the text)
// Prints one JSON line: wall and CPU milliseconds of the load, where the candles came from, rows.
import { loadCandles } from '../trading/engine.ts';

const [file, cacheDir] = process.argv.slice(2) as [string, string];
const cpu = process.cpuUsage();
const started = performance.now();
const loaded = loadCandles(file, { cacheDir: cacheDir === '-' ? null : cacheDir });
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000, from: loaded.from, rows: loaded.series.length }));
