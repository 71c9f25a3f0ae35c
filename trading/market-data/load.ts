import fs from 'node:fs';
import { allocateCandles, type CandleSeries } from './candles.ts';
import { fingerprintOfOpenFile, readCandleCache, writeCandleCache, type CandleCacheOptions, type SourceStamp } from './cache.ts';
import { ProductError } from '../../errors/index.ts';

/** A candle file that cannot be used; the message names the file, line and problem. */
export class CandleDataError extends ProductError {
  readonly category = 'bad_data' as const;
  constructor(message: string) {
    super(message);
    this.name = 'CandleDataError';
  }
}

const EXPECTED_HEADER = 'timestamp,open,high,low,close,volume';
/** The CSV's columns by position, so a bad field is named (column 3, high). */
const CSV_COLUMNS = EXPECTED_HEADER.split(',');

// Exact powers of ten: every 10^k with k ≤ 22 is a double without rounding.
const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

const NEWLINE = 10;
const RETURN = 13;
const COMMA = 44;
const DOT = 46;
const MINUS = 45;
const ZERO = 48;

/**
 * Parses `timestamp,open,high,low,close,volume` CSV (timestamp in ms UTC, the bar's open).
 * A header line is optional. Every row is checked: six finite numbers, high ≥ max(open,
 * close), low ≤ min(open, close), times strictly increasing; the first bad row stops the load
 * with its line number.
 */
export function parseCandleCsv(text: string, source = 'CSV'): CandleSeries {
  return parseCandleCsvBytes(Buffer.from(text, 'utf8'), source);
}

/**
 * The same as `parseCandleCsv`, straight from bytes into the columns: no string or object per
 * line (see `CsvParser`).
 */
export function parseCandleCsvBytes(bytes: Uint8Array, source = 'CSV'): CandleSeries {
  let data = bytes;
  // The parser wants every line ended; a final newline changes nothing (the line after it is blank).
  if (bytes.length > 0 && bytes[bytes.length - 1] !== NEWLINE) {
    data = new Uint8Array(bytes.length + 1);
    data.set(bytes);
    data[bytes.length] = NEWLINE;
  }
  const parser = new CsvParser(source, data.length);
  parser.feed(data, 0, data.length);
  return parser.finish();
}

/**
 * Candle CSV fed in pieces of whole lines, parsed from bytes into the columns.
 *
 * A field of plain decimal digits (an optional minus, digits, an optional fraction) is read as
 * its integer mantissa, divided by a power of ten when it has decimals: when the mantissa is
 * below 2^53 and there are at most 22 decimals, both are exact doubles and the one rounding of
 * the division is the correctly rounded value of the decimal text, which is what `Number(text)`
 * gives. A longer field goes to `Number()` on its text. A line the fast path does not recognise
 * (spaces, a plus sign, exponents, a byte beyond ASCII, a wrong number of fields, an empty
 * field) is decoded and read by the rules of the line-by-line parser this one replaced, so the
 * candles and the error messages (file and line) are the same in every case; the tests compare
 * both on every bundled file and on edge cases.
 */
class CsvParser {
  private readonly source: string;
  /** Bytes of the whole input, for the first estimate of the number of rows. */
  private readonly totalBytes: number;
  private consumed = 0;
  private lineNo = 1;
  private started = false;
  private columns: Columns | undefined;
  private row = 0;
  private previousTime = 0;
  private readonly values = new Float64Array(6);

  constructor(source: string, totalBytes: number) {
    this.source = source;
    this.totalBytes = totalBytes;
  }

  /** Parses `bytes[start, end)`: whole lines, `bytes[end - 1]` a newline. */
  feed(bytes: Uint8Array, start: number, end: number): void {
    let pos = start;
    if (!this.started) pos = this.preamble(bytes, pos, end);
    if (pos >= end) {
      this.consumed += end - start;
      return;
    }
    this.columns ??= new Columns(estimateRows(bytes, pos, end, this.totalBytes - this.consumed - (pos - start)));
    let columns = this.columns;
    const values = this.values;
    const source = this.source;
    let lineNo = this.lineNo;
    let row = this.row;
    let previousTime = this.previousTime;
    while (pos < end) {
      const lineStart = pos;
      let c = bytes[pos]!;
      if (c === NEWLINE) {
        pos++;
        lineNo++;
        continue;
      }
      // A line ends with '\n' before `end`, so after a '\r' there is always one more byte.
      if (c === RETURN && bytes[pos + 1] === NEWLINE) {
        pos += 2;
        lineNo++;
        continue;
      }
      let fast = true;
      for (let f = 0; f < 6; f++) {
        const negative = bytes[pos] === MINUS;
        if (negative) pos++;
        const fieldStart = pos;
        let mantissa = 0;
        let d = bytes[pos]! - ZERO;
        while (d >>> 0 <= 9) {
          mantissa = mantissa * 10 + d;
          d = bytes[++pos]! - ZERO;
        }
        let digits = pos - fieldStart;
        let decimals = 0;
        if (d === DOT - ZERO) {
          const fractionStart = ++pos;
          d = bytes[pos]! - ZERO;
          while (d >>> 0 <= 9) {
            mantissa = mantissa * 10 + d;
            d = bytes[++pos]! - ZERO;
          }
          decimals = pos - fractionStart;
          digits += decimals;
        }
        if (digits === 0) {
          fast = false;
          break;
        }
        const fieldEnd = pos;
        c = d + ZERO;
        if (f < 5) {
          if (c !== COMMA) {
            fast = false;
            break;
          }
        } else {
          if (c === RETURN) c = bytes[++pos]!;
          if (c !== NEWLINE) {
            fast = false;
            break;
          }
        }
        pos++;
        // Exact while the mantissa stays below 2^53: a rounded step would leave it at 2^53 or above.
        const value =
          mantissa < 9007199254740992 && decimals <= 22
            ? decimals === 0
              ? mantissa
              : mantissa / POW10[decimals]!
            : Number(latin1(bytes, fieldStart, fieldEnd));
        values[f] = negative ? -value : value;
      }
      if (!fast) {
        pos = bytes.indexOf(NEWLINE, lineStart);
        const line = decode(bytes, lineStart, pos);
        pos++;
        if (line.trim() === '') {
          lineNo++;
          continue;
        }
        readLine(line, values, `${source} line ${lineNo}`);
      }
      if (row === columns.capacity) this.columns = columns = columns.grow();
      const time = values[0]!;
      const open = values[1]!;
      const high = values[2]!;
      const low = values[3]!;
      const close = values[4]!;
      const volume = values[5]!;
      if (
        high < Math.max(open, close) ||
        low > Math.min(open, close) ||
        low > high ||
        open <= 0 ||
        volume < 0 ||
        (row > 0 && time <= previousTime)
      ) {
        checkRow(values, row > 0 ? previousTime : undefined, `${source} line ${lineNo}`);
      }
      columns.time[row] = time;
      columns.open[row] = open;
      columns.high[row] = high;
      columns.low[row] = low;
      columns.close[row] = close;
      columns.volume[row] = volume;
      previousTime = time;
      row++;
      lineNo++;
    }
    this.lineNo = lineNo;
    this.row = row;
    this.previousTime = previousTime;
    this.consumed += end - start;
  }

  /** Blank lines, then the header if the first non-blank line starts with a letter or '_'. */
  private preamble(bytes: Uint8Array, start: number, end: number): number {
    let pos = start;
    while (pos < end) {
      const lineEnd = bytes.indexOf(NEWLINE, pos);
      const line = decode(bytes, pos, lineEnd);
      if (line.trim() !== '') {
        this.started = true;
        const header = line.trim().toLowerCase();
        if (/^[a-z_]/.test(header)) {
          if (header !== EXPECTED_HEADER) {
            throw new CandleDataError(
              `${this.source} line ${this.lineNo}: expected the header "${EXPECTED_HEADER}", found "${line.trim()}"`,
            );
          }
          this.lineNo++;
          return lineEnd + 1;
        }
        return pos;
      }
      pos = lineEnd + 1;
      this.lineNo++;
    }
    return pos;
  }

  finish(): CandleSeries {
    return this.columns ? this.columns.series(this.row) : allocateCandles(0);
  }
}

/** One line by the rules of the text parser: six comma-separated fields, each a finite `Number()`. */
function readLine(line: string, values: Float64Array, where: string): void {
  const fields = line.split(',');
  if (fields.length !== 6) {
    throw new CandleDataError(`${where}: expected 6 comma-separated fields, found ${fields.length}: "${line.trim()}"`);
  }
  for (let k = 0; k < 6; k++) {
    const value = Number(fields[k]);
    if (!Number.isFinite(value) || fields[k]!.trim() === '') {
      throw new CandleDataError(
        `${where}: every field must be a number; column ${k + 1} (${CSV_COLUMNS[k]}) is "${fields[k]!.trim()}": "${line.trim()}"`,
      );
    }
    values[k] = value;
  }
}

/** Throws the first rule a row breaks, in the order the rules have always been checked. */
function checkRow(values: ArrayLike<number>, previousTime: number | undefined, where: string): void {
  const [time, open, high, low, close, volume] = [values[0]!, values[1]!, values[2]!, values[3]!, values[4]!, values[5]!];
  if (high < Math.max(open, close) || low > Math.min(open, close) || low > high) {
    throw new CandleDataError(`${where}: inconsistent prices (open ${open}, high ${high}, low ${low}, close ${close})`);
  }
  if (open <= 0 || volume < 0) throw new CandleDataError(`${where}: prices must be positive and volume not negative`);
  if (previousTime !== undefined && time <= previousTime) {
    throw new CandleDataError(`${where}: timestamp ${time} is not after the previous row's ${previousTime}`);
  }
}

/**
 * Six columns in one buffer, sized from an estimate with room to spare (pages never written are
 * never touched, so the spare room costs address space, not memory) and grown if a file has more
 * rows still; the series is a view of the rows filled.
 */
class Columns {
  readonly time: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly capacity: number;
  constructor(capacity: number) {
    this.capacity = capacity;
    const buffer = new ArrayBuffer(capacity * 48);
    this.time = new Float64Array(buffer, 0, capacity);
    this.open = new Float64Array(buffer, capacity * 8, capacity);
    this.high = new Float64Array(buffer, capacity * 16, capacity);
    this.low = new Float64Array(buffer, capacity * 24, capacity);
    this.close = new Float64Array(buffer, capacity * 32, capacity);
    this.volume = new Float64Array(buffer, capacity * 40, capacity);
  }

  grow(): Columns {
    const next = new Columns(Math.max(64, Math.ceil(this.capacity * 1.5)));
    for (const name of COLUMN_NAMES) next[name].set(this[name]);
    return next;
  }

  series(length: number): CandleSeries {
    const view = (name: (typeof COLUMN_NAMES)[number]) => this[name].subarray(0, length);
    return {
      length,
      time: view('time'),
      open: view('open'),
      high: view('high'),
      low: view('low'),
      close: view('close'),
      volume: view('volume'),
    };
  }
}

const COLUMN_NAMES = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;

/** Rows in `remaining` bytes, from the mean length of the first lines of `bytes[pos, end)`, plus a quarter. */
function estimateRows(bytes: Uint8Array, pos: number, end: number, remaining: number): number {
  let sampled = 0;
  let lines = 0;
  for (let p = pos; p < end && lines < 1024; lines++) {
    const lineEnd = bytes.indexOf(NEWLINE, p);
    sampled += lineEnd + 1 - p;
    p = lineEnd + 1;
  }
  return Math.ceil((Math.max(remaining, sampled) / sampled) * lines * 1.25) + 64;
}

function decode(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/**
 * Freqtrade's JSON straight from bytes into the columns, when the file is the plain shape: an
 * array of six-number arrays (JSON whitespace anywhere between). Numbers are read as in the CSV
 * parser (exponents through `Number()`, which reads a JSON number as `JSON.parse` does). Anything
 * else — strings, nulls, rows of another length, a number too large for a double, a JSON syntax
 * error — returns undefined and the caller parses the text with `parseFreqtradeJson`, so the
 * candles and the errors are the same. A bad row found here is only reported once the whole text
 * has proved to be the plain shape, since `JSON.parse` would have refused a broken file first.
 */
export function parseFreqtradeJsonBytes(bytes: Uint8Array, source = 'JSON'): CandleSeries | undefined {
  const padded = new Uint8Array(bytes.length + 1);
  padded.set(bytes);
  return parseJsonPadded(padded, bytes.length, source);
}

/** `bytes[0, n)` is the text and `bytes[n]` a 0 that stops every scan, so no read goes past the end. */
function parseJsonPadded(bytes: Uint8Array, n: number, source: string): CandleSeries | undefined {
  let pos = skipJsonSpace(bytes, 0);
  if (bytes[pos] !== OPEN_BRACKET) return undefined;
  pos = skipJsonSpace(bytes, pos + 1);
  const values = new Float64Array(6);
  let columns: Columns | undefined;
  let row = 0;
  let previousTime = 0;
  let failure: unknown;
  if (bytes[pos] === CLOSE_BRACKET) pos++;
  else {
    for (;;) {
      const rowStart = pos;
      if (bytes[pos] !== OPEN_BRACKET) return undefined;
      pos = skipJsonSpace(bytes, pos + 1);
      for (let f = 0; f < 6; f++) {
        const value = readJsonNumber(bytes, pos);
        if (!Number.isFinite(value)) return undefined;
        values[f] = value;
        pos = skipJsonSpace(bytes, jsonCursor);
        if (bytes[pos] !== (f < 5 ? COMMA : CLOSE_BRACKET)) return undefined;
        pos = skipJsonSpace(bytes, pos + 1);
      }
      if (failure === undefined) {
        const time = values[0]!;
        const open = values[1]!;
        const high = values[2]!;
        const low = values[3]!;
        const close = values[4]!;
        const volume = values[5]!;
        if (
          high < Math.max(open, close) ||
          low > Math.min(open, close) ||
          low > high ||
          open <= 0 ||
          volume < 0 ||
          (row > 0 && time <= previousTime)
        ) {
          try {
            checkRow(values, row > 0 ? previousTime : undefined, `${source} row ${row + 1}`);
          } catch (error) {
            failure = error;
          }
        }
        if (failure === undefined) {
          columns ??= new Columns(Math.ceil((n / Math.max(1, pos - rowStart)) * 1.25) + 64);
          if (row === columns.capacity) columns = columns.grow();
          columns.time[row] = time;
          columns.open[row] = open;
          columns.high[row] = high;
          columns.low[row] = low;
          columns.close[row] = close;
          columns.volume[row] = volume;
          previousTime = time;
        }
      }
      row++;
      if (bytes[pos] === COMMA) pos = skipJsonSpace(bytes, pos + 1);
      else if (bytes[pos] === CLOSE_BRACKET) {
        pos++;
        break;
      } else return undefined;
    }
  }
  if (skipJsonSpace(bytes, pos) !== n) return undefined;
  if (failure !== undefined) throw failure;
  return columns ? columns.series(row) : allocateCandles(0);
}

const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const PLUS = 43;

function skipJsonSpace(bytes: Uint8Array, from: number): number {
  let pos = from;
  for (;;) {
    const c = bytes[pos];
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return pos;
    pos++;
  }
}

/** Where `readJsonNumber` stopped. */
let jsonCursor = 0;

/** The JSON number at `start` (ending at `jsonCursor`), or NaN if there is none. */
function readJsonNumber(bytes: Uint8Array, start: number): number {
  let pos = start;
  const negative = bytes[pos] === MINUS;
  if (negative) pos++;
  const integerStart = pos;
  let mantissa = 0;
  let d = bytes[pos]! - ZERO;
  if (d === 0) d = bytes[++pos]! - ZERO;
  else {
    while (d >>> 0 <= 9) {
      mantissa = mantissa * 10 + d;
      d = bytes[++pos]! - ZERO;
    }
  }
  if (pos === integerStart) return NaN;
  let decimals = 0;
  if (d === DOT - ZERO) {
    const fractionStart = ++pos;
    d = bytes[pos]! - ZERO;
    while (d >>> 0 <= 9) {
      mantissa = mantissa * 10 + d;
      d = bytes[++pos]! - ZERO;
    }
    decimals = pos - fractionStart;
    if (decimals === 0) return NaN;
  }
  let exponent = false;
  if (d === 101 - ZERO || d === 69 - ZERO) {
    exponent = true;
    const sign = bytes[++pos];
    if (sign === PLUS || sign === MINUS) pos++;
    const exponentStart = pos;
    while ((bytes[pos]! - ZERO) >>> 0 <= 9) pos++;
    if (pos === exponentStart) return NaN;
  }
  jsonCursor = pos;
  if (exponent || mantissa >= 9007199254740992 || decimals > 22) return Number(latin1(bytes, start, pos));
  const value = decimals === 0 ? mantissa : mantissa / POW10[decimals]!;
  return negative ? -value : value;
}

/** Parses freqtrade's JSON candle format: `[[ts, open, high, low, close, volume], ...]`. */
export function parseFreqtradeJson(text: string, source = 'JSON'): CandleSeries {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new CandleDataError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(data)) throw new CandleDataError(`${source}: expected an array of [timestamp, open, high, low, close, volume] rows`);
  const series = allocateCandles(data.length);
  data.forEach((entry: unknown, i) => {
    const values = Array.isArray(entry) ? entry.map(Number) : [];
    if (values.length !== 6 || values.some((value) => !Number.isFinite(value))) {
      throw new CandleDataError(
        `${source} row ${i + 1}: expected [timestamp, open, high, low, close, volume] numbers, found ${JSON.stringify(entry)}`,
      );
    }
    checkRow(values, i > 0 ? series.time[i - 1]! : undefined, `${source} row ${i + 1}`);
    series.time[i] = values[0]!;
    series.open[i] = values[1]!;
    series.high[i] = values[2]!;
    series.low[i] = values[3]!;
    series.close[i] = values[4]!;
    series.volume[i] = values[5]!;
  });
  return series;
}

export type LoadCandleOptions = CandleCacheOptions;

/** A loaded file and where its candles came from: the binary cache, or the file itself. */
export interface LoadedCandles {
  readonly series: CandleSeries;
  readonly from: 'cache' | 'file';
  /** The cache file read or written, if any. */
  readonly cacheFile?: string;
}

/** Loads a candle file by its extension: `.json` (freqtrade) or anything else as CSV. */
export function loadCandleFile(path: string, options: LoadCandleOptions = {}): CandleSeries {
  return loadCandles(path, options).series;
}

/**
 * `loadCandleFile` telling where the candles came from. A file read before (same size,
 * modification time and fingerprint) comes from its binary cache (see cache.ts); otherwise it is
 * parsed and, if it holds candles, cached for the next load.
 */
export function loadCandles(path: string, options: LoadCandleOptions = {}): LoadedCandles {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (error) {
    throw new CandleDataError(`Cannot read candle file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let series: CandleSeries;
  let stamp: SourceStamp | undefined;
  try {
    const stat = fs.fstatSync(fd, { bigint: true });
    const cached = readCandleCache(path, fd, stat, options);
    if (cached) return { series: cached.series, from: 'cache', cacheFile: cached.file };
    const size = Number(stat.size);
    let read: number;
    if (path.toLowerCase().endsWith('.json')) {
      const bytes = readPadded(fd, size);
      read = bytes.length - 1;
      series = parseJsonPadded(bytes, read, path) ?? parseFreqtradeJson(bytes.toString('utf8', 0, read), path);
    } else {
      ({ series, read } = parseCsvFile(fd, size, path));
    }
    if (series.length === 0) throw new CandleDataError(`${path} has no candles`);
    // A file that changed while it was read is not cached: the next load reads it again.
    if (read === size) stamp = { size: stat.size, mtimeNs: stat.mtimeNs, fingerprint: fingerprintOfOpenFile(fd, size) };
  } catch (error) {
    if (error instanceof CandleDataError) throw error;
    throw new CandleDataError(`Cannot read candle file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
  const cacheFile = stamp ? writeCandleCache(path, stamp, series, options) : undefined;
  return { series, from: 'file', ...(cacheFile ? { cacheFile } : {}) };
}

/** 256 KiB: few reads, and little fresh memory to touch (costly on some machines). */
const CHUNK_BYTES = 256 * 1024;

/**
 * Reads a CSV file through one 256 KiB buffer, handing the parser the whole lines of each read and
 * carrying the unfinished last line over: memory is the columns only, never the file's text.
 */
function parseCsvFile(fd: number, size: number, path: string): { series: CandleSeries; read: number } {
  const parser = new CsvParser(path, size);
  let buffer = Buffer.allocUnsafeSlow(Math.min(CHUNK_BYTES, size + 1));
  let filled = 0;
  let position = 0;
  for (;;) {
    if (filled === buffer.length) {
      // A line longer than the buffer: make room for it.
      const bigger = Buffer.allocUnsafeSlow(buffer.length * 2);
      buffer.copy(bigger, 0, 0, filled);
      buffer = bigger;
    }
    const read = fs.readSync(fd, buffer, filled, buffer.length - filled, position);
    if (read === 0) {
      if (filled > 0) {
        // The last line has no newline: end it (one byte of room is always left, see above).
        buffer[filled] = NEWLINE;
        parser.feed(buffer, 0, filled + 1);
      }
      return { series: parser.finish(), read: position };
    }
    position += read;
    filled += read;
    const last = buffer.lastIndexOf(NEWLINE, filled - 1);
    if (last === -1) continue;
    parser.feed(buffer, 0, last + 1);
    buffer.copy(buffer, 0, last + 1, filled);
    filled -= last + 1;
  }
}

/** Up to `size` bytes (what fstat saw; fewer if the file shrank meanwhile), then one 0 byte. */
function readPadded(fd: number, size: number): Buffer {
  const buffer = Buffer.allocUnsafeSlow(size + 1);
  let filled = 0;
  while (filled < size) {
    const read = fs.readSync(fd, buffer, filled, size - filled, filled);
    if (read === 0) break;
    filled += read;
  }
  buffer[filled] = 0;
  return buffer.subarray(0, filled + 1);
}
