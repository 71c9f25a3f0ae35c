import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { resultJson, validatedResult } from '../../tools/immutable-results.ts';

// A tool result that cannot change (every object in it frozen: a chart answered from memory)
// is validated and written as JSON once; anything else every time.
const schema = z.object({ symbol: z.string(), candles: z.array(z.object({ close: z.number() })) });

describe('immutable tool results', () => {
  it('validates a frozen result once: the same frozen parse each time, and its JSON written once', () => {
    const raw = Object.freeze({ symbol: 'BTC/USDT', candles: Object.freeze([Object.freeze({ close: 1 })]), extra: 'dropped' });
    const first = validatedResult(schema, raw);
    expect(first).toEqual({ symbol: 'BTC/USDT', candles: [{ close: 1 }] });
    expect(validatedResult(schema, raw)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen((first as { candles: object[] }).candles[0])).toBe(true);
    expect(resultJson(first)).toBe('{"symbol":"BTC/USDT","candles":[{"close":1}]}');
    expect(resultJson(first)).toBe(resultJson(first));
  });

  it('validates anything else every time, and a bad result still fails', () => {
    const inner = { close: 1 };
    const raw = Object.freeze({ symbol: 'ETH/USDT', candles: Object.freeze([inner]) }); // an unfrozen object inside
    const first = validatedResult(schema, raw);
    expect(validatedResult(schema, raw)).not.toBe(first);
    inner.close = 2;
    expect(validatedResult(schema, raw)).toEqual({ symbol: 'ETH/USDT', candles: [{ close: 2 }] });
    expect(resultJson(raw)).toBe('{"symbol":"ETH/USDT","candles":[{"close":2}]}');
    expect(() => validatedResult(schema, Object.freeze({ symbol: 1, candles: Object.freeze([]) }))).toThrow();
    expect(validatedResult(z.number(), 3)).toBe(3);
    // A frozen Date still changes (setTime): a result holding one is validated every time.
    const dated = Object.freeze({ at: Object.freeze(new Date(0)) });
    const atSchema = z.object({ at: z.date() });
    expect(validatedResult(atSchema, dated)).not.toBe(validatedResult(atSchema, dated));
  });
});
