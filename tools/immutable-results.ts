import type { z } from 'zod';

// A tool result that cannot change — every object in it frozen, as a chart answered from memory
// (trading/candle-chart.ts) — is validated once and its JSON written once: the same question
// again costs neither (GET /api/v1/candles, 500 bars with RSI: zod ~0.2 ms and JSON ~0.5 ms of
// ~5 ms a request). Frozen stays frozen, so a result found frozen once is safe to keep.

const validated = new WeakMap<object, unknown>();
/** The frozen parses validatedResult keeps: the results resultJson may write once. */
const immutableResults = new WeakSet<object>();
const jsonTexts = new WeakMap<object, string>();

/**
 * Whether every object in `value` is a frozen plain object or array (a tree: tool results hold
 * no cycles). A frozen Date, Map or Set still changes through its methods, so it does not count.
 */
function isDeepFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (!Object.isFrozen(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return false;
  for (const item of Object.values(value)) if (!isDeepFrozen(item)) return false;
  return true;
}

function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (const item of Object.values(value)) deepFreeze(item);
  return Object.freeze(value);
}

/**
 * `schema.parse(raw)`; for a result that cannot change, the parse made the first time, itself
 * frozen (so the audit's digest and the JSON are kept with it).
 */
export function validatedResult(schema: z.ZodType, raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object') return schema.parse(raw);
  const kept = validated.get(raw);
  if (kept !== undefined) return kept;
  const result = schema.parse(raw);
  if (isDeepFrozen(raw)) {
    validated.set(raw, deepFreeze(result));
    if (result !== null && typeof result === 'object') immutableResults.add(result);
  }
  return result;
}

/** `JSON.stringify(result)`, written once for a result validatedResult kept (one that cannot change). */
export function resultJson(result: unknown): string {
  if (result === null || typeof result !== 'object' || !immutableResults.has(result)) return JSON.stringify(result);
  let text = jsonTexts.get(result);
  if (text === undefined) {
    text = JSON.stringify(result);
    jsonTexts.set(result, text);
  }
  return text;
}
