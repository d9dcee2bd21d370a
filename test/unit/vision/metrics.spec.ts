import { describe, expect, it } from 'vitest';
import { fuse } from '../../../src/vision/matcher.ts';
import { accuracyAt, bestAccuracy, equalErrorRate, pad, tarAtFar } from '../../../src/vision/metrics.ts';

describe('verification metrics', () => {
  const pos = [0.9, 0.8, 0.7, 0.6, 0.2];
  const neg = [0.1, 0.2, 0.3, 0.4, 0.65];

  it('perfectly separated scores give accuracy 1 and EER 0', () => {
    expect(bestAccuracy([0.9, 0.8], [0.1, 0.2]).accuracy).toBe(1);
    expect(equalErrorRate([0.9, 0.8], [0.1, 0.2]).eer).toBe(0);
  });

  it('TAR at FAR picks the lowest threshold whose FAR is within the bound', () => {
    const r = tarAtFar(pos, neg, 0.2);
    expect(r.threshold).toBe(0.6);
    expect(r.far).toBe(0.2);
    expect(r.tar).toBe(0.8);
    expect(tarAtFar(pos, neg, 0)).toEqual({ threshold: 0.7, far: 0, tar: 0.6 });
  });

  it('EER sits where false accepts equal false rejects', () => {
    const { eer, threshold } = equalErrorRate(pos, neg);
    expect(eer).toBeCloseTo(0.2, 9);
    expect(accuracyAt(pos, neg, threshold)).toBeCloseTo(0.8, 9);
    expect(bestAccuracy(pos, neg).accuracy).toBeCloseTo(0.8, 9);
  });

  it('APCER per attack type and BPCER at a threshold', () => {
    const r = pad([0.9, 0.8, 0.3], { print: [0.1, 0.6], replay: [0.2, 0.1, 0.05, 0.7] }, 0.5);
    expect(r.apcer).toEqual({ print: 0.5, replay: 0.25 });
    expect(r.bpcer).toBeCloseTo(1 / 3, 9);
  });
});

describe('score fusion', () => {
  const unit = (...v: number[]): Float32Array => {
    const n = Math.hypot(...v);
    return Float32Array.from(v, (x) => x / n);
  };
  const a = { feature: unit(1, 0), resnet: unit(1, 1) };
  const b = { feature: unit(0, 1), resnet: unit(1, 1) };

  it('averages raw cosines by weight over the embedders both templates have', () => {
    const m = fuse(a, b, { weights: { feature: 1, resnet: 3 } });
    expect(m.perEmbedder.feature).toBeCloseTo(0, 6);
    expect(m.perEmbedder.resnet).toBeCloseTo(1, 6);
    expect(m.similarity).toBeCloseTo(0.75, 6);
    expect(fuse(a, { feature: b.feature }, { weights: { feature: 1, resnet: 3 } }).similarity).toBeCloseTo(0, 6);
  });

  it('z-normalises each cosine with its impostor statistics before weighting', () => {
    const m = fuse(a, b, {
      weights: { feature: 1, resnet: 1 },
      norm: { feature: { mean: 0.1, std: 0.1 }, resnet: { mean: 0, std: 0.5 } },
    });
    expect(m.similarity).toBeCloseTo((-1 + 2) / 2, 6);
  });

  it('refuses templates with no weighted embedder in common', () => {
    expect(() => fuse({ x: a.feature }, { y: b.feature }, { weights: { x: 1 } })).toThrow(RangeError);
  });
});
