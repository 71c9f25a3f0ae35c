import type { z } from 'zod';

/** What a strategy asks for at a bar's close: enter a long position, exit it, or nothing. */
export const ENTER = 1;
export const EXIT = -1;
export const HOLD = 0;
export type Signal = typeof ENTER | typeof EXIT | typeof HOLD;

/**
 * A running strategy. It is fed one closed bar at a time and answers with a signal, so it
 * can only ever know the past: look-ahead is impossible by construction. The same object
 * drives backtests and live bots.
 */
export interface StrategyRunner {
  next(open: number, high: number, low: number, close: number, volume: number): Signal;
  /**
   * `next` for a strategy that reads only the close, when it says so: a backtest then reads no
   * other column in its loop (until V8 has compiled the loop, each value read costs a boxed number).
   */
  nextClose?(close: number): Signal;
}

export interface StrategyExits {
  /** Close the position when price falls this many percent below the entry, or null. */
  readonly stopLossPct: number | null;
  /** Close the position when price rises this many percent above the entry, or null. */
  readonly takeProfitPct: number | null;
}

/** A strategy without its parameter schema: what a backtest needs, and its defaults (rules.ts). */
export interface StrategyRules<P extends Record<string, number> = Record<string, number>> {
  readonly name: string;
  readonly description: string;
  /** Every parameter's default: what the schema gives for `{}`. */
  readonly defaults: Readonly<P>;
  /** Bars the strategy needs before its first signal. */
  warmupBars(params: P): number;
  exits(params: P): StrategyExits;
  create(params: P): StrategyRunner;
}

export interface Strategy<P extends Record<string, number> = Record<string, number>> extends StrategyRules<P> {
  /** Every parameter with its range and default; unknown names are refused. */
  readonly parameters: z.ZodType<P, Partial<P>>;
}
