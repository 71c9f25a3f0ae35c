// The candle parsers as they were before the byte parser (trading/market-data/load.ts at
// d4a70dd), kept verbatim as the reference the new loader must match: the same candles, the same
// values bit for bit, the same errors. Only the imports changed.
import fs from 'node:fs';
import { allocateCandles, CandleDataError, type CandleSeries } from '../../trading/engine.ts';

const EXPECTED_HEADER = 'timestamp,open,high,low,close,volume';

export function referenceParseCandleCsv(text: string, source = 'CSV'): CandleSeries {
  const lines = text.split('\n');
  let count = 0;
  for (const line of lines) if (line.trim() !== '') count++;
  let first = 0;
  while (first < lines.length && lines[first]!.trim() === '') first++;
  const header = lines[first]?.trim().toLowerCase();
  const hasHeader = header !== undefined && /^[a-z_]/.test(header);
  if (hasHeader) {
    if (header !== EXPECTED_HEADER) {
      throw new CandleDataError(`${source} line ${first + 1}: expected the header "${EXPECTED_HEADER}", found "${lines[first]!.trim()}"`);
    }
    count--;
  }
  const series = allocateCandles(count);
  let row = 0;
  for (let i = hasHeader ? first + 1 : first; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const fields = line.split(',');
    if (fields.length !== 6) {
      throw new CandleDataError(`${source} line ${i + 1}: expected 6 comma-separated fields, found ${fields.length}: "${line.trim()}"`);
    }
    const values = fields.map(Number);
    const bad = values.findIndex((value, k) => !Number.isFinite(value) || fields[k]!.trim() === '');
    if (bad >= 0) {
      const column = ['timestamp', 'open', 'high', 'low', 'close', 'volume'][bad];
      throw new CandleDataError(
        `${source} line ${i + 1}: every field must be a number; column ${bad + 1} (${column}) is "${fields[bad]!.trim()}": "${line.trim()}"`,
      );
    }
    storeRow(series, row, values, `${source} line ${i + 1}`);
    row++;
  }
  return series;
}

export function referenceParseFreqtradeJson(text: string, source = 'JSON'): CandleSeries {
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
    storeRow(series, i, values, `${source} row ${i + 1}`);
  });
  return series;
}

function storeRow(series: CandleSeries, row: number, values: number[], where: string): void {
  const [time, open, high, low, close, volume] = values as [number, number, number, number, number, number];
  if (high < Math.max(open, close) || low > Math.min(open, close) || low > high) {
    throw new CandleDataError(`${where}: inconsistent prices (open ${open}, high ${high}, low ${low}, close ${close})`);
  }
  if (open <= 0 || volume < 0) throw new CandleDataError(`${where}: prices must be positive and volume not negative`);
  if (row > 0 && time <= series.time[row - 1]!) {
    throw new CandleDataError(`${where}: timestamp ${time} is not after the previous row's ${series.time[row - 1]}`);
  }
  series.time[row] = time;
  series.open[row] = open;
  series.high[row] = high;
  series.low[row] = low;
  series.close[row] = close;
  series.volume[row] = volume;
}

export function referenceLoadCandleFile(path: string): CandleSeries {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    throw new CandleDataError(`Cannot read candle file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const series = path.toLowerCase().endsWith('.json') ? referenceParseFreqtradeJson(text, path) : referenceParseCandleCsv(text, path);
  if (series.length === 0) throw new CandleDataError(`${path} has no candles`);
  return series;
}
