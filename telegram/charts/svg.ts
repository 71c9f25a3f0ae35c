// A small SVG chart builder: title, subtitle, y grid with formatted ticks, x labels, and
// line, area and bar series. Only geometry is computed here; every label arrives formatted.

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Series {
  readonly label: string;
  readonly kind: 'line' | 'area' | 'bar';
  readonly color: string;
  readonly points: readonly Point[];
}

export interface ChartSpec {
  readonly title: string;
  readonly subtitle?: string;
  readonly width?: number;
  readonly height?: number;
  /** `time`: x in ms since the epoch; `category`: x is the index of a label. */
  readonly x:
    | { readonly kind: 'time'; readonly format: (ms: number) => string }
    | { readonly kind: 'category'; readonly labels: readonly string[] };
  /** Formats a y tick (already a round number). */
  readonly y: { readonly format: (value: number) => string; readonly includeZero?: boolean };
  readonly series: readonly Series[];
  /** A note under the plot (source, currency). */
  readonly footer?: string;
  /** Text shown in the plot when there is nothing to draw. */
  readonly emptyText?: string;
  /** A dashed reference line (the starting stake). */
  readonly baseline?: { readonly y: number; readonly color?: string };
}

export const CHART_FONT_FAMILY = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif";
const TEXT = '#1f2937';
const MUTED = '#6b7280';
const GRID = '#e5e7eb';

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round tick values covering [min, max]: steps of 1, 2, 2.5 or 5 × 10^n. */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const first = Math.floor(min / step);
  const last = Math.ceil(max / step);
  const ticks: number[] = [];
  // Integer multiples, rounded to the step's decimals, so 0.1 + 0.2 never shows as 0.30000000000000004.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toFixed(decimals)));
  return ticks;
}

/** Approximate width of a label in DejaVu Sans (used for margins only). */
const textWidth = (text: string, size: number) => text.length * size * 0.6;

export function chartSvg(spec: ChartSpec): string {
  const width = spec.width ?? 960;
  const height = spec.height ?? 540;
  const all = spec.series.flatMap((s) => s.points);
  const ys = all.map((p) => p.y);
  if (spec.baseline) ys.push(spec.baseline.y);
  if (spec.y.includeZero || spec.series.some((s) => s.kind === 'bar' || s.kind === 'area')) ys.push(0);
  const ticks = niceTicks(Math.min(...(ys.length ? ys : [0])), Math.max(...(ys.length ? ys : [1])));
  const yMin = ticks[0]!;
  const yMax = ticks.at(-1)!;
  const tickLabels = ticks.map((t) => spec.y.format(t));
  const left = 24 + Math.max(...tickLabels.map((label) => textWidth(label, 13)));
  const top = spec.subtitle ? 92 : 70;
  const right = 32;
  const bottom = spec.footer ? 78 : 56;
  const plotW = width - left - right;
  const plotH = height - top - bottom;

  let xMin: number;
  let xMax: number;
  let slot = 0;
  if (spec.x.kind === 'category') {
    slot = plotW / Math.max(1, spec.x.labels.length);
    xMin = 0;
    xMax = Math.max(1, spec.x.labels.length);
  } else {
    const xs = all.map((p) => p.x);
    xMin = xs.length ? Math.min(...xs) : 0;
    xMax = xs.length ? Math.max(...xs) : 1;
    if (xMin === xMax) {
      xMin -= 86_400_000;
      xMax += 86_400_000;
    }
  }
  const px = (x: number) => (spec.x.kind === 'category' ? left + (x + 0.5) * slot : left + ((x - xMin) / (xMax - xMin)) * plotW);
  const py = (y: number) => top + plotH - ((y - yMin) / (yMax - yMin || 1)) * plotH;
  const f = (n: number) => n.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${CHART_FONT_FAMILY}">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="38" font-size="22" font-weight="bold" fill="${TEXT}">${escapeXml(spec.title)}</text>`);
  if (spec.subtitle) out.push(`<text x="${left}" y="64" font-size="15" fill="${MUTED}">${escapeXml(spec.subtitle)}</text>`);

  // Grid and y ticks.
  ticks.forEach((tick, i) => {
    const y = py(tick);
    out.push(
      `<line x1="${f(left)}" y1="${f(y)}" x2="${f(left + plotW)}" y2="${f(y)}" stroke="${tick === 0 ? '#9ca3af' : GRID}" stroke-width="1"/>`,
    );
    out.push(
      `<text x="${f(left - 10)}" y="${f(y + 4)}" font-size="13" text-anchor="end" fill="${MUTED}">${escapeXml(tickLabels[i]!)}</text>`,
    );
  });
  out.push(`<line x1="${f(left)}" y1="${f(top)}" x2="${f(left)}" y2="${f(top + plotH)}" stroke="#9ca3af" stroke-width="1"/>`);

  // X labels: every category (thinned to fit), or 6 evenly spaced instants.
  if (spec.x.kind === 'category') {
    const labels = spec.x.labels;
    const every = Math.max(1, Math.ceil((labels.length * 64) / plotW));
    labels.forEach((label, i) => {
      if (i % every !== 0 && i !== labels.length - 1) return;
      out.push(
        `<text x="${f(px(i))}" y="${f(top + plotH + 22)}" font-size="13" text-anchor="middle" fill="${MUTED}">${escapeXml(label)}</text>`,
      );
    });
  } else if (all.length > 0) {
    const count = 6;
    for (let i = 0; i < count; i++) {
      const x = xMin + ((xMax - xMin) * i) / (count - 1);
      const anchor = i === 0 ? 'start' : i === count - 1 ? 'end' : 'middle';
      out.push(
        `<text x="${f(px(x))}" y="${f(top + plotH + 22)}" font-size="13" text-anchor="${anchor}" fill="${MUTED}">${escapeXml(spec.x.format(x))}</text>`,
      );
    }
  }

  if (spec.baseline) {
    const y = py(spec.baseline.y);
    out.push(
      `<line x1="${f(left)}" y1="${f(y)}" x2="${f(left + plotW)}" y2="${f(y)}" stroke="${spec.baseline.color ?? '#6b7280'}" stroke-width="1.5" stroke-dasharray="6 5"/>`,
    );
  }

  // Series: bars first (behind), then areas, then lines.
  const bars = spec.series.filter((s) => s.kind === 'bar');
  bars.forEach((series, b) => {
    const barW = (slot * 0.7) / bars.length;
    for (const p of series.points) {
      const x = left + p.x * slot + slot * 0.15 + b * barW;
      const y0 = py(0);
      const y1 = py(p.y);
      out.push(
        `<rect x="${f(x)}" y="${f(Math.min(y0, y1))}" width="${f(barW)}" height="${f(Math.abs(y0 - y1))}" fill="${series.color}" fill-opacity="0.55"/>`,
      );
    }
  });
  for (const series of spec.series.filter((s) => s.kind === 'area')) {
    if (series.points.length < 2) continue;
    const line = series.points.map((p) => `${f(px(p.x))},${f(py(p.y))}`).join(' L');
    const base = py(Math.max(yMin, Math.min(0, yMax)));
    out.push(
      `<path d="M${f(px(series.points[0]!.x))},${f(base)} L${line} L${f(px(series.points.at(-1)!.x))},${f(base)} Z" fill="${series.color}" fill-opacity="0.12"/>`,
    );
  }
  for (const series of spec.series.filter((s) => s.kind === 'line' || s.kind === 'area')) {
    if (series.points.length === 0) continue;
    const d = series.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(px(p.x))},${f(py(p.y))}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${series.color}" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"/>`);
    const last = series.points.at(-1)!;
    out.push(`<circle cx="${f(px(last.x))}" cy="${f(py(last.y))}" r="4.5" fill="${series.color}"/>`);
  }

  if (all.length === 0 && spec.emptyText) {
    out.push(
      `<text x="${f(left + plotW / 2)}" y="${f(top + plotH / 2)}" font-size="16" text-anchor="middle" fill="${MUTED}">${escapeXml(spec.emptyText)}</text>`,
    );
  }

  // Legend (top right) when there is more than one series.
  if (spec.series.length > 1) {
    let x = width - right;
    for (const series of [...spec.series].reverse()) {
      const w = textWidth(series.label, 13);
      x -= w;
      out.push(`<text x="${f(x)}" y="38" font-size="13" fill="${TEXT}">${escapeXml(series.label)}</text>`);
      x -= 20;
      out.push(
        series.kind === 'bar'
          ? `<rect x="${f(x)}" y="28" width="14" height="12" fill="${series.color}" fill-opacity="0.55"/>`
          : `<line x1="${f(x)}" y1="34" x2="${f(x + 14)}" y2="34" stroke="${series.color}" stroke-width="3"/>`,
      );
      x -= 18;
    }
  }
  if (spec.footer) out.push(`<text x="${left}" y="${height - 18}" font-size="12" fill="${MUTED}">${escapeXml(spec.footer)}</text>`);
  out.push('</svg>');
  return out.join('\n');
}
