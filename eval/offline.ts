import { isDeepStrictEqual } from 'node:util';
import { detectLocale } from '../i18n/index.ts';
import { routeMessage, type AgentName } from '../agents/intents.ts';
import { changesSomething } from '../tools/index.ts';
import type { EvalMessage } from './messages.ts';

export interface Accuracy {
  readonly correct: number;
  readonly total: number;
  /** correct / total (1 when there is nothing to count). */
  readonly accuracy: number;
}

export interface EvalMiss {
  readonly id: string;
  readonly agent: AgentName;
  readonly locale: EvalMessage['locale'];
  readonly message: string;
  readonly expected: string;
  /** The tool chosen instead, or null when nothing was recognised. */
  readonly got: string | null;
}

export interface ArgsMiss {
  readonly id: string;
  readonly message: string;
  readonly expected: Record<string, unknown>;
  readonly got: Record<string, unknown>;
}

export interface OfflineEvaluation {
  /** The right tool. */
  readonly overall: Accuracy;
  readonly byAgent: Readonly<Record<string, Accuracy>>;
  readonly byLocale: Readonly<Record<EvalMessage['locale'], Accuracy>>;
  /** Of the messages with expected arguments whose tool was right: every expected argument present and equal. */
  readonly args: Accuracy;
  /** The reply's language guessed right (detectLocale). */
  readonly localeDetection: Accuracy;
  readonly misses: readonly EvalMiss[];
  readonly argsMisses: readonly ArgsMiss[];
  /** Messages that ask for a read and were routed to a tool that changes something (must be none). */
  readonly readsRoutedToWrites: readonly EvalMiss[];
}

function tally(pairs: readonly { key: string; ok: boolean }[]): Record<string, Accuracy> {
  const counts = new Map<string, { correct: number; total: number }>();
  for (const { key, ok } of pairs) {
    const count = counts.get(key) ?? { correct: 0, total: 0 };
    count.total += 1;
    if (ok) count.correct += 1;
    counts.set(key, count);
  }
  return Object.fromEntries([...counts].map(([key, c]) => [key, accuracy(c.correct, c.total)]));
}

const miss = (r: { m: EvalMessage; got: string | null }): EvalMiss => ({
  id: r.m.id,
  agent: r.m.agent,
  locale: r.m.locale,
  message: r.m.message,
  expected: r.m.tool,
  got: r.got,
});

const accuracy = (correct: number, total: number): Accuracy => ({ correct, total, accuracy: total === 0 ? 1 : correct / total });

/** Whether every expected argument is there with the same value. */
function argsMatch(expected: Record<string, unknown>, got: Record<string, unknown>): boolean {
  return Object.entries(expected).every(([key, value]) => isDeepStrictEqual(got[key], value));
}

/**
 * Runs the deterministic router (what answers when the model is away) over the evaluation set:
 * which tool each message leads to, per agent and per language, and the misses.
 */
export function evaluateOffline(messages: readonly EvalMessage[]): OfflineEvaluation {
  const results = messages.map((m) => {
    const routed = routeMessage(m.agent, m.message);
    return { m, got: routed?.tool ?? null, args: routed?.args ?? {}, ok: routed?.tool === m.tool };
  });
  const withArgs = results.filter((r) => r.ok && r.m.args);
  const argsMisses = withArgs
    .filter((r) => !argsMatch(r.m.args!, r.args))
    .map((r) => ({ id: r.m.id, message: r.m.message, expected: r.m.args!, got: r.args }));
  return {
    overall: accuracy(results.filter((r) => r.ok).length, results.length),
    byAgent: tally(results.map((r) => ({ key: r.m.agent, ok: r.ok }))),
    byLocale: { 'pt-BR': accuracy(0, 0), en: accuracy(0, 0), ...tally(results.map((r) => ({ key: r.m.locale, ok: r.ok }))) },
    args: accuracy(withArgs.length - argsMisses.length, withArgs.length),
    localeDetection: accuracy(messages.filter((m) => detectLocale(m.message) === m.locale).length, messages.length),
    misses: results.filter((r) => !r.ok).map(miss),
    argsMisses,
    readsRoutedToWrites: results.filter((r) => !changesSomething(r.m.tool) && r.got !== null && changesSomething(r.got)).map(miss),
  };
}

const pct = (a: Accuracy) => `${(a.accuracy * 100).toFixed(1)} % (${a.correct}/${a.total})`;

/**
 * A plain-text report of an evaluation, for the terminal. `details: false` leaves out the
 * misses (for the held-out part: looking at them would make it a development set).
 */
export function formatEvaluation(evaluation: OfflineEvaluation, title = 'offline router', options: { details?: boolean } = {}): string {
  const details = options.details ?? true;
  return [
    `${title}: ${pct(evaluation.overall)} right tool; arguments ${pct(evaluation.args)}; reply language ${pct(evaluation.localeDetection)}; reads routed to writes: ${evaluation.readsRoutedToWrites.length}`,
    `  by locale: ${Object.entries(evaluation.byLocale)
      .map(([locale, a]) => `${locale} ${pct(a)}`)
      .join(', ')}`,
    ...Object.entries(evaluation.byAgent).map(([agent, a]) => `  ${agent.padEnd(14)} ${pct(a)}`),
    ...(details ? evaluation.misses.map((m) => `  miss ${m.id}: "${m.message}" → ${m.got ?? 'nothing'} (expected ${m.expected})`) : []),
    ...(details
      ? evaluation.argsMisses.map((m) => `  args ${m.id}: expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.got)}`)
      : []),
  ].join('\n');
}
