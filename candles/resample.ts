// Rebuilds the coarser candle files of this folder from the finer ones (see SOURCES.md):
//   node candles/resample.ts binance_BTCUSDT_1m.csv 5m binance_BTCUSDT_5m.csv
//   node candles/resample.ts binance_BTCUSDT_15m.csv 1h binance_BTCUSDT_1h.csv
// Prices are copied as text (open of the first bar, close of the last, the highest high and
// the lowest low); volumes are summed in exact decimal arithmetic, so nothing is rounded.
// Only complete buckets are written: a bucket missing any of its bars is left out.
import fs from 'node:fs';
import path from 'node:path';
import { timeframeToMs } from '../trading/market-data/timeframe.ts';

const [source, timeframe, target] = process.argv.slice(2);
if (!source || !timeframe || !target) {
  console.error('usage: node candles/resample.ts SOURCE.csv TIMEFRAME TARGET.csv');
  process.exit(2);
}
const folder = import.meta.dirname;
const bucketMs = timeframeToMs(timeframe);
const rows = fs
  .readFileSync(path.join(folder, source), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split(','));
const barMs = Number(rows[1]![0]) - Number(rows[0]![0]);
const perBucket = bucketMs / barMs;
if (!Number.isInteger(perBucket) || perBucket < 2) throw new Error(`${timeframe} is not a whole multiple of the source's bars`);

const SCALE = 8;
const toUnits = (text: string): bigint => {
  const [whole, fraction = ''] = text.split('.');
  if (fraction.length > SCALE) throw new Error(`volume ${text} has more than ${SCALE} decimals`);
  return BigInt(whole!) * 10n ** BigInt(SCALE) + BigInt(fraction.padEnd(SCALE, '0'));
};
const fromUnits = (units: bigint): string => {
  const digits = units.toString().padStart(SCALE + 1, '0');
  const text = `${digits.slice(0, -SCALE)}.${digits.slice(-SCALE)}`.replace(/0+$/, '').replace(/\.$/, '');
  return text;
};

const out = ['timestamp,open,high,low,close,volume'];
let written = 0;
let skipped = 0;
for (let i = 0; i < rows.length; ) {
  const start = Number(rows[i]![0]) - (Number(rows[i]![0]) % bucketMs);
  const group: string[][] = [];
  while (i < rows.length && Number(rows[i]![0]) < start + bucketMs) group.push(rows[i++]!);
  if (group.length !== perBucket || Number(group[0]![0]) !== start) {
    skipped++;
    continue;
  }
  const high = group.reduce((best, row) => (Number(row[2]) > Number(best) ? row[2]! : best), group[0]![2]!);
  const low = group.reduce((best, row) => (Number(row[3]) < Number(best) ? row[3]! : best), group[0]![3]!);
  const volume = fromUnits(group.reduce((sum, row) => sum + toUnits(row[5]!), 0n));
  out.push([start, group[0]![1], high, low, group.at(-1)![4], volume].join(','));
  written++;
}
fs.writeFileSync(path.join(folder, target), `${out.join('\n')}\n`);
console.log(`${target}: ${written} ${timeframe} bars from ${rows.length} rows of ${source} (${skipped} incomplete buckets left out)`);
