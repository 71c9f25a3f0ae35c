// The windows every company figure is computed over, and how surfaces name them. Windows are
// half-open, [from, to): what happens at `to` belongs to the next window.

export const DAY_MS = 86_400_000;

/** A window of time: from `from` (inclusive) to `to` (exclusive). */
export interface Window {
  readonly from: Date;
  readonly to: Date;
}

/** The last `days` days up to `asOf`: [asOf − days, asOf). */
export function lastDays(asOf: Date, days: number): Window {
  return { from: new Date(asOf.getTime() - days * DAY_MS), to: asOf };
}

/** Today in UTC up to `asOf`: [00:00 UTC, asOf). */
export function todayUtc(asOf: Date): Window {
  return { from: new Date(Math.floor(asOf.getTime() / DAY_MS) * DAY_MS), to: asOf };
}

/** The last `count` calendar months (UTC), oldest first; the last one runs to `asOf` (month to date). */
export function calendarMonths(asOf: Date, count: number): (Window & { readonly month: string })[] {
  const out: (Window & { month: string })[] = [];
  for (let back = count - 1; back >= 0; back--) {
    const from = new Date(Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth() - back, 1));
    const next = new Date(Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth() - back + 1, 1));
    out.push({ month: `${from.getUTCFullYear()}-${String(from.getUTCMonth() + 1).padStart(2, '0')}`, from, to: back === 0 ? asOf : next });
  }
  return out;
}

/**
 * A trailing window as surfaces print it next to a figure: "24 h" for one day, "N d" otherwise
 * (the same in Portuguese and English: "churn 30 d", "LTV = ARPU ÷ churn 90 d ÷ 3").
 */
export function windowTag(days: number): string {
  return days === 1 ? '24 h' : `${days} d`;
}

/** One figure's written definition: what it counts (formula) and over which window. */
export interface FigureDefinition {
  readonly id: string;
  readonly label: string;
  readonly formula: string;
  readonly window: string;
  /** The one function that computes it. */
  readonly source: string;
}
