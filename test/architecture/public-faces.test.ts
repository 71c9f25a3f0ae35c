import { describe, expect, it } from 'vitest';
import { rel, relativeImportsOf, sourceFiles } from '../support/source-files.ts';

// Each top-level folder is one responsibility and its index.ts is its public face: another
// folder imports that file and nothing behind it, so a folder can rearrange its insides
// without its callers noticing. Read from the source (nothing is run).

/** Second public entries, each lighter than its folder's index for a reason written beside it. */
const PUBLIC_ENTRIES: ReadonlyMap<string, string> = new Map([
  [
    'trading/engine.ts',
    'the engine alone (candle files, indicators, strategies, backtests): what a file backtest loads, without the database, ccxt or Mastra (test/cli/lazy-start.test.ts)',
  ],
  [
    'trading/backtest-core.ts',
    "a file backtest with the strategy's defaults: candle files, the strategies' rules, the backtest, and not zod, which engine.ts's parameter schemas load (test/cli/lazy-start.test.ts)",
  ],
]);

/** Imports past an index that stay, each with why; an entry that no longer occurs must come off. */
const PAST_THE_INDEX: ReadonlyMap<string, string> = new Map([
  [
    'billing/figures.ts -> figures/window.ts',
    "figures/index.ts gathers billing's finance figures (through billing/index.ts) with the trading ones: billing importing that index back would make a cycle",
  ],
  [
    'candles/resample.ts -> trading/market-data/timeframe.ts',
    'a maintenance script kept beside the data it resamples, not part of the product',
  ],
  [
    'eval/messages.ts -> tools/policy.ts',
    'the evaluation checks its message files without loading the tools (and through them the database drivers)',
  ],
  ['eval/messages.ts -> agents/toolsets.ts', 'the evaluation reads the agents’ tool sets without loading Mastra'],
  ['eval/offline.ts -> agents/intents.ts', 'the offline evaluation scores the intent matcher alone, without loading Mastra'],
  ['eval/run.ts -> test/support/chaos-model.ts', '`npm run eval -- --scripted chaos` plays the suite’s own bad model'],
  [
    'eval/run.ts -> test/support/fake-ollama.ts',
    '`npm run eval -- --scripted` serves the scripted models over the Ollama protocol the suite uses',
  ],
  ['eval/run.ts -> test/support/perfect-model.ts', '`npm run eval -- --scripted perfect` plays the suite’s perfect model'],
]);

/** Not the product: the suite and the benchmarks reach inside on purpose. */
const HARNESS = ['test/', 'bench/'];

const topFolder = (name: string): string | undefined => (name.includes('/') ? name.slice(0, name.indexOf('/')) : undefined);

function importsPastTheIndex(): string[] {
  const found: string[] = [];
  for (const file of sourceFiles()) {
    const name = rel(file);
    const from = topFolder(name);
    if (from === undefined || HARNESS.some((prefix) => name.startsWith(prefix))) continue;
    for (const { target } of relativeImportsOf(file)) {
      const to = topFolder(target);
      if (to === undefined || to === from || target === `${to}/index.ts` || PUBLIC_ENTRIES.has(target)) continue;
      found.push(`${name} -> ${target}`);
    }
  }
  return [...new Set(found)].sort();
}

describe('folders import each other through their index (issue 20)', () => {
  const found = importsPastTheIndex();

  it('no folder reaches behind another one’s index, but the listed ones', () => {
    expect(found.filter((edge) => !PAST_THE_INDEX.has(edge))).toEqual([]);
  });

  it('every listed exception still occurs (the list only shrinks)', () => {
    expect([...PAST_THE_INDEX.keys()].filter((edge) => !found.includes(edge))).toEqual([]);
  });

  it('the public entries exist', () => {
    for (const entry of PUBLIC_ENTRIES.keys()) expect(sourceFiles().map(rel)).toContain(entry);
  });
});
