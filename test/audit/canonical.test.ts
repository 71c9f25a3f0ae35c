import { describe, expect, it } from 'vitest';
import { canonicalDigest, canonicalJson, canonicalNormalizedJson, normalizeJson, sha256Hex } from '../../audit/index.ts';
import { parkMiller } from '../support/random.ts';

// The audit chain's hashes cover this text: it must never change for a given JSON value, or
// every stored chain stops verifying.
describe('canonicalJson', () => {
  it('sorts keys at every depth by UTF-16 code unit and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
    expect(canonicalJson({ é: 1, Z: 2, a: 3, '10': 4, '9': 5, '': 6 })).toBe('{"":6,"10":4,"9":5,"Z":2,"a":3,"é":1}');
  });

  it('writes arrays in order, with undefined items as null, and scalars as JSON', () => {
    expect(canonicalJson([1, undefined, null, 'a"b\n📈', -0, 1.5e300])).toBe('[1,null,null,"a\\"b\\n📈",0,1.5e+300]');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
  });

  it('gives the same text for a value and for its form read back from jsonb', () => {
    const written = normalizeJson({ when: new Date('2026-10-01T00:00:00Z'), big: 12345678901234567890n, list: [{ b: 2, a: 1 }] });
    const readBack = JSON.parse(
      '{"list": [{"a": 1, "b": 2}], "big": "12345678901234567890", "when": "2026-10-01T00:00:00.000Z"}',
    ) as unknown;
    expect(canonicalJson(written)).toBe(canonicalJson(readBack));
  });

  it('canonicalNormalizedJson writes in one walk exactly what canonicalJson(normalizeJson(v)) writes', () => {
    const random = parkMiller(20261202);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const strings = [
      '',
      'a',
      'Z',
      'é',
      '10',
      '9',
      'a"b\n📈',
      'nul\u0000here',
      'lone \ud800 high',
      'lone \udc00 low',
      '\\u0000 as text',
      '\uD83D\uDCC8',
    ];
    const scalar = (): unknown =>
      pick([
        () => pick(strings),
        () => Math.round((random() - 0.5) * 1e6) / 100,
        () => pick([0, -0, 1.5e300, Number.NaN, Number.POSITIVE_INFINITY, -1e-7]),
        () => random() < 0.5,
        () => null,
        () => undefined,
        () => BigInt(Math.floor(random() * 1e9)) * 12345678901n,
        () => new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 1e10)),
        () => () => 1,
        () => {
          const a = pick(strings);
          return { toJSON: () => ({ z: 1, a }) };
        },
      ])();
    const value = (depth: number): unknown => {
      if (depth > 3 || random() < 0.3) return scalar();
      if (random() < 0.4) return Array.from({ length: Math.floor(random() * 5) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 6) }, () => [pick(strings), value(depth + 1)]));
    };
    for (let i = 0; i < 2_000; i++) {
      const v = value(0);
      if (typeof v === 'function') continue; // normalizeJson throws on a bare function (no JSON text)
      const normalized = normalizeJson(v);
      expect(canonicalNormalizedJson(v)).toBe(normalized === undefined ? undefined : canonicalJson(normalized));
    }
  });
  it('canonicalNormalizedJson: objects of one shape in a row, nested ones of another, and keys alike once made storable', () => {
    const row = (i: number) => ({
      time: new Date(Date.UTC(2026, 0, 1, 0, i)),
      open: i + 0.5,
      nested: { z: i, a: [i, -0] },
      close: -i / 3,
      volume: i ? 1e21 : 1e-7,
    });
    const rows = Array.from({ length: 50 }, (_, i) => (i % 7 === 3 ? { ...row(i), extra: 'x' } : row(i)));
    const collide = { 'a\ud800': 1, 'a\\ud800': 2, b: { 'a\ud800': 3 } };
    for (const v of [rows, { rows, same: rows.slice(0, 3) }, [collide, collide, { ...collide, c: undefined }]]) {
      expect(canonicalNormalizedJson(v)).toBe(canonicalJson(normalizeJson(v)));
    }
  });

  it('keeps the text and digest of a value every object in which is frozen, and of nothing else', () => {
    const candle = (i: number) => Object.freeze({ time: `2026-01-01T00:0${i}:00.000Z`, close: i + 0.5 });
    const frozen = Object.freeze({ symbol: 'BTC/USDT', candles: Object.freeze([candle(1), candle(2)]) });
    const text = canonicalNormalizedJson(frozen);
    expect(text).toBe(canonicalJson(normalizeJson(frozen)));
    expect(canonicalNormalizedJson(frozen)).toBe(text);
    expect(canonicalDigest(frozen)).toBe(sha256Hex(text!));
    expect(canonicalDigest(frozen)).toBe(sha256Hex(text!));

    // Frozen on the outside, a plain object inside: a change inside shows in the next text.
    const inner = { close: 1 };
    const shell = Object.freeze({ candles: Object.freeze([inner]) });
    const before = canonicalDigest(shell);
    inner.close = 2;
    expect(canonicalNormalizedJson(shell)).toBe('{"candles":[{"close":2}]}');
    expect(canonicalDigest(shell)).not.toBe(before);
    // The same for a frozen value holding a Date (toJSON may answer differently next time).
    const dated = Object.freeze({ at: new Date(0) });
    canonicalNormalizedJson(dated);
    (dated.at as Date).setTime(1000);
    expect(canonicalNormalizedJson(dated)).toBe('{"at":"1970-01-01T00:00:01.000Z"}');
  });
});
