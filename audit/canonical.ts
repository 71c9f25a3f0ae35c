import crypto from 'node:crypto';

/**
 * Turns a value into what JSON (and PostgreSQL's jsonb) will give back: Dates become ISO
 * strings, bigints decimal strings, undefined members vanish. Hashing the normalised value
 * means a row read back from the database hashes the same as when it was written.
 */
export function normalizeJson(value: unknown): unknown {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));
  const parsed = JSON.parse(text) as unknown;
  return STORABLE_ESCAPE.test(text) ? storableJson(parsed) : parsed;
}

// PostgreSQL stores neither NUL nor a lone surrogate (in text or jsonb); both are written out
// as their escape, so what a model or caller sent is kept readable instead of failing the insert.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what PostgreSQL cannot store
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const STORABLE_ESCAPE = /\\u0000|\\ud[89a-f][0-9a-f]{2}/i;

/** A string PostgreSQL can store: NUL and lone surrogates become their \uXXXX escape text. */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storableJson(v)]));
  return value;
}

/** JSON with object keys sorted at every depth (jsonb does not keep key order). */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value);
  // Plain loops: this runs for every audit row appended and every row verified.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

// The canonical text of an object every object in which is frozen (a chart answered from memory,
// the same answer to every request) is kept: frozen stays frozen, so the text cannot go stale.
const frozenTexts = new WeakMap<object, string>();
const frozenDigests = new WeakMap<object, string>();
/** Set by the walk when it meets an object that is not frozen (whose text must not be kept). */
let sawUnfrozen = false;

/**
 * `canonicalJson(normalizeJson(value))` in one walk, without the JSON text and parsed copy
 * normalizeJson makes (a 60 KB tool result costs a third as much): what JSON.stringify would
 * write (toJSON, bigints as decimal strings, undefined and functions left out of objects and
 * null in arrays, non-finite numbers null), strings made storable, keys sorted at every depth.
 * test/audit/canonical.test.ts holds it to the two-step form. Undefined for a value JSON has no
 * text for (undefined, a function).
 */
export function canonicalNormalizedJson(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return canonicalWalk(value);
  if (!Object.isFrozen(value)) {
    sawUnfrozen = true;
    return canonicalWalk(value);
  }
  const kept = frozenTexts.get(value);
  if (kept !== undefined) return kept;
  const outer = sawUnfrozen;
  sawUnfrozen = false;
  const text = canonicalWalk(value);
  if (!sawUnfrozen && text !== undefined) frozenTexts.set(value, text);
  sawUnfrozen ||= outer;
  return text;
}

/** SHA-256 of a value's canonical text ('null' for a value JSON has none for); kept like the text. */
export function canonicalDigest(value: unknown): string {
  const frozen = value !== null && typeof value === 'object' && Object.isFrozen(value);
  const kept = frozen ? frozenDigests.get(value) : undefined;
  if (kept !== undefined) return kept;
  const digest = sha256Hex(canonicalNormalizedJson(value) ?? 'null');
  if (frozen && frozenTexts.has(value)) frozenDigests.set(value, digest);
  return digest;
}

function canonicalWalk(value: unknown): string | undefined {
  let item = value;
  if (item !== null && typeof item === 'object' && typeof (item as { toJSON?: unknown }).toJSON === 'function') {
    item = (item as { toJSON: () => unknown }).toJSON();
    sawUnfrozen = true; // toJSON may answer differently another time
  }
  switch (typeof item) {
    case 'string':
      return JSON.stringify(NEEDS_STORABLE.test(item) ? storableText(item) : item);
    case 'number':
      // String(n) is JSON's own text for every finite number (-0 included: "0").
      return Number.isFinite(item) ? String(item) : 'null';
    case 'boolean':
      return item ? 'true' : 'false';
    case 'bigint':
      return `"${item.toString()}"`;
    case 'object': {
      if (item === null) return 'null';
      if (Array.isArray(item)) {
        let out = '[';
        for (let i = 0; i < item.length; i++) out += `${i === 0 ? '' : ','}${canonicalNormalizedJson(item[i]) ?? 'null'}`;
        return `${out}]`;
      }
      const record = item as Record<string, unknown>;
      const keys = Object.keys(record);
      const layout = layoutOf(keys);
      let out = '{';
      for (let i = 0; i < layout.order.length; i++) {
        const at = layout.order[i]!;
        let text: string | undefined;
        // Keys alike once made storable are one member in JSON: the last one with a value.
        for (let j = at.length - 1; j >= 0 && text === undefined; j--) text = canonicalNormalizedJson(record[keys[at[j]!]!]);
        if (text !== undefined) out += `${out.length === 1 ? '' : ','}${layout.quoted[i]}:${text}`;
      }
      return `${out}}`;
    }
    default:
      return undefined; // undefined, a function, a symbol
  }
}
/**
 * An object's members in canonical order: `order[i]` holds the Object.keys indexes of the i-th
 * member (more than one only for keys alike once made storable), `quoted[i]` its key's JSON text.
 */
interface KeyLayout {
  readonly keys: readonly string[];
  readonly order: readonly (readonly number[])[];
  readonly quoted: readonly string[];
}
// The last layout computed: a result is mostly arrays of objects of one shape (candles, trades,
// rows), whose keys are then sorted and quoted once instead of once per object.
let lastLayout: KeyLayout = { keys: [], order: [], quoted: [] };

function layoutOf(keys: readonly string[]): KeyLayout {
  const last = lastLayout;
  if (last.keys.length === keys.length) {
    let same = true;
    for (let i = 0; i < keys.length && same; i++) same = keys[i] === last.keys[i];
    if (same) return last;
  }
  const members = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const storable = NEEDS_STORABLE.test(key) ? storableText(key) : key;
    const at = members.get(storable);
    if (at) at.push(i);
    else members.set(storable, [i]);
  });
  const sorted = [...members.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  lastLayout = { keys: [...keys], order: sorted.map((key) => members.get(key)!), quoted: sorted.map((key) => JSON.stringify(key)) };
  return lastLayout;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what PostgreSQL cannot store
const NEEDS_STORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}
