/**
 * The p-th percentile of ascending samples by the nearest-rank rule: the smallest sample with
 * at least p % of the samples at or below it (p95 of 20 samples is the 19th; of 10, the 10th,
 * i.e. the maximum — say so next to such a figure). The one definition every benchmark and
 * the evaluation report use.
 */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}
