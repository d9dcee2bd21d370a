import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/lib/backoff.ts';

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
    let state = 42; // mulberry32: a seeded PRNG, so the test is deterministic
    const random = () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const delays = Array.from({ length: 1000 }, () => new Backoff({ initialMs: 1000, maxMs: 60_000, random })).map((b) => {
      for (let i = 0; i < 6; i++) b.next();
      return b.next();
    });
    const buckets = new Array(8).fill(0);
    for (const d of delays) buckets[Math.floor(d / 7500)]++;
    // 7th attempt: ceiling capped at 60 s; a uniform spread puts ~125 in each 7.5 s bucket
    for (const n of buckets) expect(n).toBeGreaterThan(80);
  });
});
