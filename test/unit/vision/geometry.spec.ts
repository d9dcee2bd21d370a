import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyAffine, fivePoints, type Point, similarityTransform } from '../../../src/vision/align.ts';
import { boxIou, nms } from '../../../src/vision/detector.ts';
import { type Affine, cropMap, invertAffine, type TensorSpec, warpToGray, warpToTensor } from '../../../src/vision/warp.ts';

const TEMPLATE: Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

describe('similarityTransform (Umeyama, 2-D)', () => {
  it('recovers any rotation, scale and translation exactly from noise-free points', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }),
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        fc.double({ min: -500, max: 500, noNaN: true }),
        fc.double({ min: -500, max: 500, noNaN: true }),
        (theta, s, tx, ty) => {
          const m: Affine = [s * Math.cos(theta), -s * Math.sin(theta), tx, s * Math.sin(theta), s * Math.cos(theta), ty];
          const dst = TEMPLATE.map((p) => applyAffine(m, p));
          const est = similarityTransform(TEMPLATE, dst);
          for (let i = 0; i < 6; i++) expect(est[i]).toBeCloseTo(m[i], 6);
        },
      ),
    );
  });

  it('never reflects: mirrored points give a proper rotation (positive determinant)', () => {
    const mirrored = TEMPLATE.map(([x, y]) => [-x, y] as Point);
    const m = similarityTransform(mirrored, TEMPLATE);
    expect(m[0] * m[4] - m[1] * m[3]).toBeGreaterThan(0);
  });

  it('is the least-squares fit: perturbing it increases the residual', () => {
    const noisy = TEMPLATE.map(([x, y], i) => [x * 2 + 10 + (i % 2 ? 1.5 : -1), y * 2 - 5 + (i % 3 ? -0.7 : 1.2)] as Point);
    const m = similarityTransform(TEMPLATE, noisy);
    const residual = (mm: Affine): number =>
      TEMPLATE.reduce((s, p, i) => {
        const q = applyAffine(mm, p);
        return s + (q[0] - noisy[i][0]) ** 2 + (q[1] - noisy[i][1]) ** 2;
      }, 0);
    const base = residual(m);
    for (let k = 0; k < 6; k++) {
      const bumped = [...m] as [number, number, number, number, number, number];
      bumped[k] += 0.01;
      expect(residual(bumped)).toBeGreaterThan(base);
    }
  });
});

describe('affine helpers', () => {
  it('invertAffine undoes the transform', () => {
    const m: Affine = [1.2, -0.3, 5, 0.4, 0.9, -7];
    const inv = invertAffine(m);
    const p = applyAffine(inv, applyAffine(m, [13, 29]));
    expect(p[0]).toBeCloseTo(13, 9);
    expect(p[1]).toBeCloseTo(29, 9);
  });

  it('fivePoints averages the eye contours and takes nose tip and mouth corners', () => {
    const lm = new Float32Array(136);
    for (let i = 0; i < 68; i++) {
      lm[2 * i] = i;
      lm[2 * i + 1] = 100 + i;
    }
    const p = fivePoints(lm);
    expect(p[0]).toEqual([38.5, 138.5]);
    expect(p[1]).toEqual([44.5, 144.5]);
    expect(p[2]).toEqual([30, 130]);
    expect(p[3]).toEqual([48, 148]);
    expect(p[4]).toEqual([54, 154]);
  });
});

describe('warp sampler', () => {
  // 4x2 RGB image with distinct channel values per pixel
  const img = {
    width: 4,
    height: 2,
    data: Uint8Array.from({ length: 24 }, (_, i) => (i * 10) % 256),
  };

  it('an identity crop reproduces pixels, in RGB or BGR planes with per-output-channel normalisation', () => {
    const map = cropMap({ x1: 0, y1: 0, x2: 4, y2: 2 }, 4, 2);
    const rgb = warpToTensor(img, map, 4, 2, { colour: 'rgb', mean: [0, 0, 0], std: [1, 1, 1] }, new Float32Array(24));
    const bgr = warpToTensor(img, map, 4, 2, { colour: 'bgr', mean: [1, 2, 3], std: [2, 2, 2] }, new Float32Array(24));
    for (let p = 0; p < 8; p++) {
      expect(rgb[p]).toBeCloseTo(img.data[p * 3], 5);
      expect(rgb[8 + p]).toBeCloseTo(img.data[p * 3 + 1], 5);
      expect(rgb[16 + p]).toBeCloseTo(img.data[p * 3 + 2], 5);
      expect(bgr[p]).toBeCloseTo((img.data[p * 3 + 2] - 1) / 2, 5);
      expect(bgr[8 + p]).toBeCloseTo((img.data[p * 3 + 1] - 2) / 2, 5);
      expect(bgr[16 + p]).toBeCloseTo((img.data[p * 3] - 3) / 2, 5);
    }
  });

  it('samples bilinearly between pixels and returns 0 outside the image', () => {
    const half: Affine = [1, 0, 0.5, 0, 1, 0];
    const g = warpToTensor(img, half, 1, 1, { colour: 'rgb', mean: [0, 0, 0], std: [1, 1, 1] }, new Float32Array(3));
    expect(g[0]).toBeCloseTo((img.data[0] + img.data[3]) / 2, 5);
    const outside = warpToGray(img, [1, 0, -10, 0, 1, -10], 2, 2);
    expect([...outside]).toEqual([0, 0, 0, 0]);
  });
});

describe('axis-aligned fast path', () => {
  it('matches the general sampler for random crops, scales and colour specs, inside and past the edges', () => {
    const w = 37;
    const h = 23;
    const img = { width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 97 + 13) % 256) };
    fc.assert(
      fc.property(
        fc.double({ min: -10, max: 30, noNaN: true }),
        fc.double({ min: -10, max: 20, noNaN: true }),
        fc.double({ min: 2, max: 60, noNaN: true }),
        fc.constantFrom<TensorSpec['colour'][]>('rgb', 'bgr', 'gray'),
        (x1, y1, side, colour) => {
          const spec: TensorSpec =
            colour === 'gray' ? { colour, mean: [10], std: [3] } : { colour, mean: [1, 2, 3], std: [4, 5, 6] };
          const map = cropMap({ x1, y1, x2: x1 + side, y2: y1 + side * 0.7 }, 9, 7);
          const general: Affine = [map[0], 1e-13, map[2], 0, map[4], map[5]];
          const n = (colour === 'gray' ? 1 : 3) * 63;
          const fast = warpToTensor(img, map, 9, 7, spec, new Float32Array(n));
          const slow = warpToTensor(img, general, 9, 7, spec, new Float32Array(n));
          for (let i = 0; i < n; i++) expect(fast[i]).toBeCloseTo(slow[i], 3);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('nms', () => {
  it('keeps the best-scoring box of an overlapping cluster and separate faces', () => {
    const dets = [
      { score: 0.99, box: { x1: 10, y1: 10, x2: 50, y2: 50 } },
      { score: 0.95, box: { x1: 12, y1: 11, x2: 52, y2: 51 } },
      { score: 0.9, box: { x1: 100, y1: 10, x2: 140, y2: 50 } },
    ];
    const kept = nms(dets, 0.4);
    expect(kept.map((d) => d.score)).toEqual([0.99, 0.9]);
    expect(boxIou(dets[0].box, dets[1].box)).toBeGreaterThan(0.4);
  });
});
