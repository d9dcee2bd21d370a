import { describe, expect, it } from 'vitest';
import { AntispoofAggregator, BestFrames, ContinuityTracker, cosine, trimmedMean } from '../../../src/session/evidence.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { noisyCopy, prng, randomEmbedding } from './synth.ts';

const policy = resolvePolicy();
const allZero = (e: Float32Array): boolean => e.every((v) => v === 0);

describe('anti-spoof aggregation', () => {
  it('trimmed mean ignores a few outlier frames that a plain mean would not', () => {
    const scores = [0.9, 0.85, 0.88, 0.9, 0.87, 0.86, 0.89, 0.91, 0.02, 0.01];
    expect(trimmedMean(scores, 0.2)).toBeGreaterThan(0.85);
    expect(trimmedMean(scores, 0)).toBeLessThan(0.72);
  });

  it('needs minFrames before it can call a face live, and decides on the aggregate', () => {
    const agg = new AntispoofAggregator(policy.antispoof);
    for (let i = 0; i < policy.antispoof.minFrames - 1; i++) agg.add(0.95);
    expect(agg.summary()).toMatchObject({ enough: false, live: false });
    agg.add(0.95);
    expect(agg.summary()).toMatchObject({ enough: true, live: true });
    const spoof = new AntispoofAggregator(policy.antispoof);
    for (let i = 0; i < 20; i++) spoof.add(i === 3 ? 0.99 : 0.2);
    expect(spoof.summary()).toMatchObject({ enough: true, live: false });
  });
});

describe('best frames and continuity', () => {
  it('keeps the top-K by quality and zeroes every embedding it drops or clears', () => {
    const rand = prng(1);
    const person = randomEmbedding(rand);
    const best = new BestFrames(2);
    const given = [0.5, 0.9, 0.1, 0.7].map((score, i) => {
      const e = noisyCopy(person, rand);
      best.offer(i, score, e);
      return e;
    });
    expect(best.size).toBe(2);
    expect(allZero(given[0])).toBe(true);
    expect(allZero(given[2])).toBe(true);
    expect(allZero(given[1]) || allZero(given[3])).toBe(false);
    const probe = best.probe();
    expect(probe && cosine(probe, person)).toBeGreaterThan(0.85);
    best.clear();
    expect(given.every(allZero)).toBe(true);
  });

  it('continuity: same person stays high, another person falls low, and the anchor copy is zeroed on clear', () => {
    const rand = prng(2);
    const a = randomEmbedding(rand);
    const c = new ContinuityTracker();
    const first = noisyCopy(a, rand);
    expect(c.check(first)).toBe(1);
    first.fill(0);
    expect(c.check(noisyCopy(a, rand))).toBeGreaterThan(0.7);
    expect(c.check(randomEmbedding(rand))).toBeLessThan(policy.match.continuityThreshold);
    expect(c.minSimilarity).toBeLessThan(0.4);
    c.clear();
    expect(c.check(noisyCopy(a, rand))).toBe(1);
  });
});
