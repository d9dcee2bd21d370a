import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/vision/image.ts';
import { laplacianVariance, measureQuality } from '../../../src/vision/quality.ts';

function image(w: number, h: number, px: (x: number, y: number) => number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.fill(px(x, y), (y * w + x) * 3, (y * w + x) * 3 + 3);
  return { width: w, height: h, data };
}

/** 68 landmarks with the two eye contours centred at (40,50) and (80,50). */
function eyesAt(): Float32Array {
  const lm = new Float32Array(136);
  for (let i = 36; i < 42; i++) lm.set([40, 50], 2 * i);
  for (let i = 42; i < 48; i++) lm.set([80, 50], 2 * i);
  return lm;
}

describe('measureQuality', () => {
  const box = { x1: 20, y1: 20, x2: 100, y2: 100 };

  it('a fine checkerboard is sharper than a smooth ramp; a flat grey has zero Laplacian variance', () => {
    const checker = measureQuality(image(200, 120, (x, y) => ((x >> 1) + (y >> 1)) % 2 ? 200 : 50), box, eyesAt());
    const ramp = measureQuality(image(200, 120, (x) => x), box, eyesAt());
    expect(checker.sharpness).toBeGreaterThan(ramp.sharpness * 10);
    expect(laplacianVariance(new Uint8Array(100).fill(128), 10, 10)).toBe(0);
  });

  it('reports brightness, clipping, size, inter-eye distance and centring', () => {
    const white = measureQuality(image(200, 120, () => 255), box, eyesAt());
    expect(white.brightness).toBeCloseTo(1, 2);
    expect(white.clippedFraction).toBe(1);
    const grey = measureQuality(image(200, 120, () => 128), box, eyesAt());
    expect(grey.clippedFraction).toBe(0);
    expect(grey.brightness).toBeCloseTo(128 / 255, 2);
    expect([grey.faceWidth, grey.faceHeight]).toEqual([80, 80]);
    expect(grey.interEyeDistance).toBeCloseTo(40, 5);
    expect(grey.centreOffsetX).toBeCloseTo(60 / 200 - 0.5, 9);
    expect(grey.centreOffsetY).toBeCloseTo(60 / 120 - 0.5, 9);
  });
});
