import { describe, expect, it } from 'vitest';
import { AntispoofAggregator, BestFrames, ContinuityTracker, trimmedMean } from '../../../src/session/evidence.ts';
import { wipeTemplate } from '../../../src/vision/matcher.ts';
import { meanCosine } from '../../../src/session/similarity.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { isWiped, noisyCopy, prng, randomTemplate } from './synth.ts';

const policy = resolvePolicy();

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
  it('keeps the top-K by quality and wipes every template it drops or clears', () => {
    const rand = prng(1);
    const person = randomTemplate(rand);
    const best = new BestFrames(2);
    const given = [0.5, 0.9, 0.1, 0.7].map((score, i) => {
      const t = noisyCopy(person, rand);
      best.offer(i, score, t);
      return t;
    });
    expect(best.size).toBe(2);
    expect(isWiped(given[0])).toBe(true);
    expect(isWiped(given[2])).toBe(true);
    expect(isWiped(given[1]) || isWiped(given[3])).toBe(false);
    expect(best.similarityTo(person, meanCosine)).toBeGreaterThan(0.85);
    expect(best.similarityTo(randomTemplate(rand), meanCosine)).toBeLessThan(0.3);
    best.clear();
    expect(given.every(isWiped)).toBe(true);
    expect(best.similarityTo(person, meanCosine)).toBeUndefined();
  });

  it('continuity: same person stays high, another person falls low; the anchor is a copy, wiped on clear', () => {
    const rand = prng(2);
    const a = randomTemplate(rand);
    const c = new ContinuityTracker(meanCosine);
    const first = noisyCopy(a, rand);
    expect(c.check(first)).toBeUndefined();
    expect(c.anchored).toBe(true);
    wipeTemplate(first);
    expect(c.check(noisyCopy(a, rand))).toBeGreaterThan(0.7);
    expect(c.check(randomTemplate(rand))).toBeLessThan(policy.match.continuityThreshold);
    expect(c.minSimilarity).toBeLessThan(0.4);
    c.clear();
    expect(c.anchored).toBe(false);
  });

  it('meanCosine averages over shared embedders and refuses templates with none in common', () => {
    const rand = prng(3);
    const t = randomTemplate(rand);
    expect(meanCosine(t, t)).toBeCloseTo(1, 6);
    expect(meanCosine({ feature: t.feature }, t)).toBeCloseTo(1, 6);
    expect(() => meanCosine({ x: t.feature }, { y: t.feature })).toThrow(/share no embedder/);
  });
});
