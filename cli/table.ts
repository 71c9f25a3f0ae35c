/**
 * Rows under headers in padded columns. Columns align left unless `rightAligned` says
 * otherwise (numbers read best right-aligned); trailing spaces are trimmed.
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: (column: number) => boolean = () => false,
): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (rightAligned(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Prints `formatTable`'s lines. */
export function printTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: (column: number) => boolean = () => false,
): void {
  console.log(formatTable(headers, rows, rightAligned));
}
