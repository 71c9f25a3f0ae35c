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

const DATA = fileURLToPath(new URL('../../candles/', import.meta.url));

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
    expect(() => parseCandleCsv(`${header}1000,1,2,0.5,1.5,10\n2000,1,2,0.5\n`, 'x.csv')).toThrow(
      'x.csv line 3: expected 6 comma-separated fields, found 4',
    );
    expect(() => parseCandleCsv(`${header}1000,1,2,0.5,abc,10\n`, 'x.csv')).toThrow(
      'x.csv line 2: every field must be a number; column 5 (close) is "abc"',
    );
    expect(() => parseCandleCsv(`${header}1000,1,2,0.5,1.5,10\n1000,1,2,0.5,1.5,10\n`, 'x.csv')).toThrow(
      'x.csv line 3: timestamp 1000 is not after',
    );
    expect(() => parseCandleCsv(`${header}1000,1,0.9,0.5,1.5,10\n`, 'x.csv')).toThrow('x.csv line 2: inconsistent prices');
    expect(() => parseCandleCsv('date,o,h,l,c\n', 'x.csv')).toThrow('x.csv line 1: expected the header');
  });

  it("reads freqtrade's JSON format", () => {
    const series = parseFreqtradeJson('[[1000,1,2,0.5,1.5,10],[2000,1.5,1.6,1.4,1.55,3]]');
    expect(Array.from(series.time)).toEqual([1000, 2000]);
    expect(() => parseFreqtradeJson('[[1000,1,2]]', 'f.json')).toThrow(
      'f.json row 1: expected [timestamp, open, high, low, close, volume]',
    );
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

describe('gaps in the Binance files in candles/', () => {
  it('the shipped files have none (as candles/SOURCES.md says) and are the documented sizes', () => {
    for (const [file, timeframeMs, rows] of [
      ['binance_BTCUSDT_1m.csv', 60_000, 41_761],
      ['binance_BTCUSDT_5m.csv', 300_000, 8_352],
      ['binance_BTCUSDT_15m.csv', 900_000, 34_945],
      ['binance_BTCUSDT_1h.csv', 3_600_000, 8_736],
    ] as const) {
      const series = loadCandleFile(DATA + file);
      expect(series.length, file).toBe(rows);
      expect(inferTimeframeMs(series), file).toBe(timeframeMs);
      expect(detectGaps(series, timeframeMs), file).toEqual([]);
    }
  });

  it('finds gaps cut into the 5m file: how many, where and how long', () => {
    const lines = fs.readFileSync(`${DATA}binance_BTCUSDT_5m.csv`, 'utf8').trim().split('\n');
    // Drop bars 100–156 (57 bars, 4 h 45 min of market like an exchange outage) and 2000–2002.
    const cut = lines.filter((_, k) => !((k - 1 >= 100 && k - 1 <= 156) || (k - 1 >= 2000 && k - 1 <= 2002)));
    const series = parseCandleCsv(`${cut.join('\n')}\n`, 'cut.csv');
    expect(series.length).toBe(8_352 - 60);
    expect(inferTimeframeMs(series)).toBe(300_000);
    const gaps = detectGaps(series, 300_000);
    expect(gaps).toHaveLength(2);
    expect(gaps.map((gap) => gap.missingBars)).toEqual([57, 3]);
    expect(gaps[0]!.before - gaps[0]!.after).toBe(58 * 300_000); // the bars on each side are 4 h 50 min apart
  });
});
