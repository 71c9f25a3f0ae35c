import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CandleSeries } from './candles.ts';

/**
 * The binary columnar cache of candle files: the second load of a file reads its columns back
 * instead of parsing its text again.
 *
 * Where: `DATA_DIR/cache/candles/` (the product's data folder, `./data` when DATA_DIR is not
 * set), one file per source path, named after the source's base name and a hash of its real path.
 * Not next to the source: candle files often sit where the product should not write (the
 * repository's candles/, a read-only share, a folder of downloads), and one folder is one place
 * to look at or delete. If the folder cannot be written, files simply load without a cache.
 *
 * Layout (little-endian): an 80-byte header, then the six columns (time, open, high, low, close,
 * volume) as Float64Array, each `rows` long.
 *
 *   0  magic "BCFYCNDL"        8  u32 format version     12  u32 columns (6)
 *  16  f64 rows               24  u64 source size        32  i64 source mtime (ns)
 *  40  32 bytes: SHA-256 of (the source's size as u64, its first MiB, its last MiB)
 *  72  8 bytes reserved (zero)
 *
 * A cache file is used only if all of it agrees with the source as it is now: size, modification
 * time to the nanosecond, and that fingerprint (which covers whole files up to 2 MiB, so a
 * same-size rewrite within one clock tick is caught there; in a bigger file only a change in
 * the first or last MiB would be, if its mtime stayed the same). Hashing the whole source on
 * every load would cost more than reading the cache (SHA-256 runs at ~1.6 GB/s here, about the
 * target for the whole load). A cache of another version, the wrong length or a foreign header
 * is ignored and rewritten. Writes go to a temporary file renamed over the old one, so a reader
 * sees the old cache or the new one, never half of one; there is no fsync (a cache cut short by
 * a crash fails the length check and is written again).
 */
export interface CandleCacheOptions {
  /** Folder of the cache files; default `DATA_DIR/cache/candles`; `null` turns the cache off. */
  readonly cacheDir?: string | null;
}

/** What a cache file records of its source. */
export interface SourceStamp {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly fingerprint: Uint8Array;
}

const MAGIC = Buffer.from('BCFYCNDL', 'latin1');
/** Bump when the layout or the parser's results change, so older caches are read again from the source. */
export const CANDLE_CACHE_VERSION = 1;
const HEADER_BYTES = 80;
const COLUMNS = 6;
const SAMPLE_BYTES = 1 << 20;
const LITTLE_ENDIAN = os.endianness() === 'LE';

export function candleCacheDir(options: CandleCacheOptions = {}): string | null {
  if (options.cacheDir === null) return null;
  if (options.cacheDir !== undefined) return path.resolve(options.cacheDir);
  return path.join(path.resolve(process.env.DATA_DIR || './data'), 'cache', 'candles');
}

/** The cache file of a source in `dir`. */
export function candleCacheFile(source: string, dir: string): string {
  let real: string;
  try {
    real = fs.realpathSync(source);
  } catch {
    real = path.resolve(source);
  }
  const id = crypto.createHash('sha256').update(real).digest('hex').slice(0, 16);
  return path.join(dir, `${path.basename(real)}.${id}.candles`);
}

/**
 * SHA-256 of the size (u64 LE), the first MiB and the last MiB (the whole file up to 2 MiB),
 * read through one 64 KiB buffer: fresh memory is costly to touch on some machines (see the
 * "touch" column of the benchmark), and this runs on every load.
 */
export function fingerprintOfOpenFile(fd: number, size: number): Buffer {
  const sizeBytes = Buffer.alloc(8);
  sizeBytes.writeBigUInt64LE(BigInt(size));
  const hash = crypto.createHash('sha256').update(sizeBytes);
  const buffer = Buffer.allocUnsafe(64 * 1024);
  const hashRange = (from: number, to: number) => {
    for (let position = from; position < to; ) {
      const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, to - position), position);
      if (read === 0) return;
      hash.update(buffer.subarray(0, read));
      position += read;
    }
  };
  hashRange(0, Math.min(SAMPLE_BYTES, size));
  if (size > SAMPLE_BYTES) hashRange(Math.max(SAMPLE_BYTES, size - SAMPLE_BYTES), size);
  return hash.digest();
}

/** `length` bytes from `position` (fewer if the file ends first). */
function readAt(fd: number, length: number, position: number): Buffer {
  const buffer = Buffer.allocUnsafeSlow(length);
  let filled = 0;
  while (filled < length) {
    const read = fs.readSync(fd, buffer, filled, length - filled, position + filled);
    if (read === 0) return buffer.subarray(0, filled);
    filled += read;
  }
  return buffer;
}

/** The cached columns of the source open as `sourceFd`, or undefined if there is no valid cache. */
export function readCandleCache(
  source: string,
  sourceFd: number,
  stat: fs.BigIntStats,
  options: CandleCacheOptions = {},
): { series: CandleSeries; file: string } | undefined {
  const dir = candleCacheDir(options);
  if (!dir || !LITTLE_ENDIAN) return undefined;
  const file = candleCacheFile(source, dir);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const cacheSize = fs.fstatSync(fd).size;
    if (cacheSize < HEADER_BYTES) return undefined;
    const header = readAt(fd, HEADER_BYTES, 0);
    if (header.length !== HEADER_BYTES || !header.subarray(0, 8).equals(MAGIC)) return undefined;
    if (header.readUInt32LE(8) !== CANDLE_CACHE_VERSION || header.readUInt32LE(12) !== COLUMNS) return undefined;
    const rows = header.readDoubleLE(16);
    if (!Number.isSafeInteger(rows) || rows < 1 || cacheSize !== HEADER_BYTES + rows * COLUMNS * 8) return undefined;
    if (header.readBigUInt64LE(24) !== stat.size || header.readBigInt64LE(32) !== stat.mtimeNs) return undefined;
    if (!header.subarray(40, 72).equals(fingerprintOfOpenFile(sourceFd, Number(stat.size)))) return undefined;
    const data = readAt(fd, rows * COLUMNS * 8, HEADER_BYTES);
    if (data.length !== rows * COLUMNS * 8) return undefined;
    // allocUnsafeSlow gives the buffer its own ArrayBuffer from offset 0, so the columns are aligned views.
    const column = (k: number) => new Float64Array(data.buffer, data.byteOffset + k * rows * 8, rows);
    return {
      series: { length: rows, time: column(0), open: column(1), high: column(2), low: column(3), close: column(4), volume: column(5) },
      file,
    };
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes the cache of `source` (atomically); its path, or undefined if the folder cannot be written. */
export function writeCandleCache(
  source: string,
  stamp: SourceStamp,
  series: CandleSeries,
  options: CandleCacheOptions = {},
): string | undefined {
  const dir = candleCacheDir(options);
  if (!dir || !LITTLE_ENDIAN || series.length === 0) return undefined;
  const file = candleCacheFile(source, dir);
  const temporary = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  let fd: number | undefined;
  try {
    fs.mkdirSync(dir, { recursive: true });
    fd = fs.openSync(temporary, 'w', 0o644);
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeUInt32LE(CANDLE_CACHE_VERSION, 8);
    header.writeUInt32LE(COLUMNS, 12);
    header.writeDoubleLE(series.length, 16);
    header.writeBigUInt64LE(stamp.size, 24);
    header.writeBigInt64LE(stamp.mtimeNs, 32);
    Buffer.from(stamp.fingerprint).copy(header, 40);
    writeFully(fd, header);
    for (const column of [series.time, series.open, series.high, series.low, series.close, series.volume]) {
      writeFully(fd, new Uint8Array(column.buffer, column.byteOffset, series.length * 8));
    }
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temporary, file);
    return file;
  } catch {
    try {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(temporary, { force: true });
    } catch {
      // Nothing to clean up, or nothing more to do about it.
    }
    return undefined;
  }
}

function writeFully(fd: number, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
}
