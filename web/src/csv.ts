import type { Candles } from './api.ts';

// CSV export of rows a person filtered: RFC 4180 quoting, the API's exact values (amounts as the
// decimal strings it sends, times in ISO 8601 UTC), so a spreadsheet gets no rounded money.

export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  const cell = (value: string | number | null | undefined) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return `${[header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n')}\r\n`;
}

export function download(filename: string, text: string, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

/**
 * The candles of an uploaded CSV (timestamp ms,open,high,low,close,volume; a header line
 * allowed), its last 5,000 bars, to draw the backtest's trades on: the server checks the file,
 * this only draws it (a line it cannot read is left out).
 */
export function candlesOfCsv(text: string, symbol: string, timeframe: string, maxBars = 5_000): Candles {
  const rows: Candles['candles'] = [];
  for (const line of text.split(/\r?\n/)) {
    const cells = line.split(',');
    if (cells.length < 6) continue;
    const [time, open, high, low, close, volume] = cells.map(Number) as [number, number, number, number, number, number];
    if (![time, open, high, low, close, volume].every(Number.isFinite)) continue;
    rows.push({ time: new Date(time).toISOString(), open, high, low, close, volume });
  }
  return { symbol, timeframe, candles: rows.slice(-maxBars), indicators: {} };
}
