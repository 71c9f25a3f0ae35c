import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CandleDataError,
  detectGaps,
  inferTimeframeMs,
  loadCandleFile,
  parseCandleCsv,
  parseFreqtradeJson,
  timeframeToMs,
} from '../../trading/index.ts';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const dataAvailable = fs.existsSync(DATA);

describe('candle files', () => {
  it('parses CSV into columns, with or without a header', () => {
    const text = 'timestamp,open,high,low,close,volume\n1000,1,2,0.5,1.5,10\n2000,1.5,1.6,1.4,1.55,3.25\n';
    const series = parseCandleCsv(text);
    expect(series.length).toBe(2);
    expect(series.close).toBeInstanceOf(Float64Array);
    expect(Array.from(series.close)).toEqual([1.5, 1.55]);
    expect(parseCandleCsv('1000,1,2,0.5,1.5,10\n').length).toBe(1);
  });

  it('names the line of a malformed row', () => {
    const header = 'timestamp,open,high,low,close,volume\n';
    expect(() => parseCandleCsv(`${header}1000,1,2,0.5,1.5,10\n2000,1,2,0.5\n`, 'x.csv')).toThrow('x.csv line 3: expected 6 comma-separated fields, found 4');
    expect(() => parseCandleCsv(`${header}1000,1,2,0.5,abc,10\n`, 'x.csv')).toThrow('x.csv line 2: every field must be a number');
    expect(() => parseCandleCsv(`${header}1000,1,2,0.5,1.5,10\n1000,1,2,0.5,1.5,10\n`, 'x.csv')).toThrow('x.csv line 3: timestamp 1000 is not after');
    expect(() => parseCandleCsv(`${header}1000,1,0.9,0.5,1.5,10\n`, 'x.csv')).toThrow('x.csv line 2: inconsistent prices');
    expect(() => parseCandleCsv('date,o,h,l,c\n', 'x.csv')).toThrow('x.csv line 1: expected the header');
  });

  it("reads freqtrade's JSON format", () => {
    const series = parseFreqtradeJson('[[1000,1,2,0.5,1.5,10],[2000,1.5,1.6,1.4,1.55,3]]');
    expect(Array.from(series.time)).toEqual([1000, 2000]);
    expect(() => parseFreqtradeJson('[[1000,1,2]]', 'f.json')).toThrow('f.json row 1: expected [timestamp, open, high, low, close, volume]');
    expect(() => parseFreqtradeJson('{', 'f.json')).toThrow(/not valid JSON/);
  });

  it('refuses an empty or missing file clearly', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-candles-'));
    fs.writeFileSync(path.join(dir, 'empty.csv'), 'timestamp,open,high,low,close,volume\n');
    expect(() => loadCandleFile(path.join(dir, 'empty.csv'))).toThrow(/has no candles/);
    expect(() => loadCandleFile(path.join(dir, 'nope.csv'))).toThrow(CandleDataError);
    fs.rmSync(dir, { recursive: true });
  });

  it('parses timeframes', () => {
    expect(timeframeToMs('5m')).toBe(300_000);
    expect(timeframeToMs('4h')).toBe(14_400_000);
    expect(() => timeframeToMs('5x')).toThrow(/timeframe such as/);
  });
});

describe.skipIf(!dataAvailable)('gaps in the real data (as SOURCES.md documents them)', () => {
  it('finds the 177 missing 5m bars in 6 gaps of BTC/USDT', () => {
    const series = loadCandleFile(`${DATA}binance_BTCUSDT_5m.csv`);
    expect(series.length).toBe(65_741);
    expect(inferTimeframeMs(series)).toBe(300_000);
    const gaps = detectGaps(series, 300_000);
    expect(gaps).toHaveLength(6);
    expect(gaps.reduce((sum, gap) => sum + gap.missingBars, 0)).toBe(177);
    const longest = gaps.reduce((a, b) => (b.before - b.after > a.before - a.after ? b : a));
    expect(longest.before - longest.after).toBe(285 * 60_000); // the longest: bars 4 h 45 min apart
    expect(longest.missingBars).toBe(56);
  });

  it('finds no gap in the 1m file', () => {
    const series = loadCandleFile(`${DATA}binance_BTCUSDT_1m.csv`);
    expect(detectGaps(series, 60_000)).toEqual([]);
  });
});
