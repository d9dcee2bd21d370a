import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UNTRUSTED_TEXT_MAX, untrustedText } from '../../../src/lib/untrusted-text.ts';

describe('untrustedText', () => {
  it('keeps short strings, cuts long ones with a marker that says how long they were', () => {
    expect(untrustedText('kid-1')).toBe('kid-1');
    expect(untrustedText('k'.repeat(100_000))).toBe(`${'k'.repeat(UNTRUSTED_TEXT_MAX)}…[100000 chars]`);
  });

  it('describes non-strings without calling into them', () => {
    expect(untrustedText({ toString: 1, valueOf: 1 })).toBe('(an object)');
    expect(untrustedText(['a'])).toBe('(an array)');
    expect(untrustedText(7)).toBe('7');
    expect(untrustedText(null)).toBe('null');
    expect(untrustedText(new Error('x'.repeat(1000)))).toHaveLength(UNTRUSTED_TEXT_MAX + '…[1000 chars]'.length);
  });

  it('property: never throws and stays bounded for any value', () => {
    fc.assert(fc.property(fc.anything(), fc.string({ maxLength: 2000 }), (value, s) => {
      for (const v of [value, s]) expect(untrustedText(v).length).toBeLessThanOrEqual(UNTRUSTED_TEXT_MAX + 20);
    }), { numRuns: 2000 });
  });
});
