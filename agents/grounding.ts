// Grounding: every figure in an answer must come from a tool result of the same turn (or the
// question, or today's date). Formatting is allowed: pt-BR and English separators, R$/US$/%,
// "mil"/"k"/"milhões"/"M", cents shown as reais, ratios shown as percentages, and rounding to
// the decimals the answer shows.

export interface GroundingVerdict {
  readonly grounded: boolean;
  /** The figures of the answer no source accounts for, as written. */
  readonly unsupported: readonly string[];
}

const NUMBER = /(?<![\w.,])[-−]?\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d+)?(?![\d])|(?<![\w.,])[-−]?\d+(?:[.,]\d+)?/g;
const SCALE = /^\s*(mil\b|k\b|milh(?:ão|ões|oes|ao)\b|mi\b|m\b|million|bilh(?:ão|ões)|bi\b|billion|b\b|thousand)/i;

function scaleOf(after: string): number {
  const match = SCALE.exec(after);
  if (!match) return 1;
  const word = match[1]!.toLowerCase();
  if (word === 'mil' || word === 'k' || word === 'thousand') return 1e3;
  if (word.startsWith('bi') || word === 'b' || word === 'billion') return 1e9;
  return 1e6;
}

/** The values a written number may mean (1.234 is 1234 in pt-BR and 1.234 in English). */
function readings(text: string): { values: number[]; decimals: number[] } {
  const negative = /^[-−]/.test(text);
  const digits = text.replace(/^[-−]/, '').replace(/\s/g, '');
  const candidates: { value: number; decimals: number }[] = [];
  const asPt = digits.replace(/\./g, '').replace(',', '.');
  const asEn = digits.replace(/,/g, '');
  for (const form of new Set([asPt, asEn])) {
    if (!/^\d+(\.\d+)?$/.test(form)) continue;
    candidates.push({ value: Number(form), decimals: form.includes('.') ? form.split('.')[1]!.length : 0 });
  }
  return { values: candidates.map((c) => (negative ? -c.value : c.value)), decimals: candidates.map((c) => c.decimals) };
}

/** Every number in a JSON value (strings included), with cents also as units of currency. */
export function sourceNumbers(values: readonly unknown[]): number[] {
  const out: number[] = [];
  const visit = (value: unknown, key: string) => {
    if (typeof value === 'number' && Number.isFinite(value)) {
      out.push(value);
      if (/cents$/i.test(key)) out.push(value / 100);
      return;
    }
    if (typeof value === 'string') {
      for (const match of value.matchAll(NUMBER)) out.push(...readings(match[0]).values);
      return;
    }
    if (Array.isArray(value)) {
      out.push(value.length);
      for (const item of value) visit(item, key);
      return;
    }
    if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, k);
  };
  for (const value of values) visit(value, '');
  return out;
}

function matches(written: number, decimals: number, scale: number, source: number): boolean {
  const candidates = [source, source * 100, Math.abs(source)];
  return candidates.some((s) => {
    const shown = s / scale;
    const step = 10 ** -decimals;
    // Rounded or truncated to the decimals shown.
    return Math.abs(shown - written) <= step / 2 + 1e-9 || (Math.abs(shown) >= Math.abs(written) && Math.abs(shown - written) < step);
  });
}

/**
 * Checks an answer against the sources of its turn. Numbers that are list markers ("1.") or
 * part of a word ("qwen3", "ARR2") are not figures.
 */
export function checkGrounding(answer: string, sources: readonly unknown[], extraText: readonly string[] = []): GroundingVerdict {
  const known = sourceNumbers([...sources, ...extraText]);
  const unsupported: string[] = [];
  for (const match of answer.matchAll(NUMBER)) {
    const text = match[0];
    const index = match.index;
    const after = answer.slice(index + text.length);
    if (/^\.\s/.test(after) && /(^|\n)\s*$/.test(answer.slice(0, index))) continue; // "1. item"
    const { values, decimals } = readings(text);
    const scale = scaleOf(after);
    const ok = values.some((value, i) => known.some((source) => matches(value, decimals[i]!, scale, source)));
    if (!ok) unsupported.push(text);
  }
  return { grounded: unsupported.length === 0, unsupported };
}
