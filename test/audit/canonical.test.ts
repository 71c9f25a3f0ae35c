import { describe, expect, it } from 'vitest';
import { canonicalJson, normalizeJson } from '../../audit/index.ts';

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
});
