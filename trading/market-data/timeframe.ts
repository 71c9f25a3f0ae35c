import { z } from 'zod';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

export const timeframeSchema = z.string().regex(/^[1-9]\d*[mhdw]$/, { error: 'expected a timeframe such as 1m, 5m, 15m, 1h, 4h, 1d' });

/** Length of one bar of `timeframe` ('5m', '1h', ...) in milliseconds. */
export function timeframeToMs(timeframe: string): number {
  const parsed = timeframeSchema.parse(timeframe);
  const unit = parsed.at(-1) as keyof typeof UNIT_MS;
  return Number.parseInt(parsed.slice(0, -1), 10) * UNIT_MS[unit];
}

/** The timeframe whose bar length is `ms`, when it is a whole number of minutes/hours/days. */
export function msToTimeframe(ms: number): string | undefined {
  for (const unit of ['w', 'd', 'h', 'm'] as const) {
    if (ms % UNIT_MS[unit] === 0 && ms >= UNIT_MS[unit]) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return undefined;
}
