import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CANDLE_CACHE_VERSION,
  candleCacheDir,
  candleCacheFile,
  loadCandleFile,
  loadCandles,
  parseCandleCsv,
  parseCandleCsvBytes,
  parseFreqtradeJson,
  parseFreqtradeJsonBytes,
  type CandleSeries,
} from '../../trading/engine.ts';
import { referenceLoadCandleFile, referenceParseCandleCsv, referenceParseFreqtradeJson } from '../support/reference-candle-parser.ts';
import { lcg } from '../support/random.ts';

const DATA = fileURLToPath(new URL('../../candles/', import.meta.url));
const COLUMNS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-candle-load-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The bytes of every column, so -0 and 0 (or two NaNs) are told apart: equal means bit for bit. */
function bits(series: CandleSeries): Record<string, string> {
  const out: Record<string, string> = { length: String(series.length) };
  for (const name of COLUMNS) {
    const column = series[name];
    expect(column).toBeInstanceOf(Float64Array);
    expect(column.length).toBe(series.length);
    out[name] = Buffer.from(column.buffer, column.byteOffset, column.byteLength).toString('hex');
  }
  return out;
}

/** What a parse gives: the candles' bits, or the error's class and message. */
function outcome(parse: () => CandleSeries): Record<string, string> {
  try {
    return bits(parse());
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

function expectSameAsReference(text: string, label: string): void {
  const expected = outcome(() => referenceParseCandleCsv(text, 'x.csv'));
  expect(
    outcome(() => parseCandleCsv(text, 'x.csv')),
    label,
  ).toEqual(expected);
  expect(
    outcome(() => parseCandleCsvBytes(Buffer.from(text), 'x.csv')),
    label,
  ).toEqual(expected);
  // Through a file: the chunked reader, no cache.
  const file = path.join(tmp, 'case.csv');
  fs.writeFileSync(file, text);
  expect(
    outcome(() => loadCandleFile(file, { cacheDir: null })),
    label,
  ).toEqual(outcome(() => referenceLoadCandleFile(file)));
}

describe('the byte parser gives what the text parser gave', () => {
  it('on every file in candles/, bit for bit, by both entry points', () => {
    const files = fs.readdirSync(DATA).filter((name) => name.endsWith('.csv'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const expected = bits(referenceLoadCandleFile(DATA + file));
      expect(bits(loadCandleFile(DATA + file, { cacheDir: null })), file).toEqual(expected);
      expect(bits(parseCandleCsv(fs.readFileSync(DATA + file, 'utf8'), file)), file).toEqual(expected);
    }
  });

  const header = 'timestamp,open,high,low,close,volume';
  const rows = ['1000,1,2,0.5,1.5,10', '2000,1.5,1.6,1.4,1.55,3.25', '3000,42257.89,42345.65,42196.61,42230.13,637.99923'];
  const good = rows.join('\n');
  const cases: Record<string, string> = {
    'header and trailing newline': `${header}\n${good}\n`,
    'no trailing newline': `${header}\n${good}`,
    'no header': `${good}\n`,
    CRLF: `${header}\r\n${rows.join('\r\n')}\r\n`,
    'CRLF, no final newline': `${header}\r\n${rows.join('\r\n')}`,
    'a final lone CR': `${header}\n${good}\r`,
    'header in capitals, padded': `  Timestamp,Open,High,Low,Close,Volume  \n${good}\n`,
    'byte-order mark before the header': `\uFEFF${header}\n${good}\n`,
    'byte-order mark, no header': `\uFEFF${good}\n`,
    'blank lines before, between and after': `\n\r\n  \n${header}\n\n${rows[0]}\n \t \n${rows[1]}\r\n\r\n${rows[2]}\n\n\n`,
    'a non-breaking-space line (blank to trim())': `${header}\n${rows[0]}\n\u00a0\n${rows[1]}\n`,
    'scientific notation': `${header}\n1e3,1E0,2e0,5e-1,1.5e+0,1e1\n2.0e3,1.5,1.6,1.4,1.55,3.25e0\n`,
    'signs, spaces, tabs and bare dots': `${header}\n+1000, 1 ,2\t,.5,1.5,10.\n2000,1.5,1.6,1.4,1.55,-0\n`,
    'hexadecimal, binary and octal (Number() takes them)': `${header}\n0x3e8,0b1,0o2,0.5,1.5,0xA\n`,
    'more digits than a double holds': `${header}\n1000,1.00000000000000000001,2.999999999999999999999,0.1234567890123456789,1.5,123456789012345678901234567890\n`,
    'mantissas around 2^53': `${header}\n9007199254740993,9007199254740.991,9007199254740.993,1,9007199254740.992,900719925474099.3\n`,
    'more than 22 decimals': `${header}\n1000,1,2,0.00000000000000000000000123,1.5,0.000000000000000000000001\n`,
    'leading zeros': `${header}\n0001000,0001.50,002,0000.5,01.5,000\n`,
    'long timestamps and volumes': `${header}\n1704063600000,42257.89,42345.65,42196.61,42230.13,637.99923\n1704064500000.000,42230.14,42235.09,42066.0,42181.8,0.00000001\n`,
    'negative zero volume': `${header}\n1000,1,2,0.5,1.5,-0.0\n`,
    'empty file': '',
    'only a header': `${header}\n`,
    'only blank lines': '\n \n\r\n',
    // Bad files: the same error, naming the same line.
    'a wrong header': `date,o,h,l,c,v\n${good}\n`,
    'a wrong header after blank lines': `\n\ntimestamp,open,high,low,close\n${good}\n`,
    'five fields': `${header}\n${rows[0]}\n2000,1,2,0.5,1.5\n`,
    'seven fields': `${header}\n${rows[0]}\n2000,1,2,0.5,1.5,3,4\n`,
    'an empty field': `${header}\n2000,1,,0.5,1.5,3\n`,
    'a blank field': `${header}\n2000,1, ,0.5,1.5,3\n`,
    'a word': `${header}\n${rows[0]}\n2000,1,2,0.5,abc,10\n`,
    Infinity: `${header}\n2000,1,Infinity,0.5,1.5,10\n`,
    NaN: `${header}\n2000,NaN,2,0.5,1.5,10\n`,
    'a lone minus and a lone dot': `${header}\n2000,-,2,.,1.5,10\n`,
    'a second header': `${header}\n${rows[0]}\n${header}\n${rows[1]}\n`,
    'a repeated timestamp': `${header}\n${rows[0]}\n1000,1,2,0.5,1.5,10\n`,
    'time going back, CRLF': `${header}\r\n${rows[1]}\r\n${rows[0]}\r\n`,
    'inconsistent prices': `${header}\n1000,1,0.9,0.5,1.5,10\n`,
    'low above high': `${header}\n1000,1,2,2.5,1.5,10\n`,
    'a zero price': `${header}\n1000,0,2,0,1.5,10\n`,
    'a negative volume': `${header}\n1000,1,2,0.5,1.5,-10\n`,
    'bytes beyond ASCII in a row': `${header}\n${rows[0]}\n2000,1.5,1.6,1.4,1.55,3€\n`,
    'a bare CR inside a line': `${header}\n1000,1,2\r,0.5,1.5,10\n`,
    'two CRs before the newline': `${header}\n1000,1,2,0.5,1.5,10\r\r\n`,
  };
  for (const [label, text] of Object.entries(cases)) {
    it(label, () => expectSameAsReference(text, label));
  }

  it('bytes that are not UTF-8, read from a file', () => {
    const file = path.join(tmp, 'latin1.csv');
    for (const bytes of [
      Buffer.from('timestamp,open,high,low,close,volume\n1000,1,2,0.5,1.5,10\n2000,1.5,1.6,1.4,1.55,3\xff\n', 'latin1'),
      Buffer.from('\xfe\xff1000,1,2,0.5,1.5,10\n', 'latin1'),
    ]) {
      fs.writeFileSync(file, bytes);
      expect(outcome(() => loadCandleFile(file, { cacheDir: null }))).toEqual(outcome(() => referenceLoadCandleFile(file)));
      expect(outcome(() => parseCandleCsvBytes(bytes, file))).toEqual(outcome(() => referenceLoadCandleFile(file)));
    }
  });

  it('every field Number() reads, in 200,000 random decimals', () => {
    const random = lcg(7);
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
    const lines: string[] = [];
    const fields: string[] = [];
    for (let i = 0; i < 40_000; i++) {
      // open = high = low = close keeps every row valid whatever the price; 1..19 integer digits, 0..24 decimals.
      const price = `${digits(1 + Math.floor(random() * 9)).replace(/^0+/, '') || '1'}${random() < 0.8 ? `.${digits(Math.floor(random() * 25))}` : ''}`;
      const volume = `${digits(Math.floor(random() * 19)) || '0'}${random() < 0.9 ? `.${digits(1 + Math.floor(random() * 24))}` : ''}`;
      fields.push(price, volume);
      lines.push(`${1_000 + i},${price},${price},${price},${price},${volume}`);
    }
    const text = `${lines.join('\n')}\n`;
    const series = parseCandleCsv(text, 'random.csv');
    expect(bits(series)).toEqual(bits(referenceParseCandleCsv(text, 'random.csv')));
    for (let i = 0; i < series.length; i++) {
      if (!Object.is(series.close[i], Number(fields[2 * i])) || !Object.is(series.volume[i], Number(fields[2 * i + 1]))) {
        throw new Error(`row ${i}: ${fields[2 * i]} → ${series.close[i]}, ${fields[2 * i + 1]} → ${series.volume[i]}`);
      }
    }
  });

  it("lines across the reader's 256 KiB pieces, and a line longer than a piece", () => {
    const lines = [];
    for (let i = 0; i < 60_000; i++)
      lines.push(
        `${1_700_000_000_000 + i * 60_000},${40000 + (i % 97) / 100},${40100 + (i % 89) / 100},${39900.5},${40000.25},${(i % 1000) / 7}`,
      );
    const big = `timestamp,open,high,low,close,volume\r\n${lines.join('\r\n')}`;
    expect(big.length).toBeGreaterThan(3 << 20);
    expectSameAsReference(big, 'three MiB, CRLF');
    const longLine = `${lines.slice(0, 10).join('\n')}\n1800000000000,1,2,0.5,1.5,1.${'0'.repeat(1_500_000)}\n`;
    expectSameAsReference(longLine, 'a 1.5 MB field');
    // The first thousand lines long, the rest short: more rows than the first estimate, so the columns grow.
    const growing = [
      ...lines.slice(0, 1_200).map((line) => `${line}.${'0'.repeat(200)}1`),
      ...Array.from({ length: 20_000 }, (_, i) => `${1_800_000_000_000 + i},1,2,0.5,1.5,1`),
    ].join('\n');
    expectSameAsReference(growing, 'more rows than estimated');
    const longBad = `${lines.slice(0, 10).join('\n')}\n1800000000000,1,2,0.5,1.5,${'1'.repeat(1_500_000)}x\n`;
    expectSameAsReference(longBad, 'a 1.5 MB bad field');
  });

  it('freqtrade JSON: the same candles and errors as before, from bytes or from text', () => {
    const good = '[[1000,1,2,0.5,1.5,10],[2000,1.5,1.6,1.4,1.55,3.25]]';
    const bad = '[1000,1,0.9,0.5,1.5,10]';
    const texts = [
      good,
      ` \n\t[ [ 1000 , 1 , 2 , 0.5 , 1.5 , 10 ] ,\r\n [2000,1.5,1.6,1.4,1.55,3.25] ] \n`,
      '[[1e3,1E0,2e+0,5e-1,1.5,1.0e1]]',
      '[[1000,1,2,0.5,1.5,-0]]',
      '[[1000,1.00000000000000000001,2,0.1234567890123456789,1.5,123456789012345678901234567890]]',
      '[[9007199254740993,1,2,0.5,1.5,0.00000000000000000000000123]]',
      '[]',
      '[ ]',
      '[[1000,1,2]]',
      '[[1000,1,2,0.5,1.5,10,7]]',
      '[[1000,"1",2,0.5,1.5,10]]',
      '[[1000,1,2,0.5,1.5,null]]',
      '[[1000,true,2,0.5,1.5,10]]',
      '[[1000,[1],2,0.5,1.5,10]]',
      '[[1000,1,2,0.5,1.5,1e999]]',
      '[[1000,01,2,0.5,1.5,10]]',
      '[[1000,1.,2,0.5,1.5,10]]',
      '[[1000,.5,2,0.5,1.5,10]]',
      '[[1000,+1,2,0.5,1.5,10]]',
      '[[1000,1,2,0.5,1.5,10],]',
      '[[1000,1,2,0.5,1.5,10]] x',
      '[[1000,1,2,0.5,1.5,10]',
      '\uFEFF[[1000,1,2,0.5,1.5,10]]',
      '{',
      '{}',
      '"candles"',
      '',
      '[[2000,1,2,0.5,1.5,10],[1000,1,2,0.5,1.5,10]]',
      `[${bad}]`,
      // A bad row, then a syntax error: JSON.parse refused the file first.
      `[[1000,1,2,0.5,1.5,10],${bad},[3000,1,2,0.5,1.5,10]`,
      // A bad row, then a row only the text parser reads: the bad row is still the error.
      `[[1000,1,2,0.5,1.5,10],${bad},[3000,"1",2,0.5,1.5,10]]`,
      `[[1000,1,2,0.5,1.5,10],${bad},[3000,1,2,0.5,1.5,1e999]]`,
    ];
    const file = path.join(tmp, 'case.json');
    for (const text of texts) {
      const expected = outcome(() => referenceParseFreqtradeJson(text, file));
      expect(
        outcome(() => parseFreqtradeJson(text, file)),
        text,
      ).toEqual(expected);
      expect(
        outcome(() => parseFreqtradeJsonBytes(Buffer.from(text), file) ?? parseFreqtradeJson(text, file)),
        text,
      ).toEqual(expected);
      fs.writeFileSync(file, text);
      expect(
        outcome(() => loadCandleFile(file, { cacheDir: null })),
        text,
      ).toEqual(outcome(() => referenceLoadCandleFile(file)));
    }
    // The plain shape takes the byte path; the others fall back to the text.
    expect(parseFreqtradeJsonBytes(Buffer.from(good))).toBeDefined();
    expect(parseFreqtradeJsonBytes(Buffer.from('[[1000,"1",2,0.5,1.5,10]]'))).toBeUndefined();
  });

  it('freqtrade JSON of every file in candles/, bit for bit', () => {
    for (const name of fs.readdirSync(DATA).filter((entry) => entry.endsWith('.csv'))) {
      const lines = fs
        .readFileSync(DATA + name, 'utf8')
        .trim()
        .split('\n')
        .slice(1);
      // The numbers copied as text, as freqtrade writes them.
      const file = path.join(tmp, name.replace('.csv', '.json'));
      fs.writeFileSync(file, `[${lines.map((line) => `[${line}]`).join(',')}]`);
      const expected = bits(referenceLoadCandleFile(file));
      expect(bits(loadCandleFile(file, { cacheDir: null })), name).toEqual(expected);
      expect(bits(referenceLoadCandleFile(DATA + name)), name).toEqual(expected);
    }
  });

  it('a missing or empty file: the same clear error as before', () => {
    const missing = path.join(tmp, 'nope.csv');
    expect(outcome(() => loadCandleFile(missing, { cacheDir: null }))).toEqual(outcome(() => referenceLoadCandleFile(missing)));
    expect(outcome(() => loadCandleFile(tmp, { cacheDir: null }))).toEqual(outcome(() => referenceLoadCandleFile(tmp)));
    const empty = path.join(tmp, 'empty.csv');
    fs.writeFileSync(empty, 'timestamp,open,high,low,close,volume\n');
    expect(outcome(() => loadCandleFile(empty, { cacheDir: null }))).toEqual({ error: `CandleDataError: ${empty} has no candles` });
  });
});

describe('the binary cache', () => {
  const source = `${DATA}binance_BTCUSDT_5m.csv`;

  function copyOf(name: string, text: string): { file: string; cacheDir: string } {
    const dir = fs.mkdtempSync(path.join(tmp, 'case-'));
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return { file, cacheDir: path.join(dir, 'cache') };
  }

  it('the second load reads the columns back, bit for bit, and leaves no temporary file', () => {
    const { file, cacheDir } = copyOf('btc.csv', fs.readFileSync(source, 'utf8'));
    const first = loadCandles(file, { cacheDir });
    expect(first.from).toBe('file');
    expect(first.cacheFile).toBe(candleCacheFile(file, cacheDir));
    const second = loadCandles(file, { cacheDir });
    expect(second.from).toBe('cache');
    expect(bits(second.series)).toEqual(bits(referenceLoadCandleFile(file)));
    expect(fs.readdirSync(cacheDir)).toEqual([path.basename(first.cacheFile!)]);
    // Header, then six little-endian Float64 columns.
    const cache = fs.readFileSync(first.cacheFile!);
    expect(cache.subarray(0, 8).toString('latin1')).toBe('BCFYCNDL');
    expect(cache.readUInt32LE(8)).toBe(CANDLE_CACHE_VERSION);
    expect(cache.length).toBe(80 + second.series.length * 48);
    expect(cache.readDoubleLE(80)).toBe(second.series.time[0]);
  });

  it('is invalidated when the file changes: other size, same size rewritten, and same size within one clock tick', () => {
    const text = fs.readFileSync(source, 'utf8');
    const { file, cacheDir } = copyOf('btc.csv', text);
    loadCandles(file, { cacheDir });
    expect(loadCandles(file, { cacheDir }).from).toBe('cache');

    // One row fewer: another size.
    const shorter = text.slice(0, text.trimEnd().lastIndexOf('\n') + 1);
    fs.writeFileSync(file, shorter);
    const reloaded = loadCandles(file, { cacheDir });
    expect(reloaded.from).toBe('file');
    expect(reloaded.series.length).toBe(8_351);
    expect(loadCandles(file, { cacheDir }).from).toBe('cache');

    // The same size, one digit changed: a new modification time.
    const changed = shorter.replace('96466.11,96555.56', '96466.12,96555.56');
    expect(changed.length).toBe(shorter.length);
    fs.writeFileSync(file, changed);
    const afterEdit = loadCandles(file, { cacheDir });
    expect(afterEdit.from).toBe('file');
    expect(afterEdit.series.open[0]).toBe(96466.12);

    // The same size and the cache's own modification time (an edit within one clock tick): the fingerprint tells.
    expect(loadCandles(file, { cacheDir }).from).toBe('cache');
    fs.writeFileSync(file, shorter);
    const cacheFile = candleCacheFile(file, cacheDir);
    const cache = fs.readFileSync(cacheFile);
    cache.writeBigInt64LE(fs.statSync(file, { bigint: true }).mtimeNs, 32);
    fs.writeFileSync(cacheFile, cache);
    const afterSameTick = loadCandles(file, { cacheDir });
    expect(afterSameTick.from).toBe('file');
    expect(afterSameTick.series.open[0]).toBe(96466.11);
    expect(bits(loadCandles(file, { cacheDir }).series)).toEqual(bits(referenceLoadCandleFile(file)));
  });

  it('a corrupt, foreign or older cache is ignored and rewritten', () => {
    const { file, cacheDir } = copyOf('btc.csv', fs.readFileSync(source, 'utf8'));
    const expected = bits(referenceLoadCandleFile(file));
    const cacheFile = loadCandles(file, { cacheDir }).cacheFile!;
    const good = fs.readFileSync(cacheFile);
    const damaged: Record<string, Buffer> = {
      truncated: good.subarray(0, good.length - 8),
      empty: Buffer.alloc(0),
      'header only': good.subarray(0, 80),
      'foreign magic': Buffer.concat([Buffer.from('NOTMINE!'), good.subarray(8)]),
      'another version': (() => {
        const copy = Buffer.from(good);
        copy.writeUInt32LE(CANDLE_CACHE_VERSION + 1, 8);
        return copy;
      })(),
      'a wrong row count': (() => {
        const copy = Buffer.from(good);
        copy.writeDoubleLE(3, 16);
        return copy;
      })(),
      'one byte more': Buffer.concat([good, Buffer.alloc(1)]),
    };
    for (const [label, bytes] of Object.entries(damaged)) {
      fs.writeFileSync(cacheFile, bytes);
      const loaded = loadCandles(file, { cacheDir });
      expect(loaded.from, label).toBe('file');
      expect(bits(loaded.series), label).toEqual(expected);
      expect(fs.readFileSync(cacheFile).equals(good), label).toBe(true);
      expect(loadCandles(file, { cacheDir }).from, label).toBe('cache');
    }
  });

  it('a folder that cannot be written only means no cache; bad files are never cached', () => {
    const { file } = copyOf('btc.csv', fs.readFileSync(source, 'utf8'));
    const blocker = path.join(tmp, 'a-file');
    fs.writeFileSync(blocker, '');
    const loaded = loadCandles(file, { cacheDir: path.join(blocker, 'cache') });
    expect(loaded.from).toBe('file');
    expect(loaded.cacheFile).toBeUndefined();
    expect(loaded.series.length).toBe(8_352);

    const bad = copyOf('bad.csv', 'timestamp,open,high,low,close,volume\n1000,1,2,0.5,1.5,10\n1000,1,2,0.5,1.5,10\n');
    expect(() => loadCandles(bad.file, { cacheDir: bad.cacheDir })).toThrow(`${bad.file} line 3: timestamp 1000 is not after`);
    expect(fs.existsSync(bad.cacheDir) ? fs.readdirSync(bad.cacheDir) : []).toEqual([]);
  });

  it('files of the same name in two folders have their own caches; freqtrade JSON is cached too', () => {
    const a = copyOf('same.csv', 'timestamp,open,high,low,close,volume\n1000,1,2,0.5,1.5,10\n');
    const b = copyOf('same.csv', 'timestamp,open,high,low,close,volume\n1000,3,4,2.5,3.5,10\n');
    const cacheDir = path.join(tmp, 'shared-cache');
    loadCandles(a.file, { cacheDir });
    loadCandles(b.file, { cacheDir });
    expect(loadCandles(a.file, { cacheDir }).series.open[0]).toBe(1);
    expect(loadCandles(b.file, { cacheDir }).series.open[0]).toBe(3);
    expect(loadCandles(b.file, { cacheDir }).from).toBe('cache');

    const json = copyOf('candles.json', '[[1000,1,2,0.5,1.5,10],[2000,1.5,1.6,1.4,1.55,3.25]]');
    expect(loadCandles(json.file, { cacheDir: json.cacheDir }).from).toBe('file');
    const cached = loadCandles(json.file, { cacheDir: json.cacheDir });
    expect(cached.from).toBe('cache');
    expect(bits(cached.series)).toEqual(bits(referenceLoadCandleFile(json.file)));
  });

  it('lives in DATA_DIR/cache/candles unless told otherwise', () => {
    const saved = process.env.DATA_DIR;
    try {
      process.env.DATA_DIR = path.join(tmp, 'data-dir');
      expect(candleCacheDir()).toBe(path.join(tmp, 'data-dir', 'cache', 'candles'));
      delete process.env.DATA_DIR;
      expect(candleCacheDir()).toBe(path.resolve('data', 'cache', 'candles'));
      expect(candleCacheDir({ cacheDir: null })).toBeNull();
    } finally {
      if (saved === undefined) delete process.env.DATA_DIR;
      else process.env.DATA_DIR = saved;
    }
  });
});
