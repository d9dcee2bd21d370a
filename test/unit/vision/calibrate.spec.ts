import { describe, expect, it } from 'vitest';
import { fitFusion, fusedScore, type ScoredPair } from '../../../src/vision/calibrate.ts';

/** Deterministic pseudo-random pairs: embedder `good` separates identities well, `weak` barely does. */
function synthetic(n: number): ScoredPair[] {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const pairs: ScoredPair[] = [];
  for (let i = 0; i < n; i++) {
    const same = i % 2 === 0;
    pairs.push({ same, scores: { good: (same ? 0.6 : 0.1) + 0.8 * rnd(), weak: (same ? 0.45 : 0.35) + 0.4 * rnd() } });
  }
  pairs.push({ same: true }); // a pair where no face was found
  return pairs;
}

describe('fitFusion', () => {
  it('puts the weight on the discriminative embedder and calibrates a FAR 1e-3 threshold', () => {
    const fit = fitFusion(synthetic(400), ['weak', 'good']);
    // z-scored, the optimum is about proportional to each embedder's d' (2.2 vs 0.9): ≈0.7 on good
    expect(fit.config.weights.good).toBeGreaterThanOrEqual(0.6);
    expect(fit.config.weights.good).toBeGreaterThan(fit.config.weights.weak);
    expect(fit.crossValidated.eer).toBeLessThan(0.25);
    expect(fit.crossValidated.eer).toBeGreaterThan(0);
    expect(fit.config.norm?.good.mean).toBeCloseTo(0.1, 1);
    const impostorsAbove = synthetic(400).filter((p) => !p.same && fusedScore(p, fit.config) >= fit.config.threshold);
    expect(impostorsAbove.length).toBe(0);
  });

  it('a pair without a face is always rejected', () => {
    expect(fusedScore({ same: true }, { weights: { good: 1 } })).toBeLessThan(-1e6);
  });
});
