/** A parameter grid such as `rsiBuy=30..45:5,rsiSell=55..70:5,rsiPeriod=14`. */
export type ParameterGrid = Record<string, number[]>;
import { ProductError } from '../../errors/index.ts';

export class GridError extends ProductError {
  readonly category = 'usage' as const;
  constructor(message: string) {
    super(message);
    this.name = 'GridError';
  }
}

const MAX_COMBINATIONS = 1_000_000;

/**
 * Parses `name=from..to:step` (inclusive range), `name=a|b|c` (list) or `name=value`,
 * separated by commas.
 */
export function parseGrid(text: string): ParameterGrid {
  const grid: ParameterGrid = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([A-Za-z][A-Za-z0-9]*)=(.+)$/.exec(part);
    if (!match) throw new GridError(`Bad grid entry "${part}": expected name=from..to:step, name=a|b|c or name=value`);
    const [, name, spec] = match as unknown as [string, string, string];
    if (grid[name]) throw new GridError(`Grid names "${name}" twice`);
    const range = /^(-?[\d.]+)\.\.(-?[\d.]+)(?::([\d.]+))?$/.exec(spec);
    let values: number[];
    if (range) {
      const from = Number(range[1]);
      const to = Number(range[2]);
      const step = range[3] === undefined ? 1 : Number(range[3]);
      if (![from, to, step].every(Number.isFinite) || step <= 0 || to < from) {
        throw new GridError(`Bad range "${part}": expected from..to:step with from ≤ to and step > 0`);
      }
      values = [];
      // Count steps instead of adding floats, so 0.1 steps land on exact decimals.
      const decimals = Math.max(...[range[1], range[2], range[3] ?? '1'].map((s) => (s!.split('.')[1] ?? '').length));
      for (let k = 0; from + k * step <= to + 1e-9; k++) values.push(Number((from + k * step).toFixed(decimals)));
    } else {
      values = spec.split('|').map(Number);
      if (values.some((v) => !Number.isFinite(v))) throw new GridError(`Bad values in "${part}": expected numbers`);
    }
    grid[name] = values;
  }
  if (Object.keys(grid).length === 0) throw new GridError('The grid is empty');
  if (countCombinations(grid) > MAX_COMBINATIONS)
    throw new GridError(`The grid has ${countCombinations(grid)} combinations; at most ${MAX_COMBINATIONS} are allowed`);
  return grid;
}

export function countCombinations(grid: ParameterGrid): number {
  return Object.values(grid).reduce((product, values) => product * values.length, 1);
}

/** The `index`-th combination, in a fixed order (mixed-radix counting over the grid). */
export function combinationAt(grid: ParameterGrid, index: number): Record<string, number> {
  const out: Record<string, number> = {};
  let rest = index;
  for (const [name, values] of Object.entries(grid)) {
    out[name] = values[rest % values.length]!;
    rest = Math.floor(rest / values.length);
  }
  return out;
}
