import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/carrier/backoff.ts';

describe('Backoff', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const max = new Backoff({ initialMs: 100, maxMs: 5000, random: () => 0.999999 });
    const ceilings = Array.from({ length: 8 }, () => max.next());
    expect(ceilings).toEqual([99, 199, 399, 799, 1599, 3199, 4999, 4999]);
    const min = new Backoff({ initialMs: 100, maxMs: 5000, random: () => 0 });
    expect(Array.from({ length: 5 }, () => min.next())).toEqual([0, 0, 0, 0, 0]);
  });

  it('reset starts over', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 5000, random: () => 0.5 });
    b.next(); b.next(); b.next();
    b.reset();
    expect(b.next()).toBe(50);
  });

  it('spreads a fleet over the window instead of a spike', () => {
    const delays = Array.from({ length: 1000 }, () => new Backoff({ initialMs: 1000, maxMs: 60_000 })).map((b) => {
      for (let i = 0; i < 6; i++) b.next();
      return b.next();
    });
    const buckets = new Array(8).fill(0);
    for (const d of delays) buckets[Math.floor(d / 8000)]++;
    for (const n of buckets) expect(n).toBeGreaterThan(60);
  });
});
