import { z } from 'zod';
import { bollingerReversion, emaCross, macdCross, rsiReference, rsiStrategy } from './catalogue.ts';
import type { Strategy } from './types.ts';
import { StrategyError, unknownStrategyMessage } from './rules.ts';

const all = [rsiStrategy, rsiReference, macdCross, emaCross, bollingerReversion] as const;

/** Every strategy by name. `rsi` is the default. */
export const STRATEGIES: ReadonlyMap<string, Strategy> = new Map(all.map((strategy) => [strategy.name, strategy as unknown as Strategy]));
export const DEFAULT_STRATEGY = 'rsi';

export { StrategyError };

export function getStrategy(name: string): Strategy {
  const strategy = STRATEGIES.get(name);
  if (!strategy) throw new StrategyError(unknownStrategyMessage(name));
  return strategy;
}

/** Validates parameters (defaults filled in); the error names each bad parameter and why. */
export function parseStrategyParameters(strategy: Strategy, input: Record<string, unknown>): Record<string, number> {
  const result = strategy.parameters.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') return `unknown parameter ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      const key = issue.path.join('.');
      return key ? `${key} ${issue.message}` : issue.message;
    });
    throw new StrategyError(`Invalid parameters for ${strategy.name}: ${problems.join('; ')}. ${describeParameters(strategy)}`);
  }
  return result.data;
}

/** "Parameters: rsiPeriod (default 14), ..." from the strategy's schema. */
export function describeParameters(strategy: Strategy): string {
  const defaults = strategy.parameters.safeParse({});
  const shape = defaults.success ? defaults.data : {};
  return `Parameters: ${Object.entries(shape)
    .map(([key, value]) => `${key} (default ${value})`)
    .join(', ')}`;
}

/** `k=v` pairs from the command line, as numbers. */
export function parseParameterAssignments(pairs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of pairs) {
    const match = /^([A-Za-z][A-Za-z0-9]*)=(.+)$/.exec(pair.trim());
    const value = match ? z.coerce.number().safeParse(match[2]) : undefined;
    if (!match || !value?.success || !Number.isFinite(value.data)) {
      throw new StrategyError(`Bad --param "${pair}": expected name=number, e.g. rsiBuy=35`);
    }
    out[match[1]!] = value.data;
  }
  return out;
}
