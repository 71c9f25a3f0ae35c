import { readFileSync } from 'node:fs';
import { foldText } from '../i18n/index.ts';

// The router's second opinion: a small multinomial naive Bayes over character n-grams (they
// survive typos and abbreviations: "pagtos", "qto", "cancelamentos") and words, trained when
// the process starts from the labelled staff messages — eval/messages.jsonl, eval/training.jsonl,
// eval/training2.jsonl and the lines of eval/heldout.jsonl not marked held out (those are never trained on, so the
// evaluation can report a score on messages the router has never seen). ~620 short messages
// train in a few milliseconds. It only picks among read tools: an action always needs a rule.

const FUNCTION_WORDS = new Set(
  (
    'para pelo pela pelos pelas como qual quais quanto quantos quantas onde quem esse essa isso este esta isto aqui agora hoje tudo todos todas ' +
    'voce voces vcs nosso nossa meus minhas dele dela mais menos muito pouco ainda entao porque tambem sobre entre depois antes favor please ' +
    'what which when where there their they them this that these those have does with from about into your ours some much many just like ' +
    'tell show give make know want need could would should really right'
  ).split(' '),
);

export interface LabelledMessage {
  readonly message: string;
  readonly tool: string;
}

/** Character 3- to 5-grams of each word (with its edges marked) and the words themselves. */
export function features(text: string): string[] {
  const words = foldText(text)
    .replace(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, ' email ')
    .replace(/\b[0-9a-f]{8}-[0-9a-f-]{27}\b/g, ' uuid ')
    .split(/[^a-z0-9_]+/)
    .filter(Boolean);
  const out: string[] = [];
  for (const word of words) {
    out.push(`w:${word}`);
    const padded = ` ${word} `;
    for (let n = 3; n <= 5; n++) for (let i = 0; i + n <= padded.length; i++) out.push(padded.slice(i, i + n));
  }
  return out;
}

export class IntentModel {
  readonly #logPrior = new Map<string, number>();
  readonly #logLikelihood = new Map<string, Map<string, number>>();
  readonly #logUnseen = new Map<string, number>();

  constructor(examples: readonly LabelledMessage[]) {
    const counts = new Map<string, Map<string, number>>();
    const totals = new Map<string, number>();
    const docs = new Map<string, number>();
    const vocabulary = new Set<string>();
    for (const { message, tool } of examples) {
      docs.set(tool, (docs.get(tool) ?? 0) + 1);
      const bag = counts.get(tool) ?? new Map<string, number>();
      for (const f of features(message)) {
        bag.set(f, (bag.get(f) ?? 0) + 1);
        totals.set(tool, (totals.get(tool) ?? 0) + 1);
        vocabulary.add(f);
      }
      counts.set(tool, bag);
    }
    for (const [tool, bag] of counts) {
      this.#logPrior.set(tool, Math.log(docs.get(tool)! / examples.length));
      const denominator = totals.get(tool)! + vocabulary.size;
      this.#logLikelihood.set(tool, new Map([...bag].map(([f, n]) => [f, Math.log((n + 1) / denominator)])));
      this.#logUnseen.set(tool, Math.log(1 / denominator));
    }
  }

  /**
   * The share of the text's longer n-grams (5 characters) that this tool's examples contain:
   * how much of the message the model has seen for it. A naive Bayes posterior among a few
   * tools is sure of itself even for a poem; this says whether the message is in its domain.
   */
  support(text: string, tool: string): number {
    const likelihood = this.#logLikelihood.get(tool);
    if (!likelihood) return 0;
    // Content words only (4+ letters, not function words); each counts when most of its 4-grams were seen.
    const words = foldText(text)
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length >= 4 && !FUNCTION_WORDS.has(w));
    if (words.length === 0) return 0;
    const seen = words.filter((word) => {
      const padded = ` ${word} `;
      const grams = Array.from({ length: padded.length - 3 }, (_, i) => padded.slice(i, i + 4));
      return grams.filter((g) => likelihood.has(g)).length / grams.length >= 0.6;
    });
    return seen.length / words.length;
  }

  /** The likeliest of `candidates` for the text, with its probability among them (0–1). */
  classify<T extends string>(text: string, candidates: readonly T[]): { tool: T; probability: number; support: number } | undefined {
    const known = candidates.filter((tool) => this.#logPrior.has(tool));
    if (known.length === 0) return undefined;
    const fs = features(text);
    const scores = known.map((tool) => {
      const likelihood = this.#logLikelihood.get(tool)!;
      const unseen = this.#logUnseen.get(tool)!;
      return { tool, score: this.#logPrior.get(tool)! + fs.reduce((sum, f) => sum + (likelihood.get(f) ?? unseen), 0) };
    });
    const best = scores.reduce((a, b) => (b.score > a.score ? b : a));
    const total = scores.reduce((sum, s) => sum + Math.exp(s.score - best.score), 0);
    return { tool: best.tool, probability: 1 / total, support: this.support(text, best.tool) };
  }
}

/** The labelled messages the router learns from (never the held-out ones). */
export function trainingMessages(): LabelledMessage[] {
  const lines = (file: string) => {
    try {
      return readFileSync(new URL(`../eval/${file}`, import.meta.url), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '');
    } catch {
      return [];
    }
  };
  return [...lines('messages.jsonl'), ...lines('training.jsonl'), ...lines('training2.jsonl'), ...lines('heldout.jsonl')]
    .map((line) => JSON.parse(line) as { message: string; tool: string; heldout?: boolean })
    .filter((m) => m.heldout !== true)
    .map(({ message, tool }) => ({ message, tool }));
}

let model: IntentModel | undefined;
/** The model, trained on first use. */
export function intentModel(): IntentModel {
  model ??= new IntentModel(trainingMessages());
  return model;
}
