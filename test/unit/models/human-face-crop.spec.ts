/**
 * scripts/models/human-face-crop.ts: human's face box (enlarge 1.2, square, round), TF CropAndResize and TF legacy
 * ResizeBilinear, checked on tiny synthetic images against values worked out by hand from TF's definitions.
 */
import { describe, expect, it } from 'vitest';
import { cropAndResize, humanFaceBox, humanSpoofInputs, resizeBilinear } from '../../../scripts/models/human-face-crop.ts';

/** A w x h RGB image whose channel c at (x, y) is 10·y + x + 100·c. */
function ramp(w: number, h: number): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = 10 * y + x + 100 * c;
  return { width: w, height: h, data };
}

describe('human face crop', () => {
  it('enlarges the box 1.2x about its centre and squares it on the longer side', () => {
    expect(humanFaceBox({ x1: 100, y1: 50, x2: 200, y2: 200 })).toEqual({ x1: 60, y1: 35, x2: 240, y2: 215 });
  });

  it('CropAndResize of the whole image at its own size is the image / 255', () => {
    const img = ramp(5, 4);
    const out = cropAndResize(img, { x1: 0, y1: 0, x2: 5, y2: 4 }, 4);
    // TF maps output column x to input x·(w-1)/(side-1) = x·4/3 on a 5-wide image: not the identity horizontally.
    expect(out[(1 * 4 + 0) * 3]).toBeCloseTo(10 / 255, 6);
    expect(out[(0 * 4 + 1) * 3 + 1]).toBeCloseTo((4 / 3 + 100) / 255, 6);
    expect(out[(3 * 4 + 3) * 3 + 2]).toBeCloseTo((30 + 4 + 200) / 255, 6);
  });

  it('CropAndResize writes 0 for samples outside the image (whole pixel, as TF)', () => {
    const img = ramp(4, 4);
    const out = cropAndResize(img, { x1: -4, y1: 0, x2: 4, y2: 4 }, 3);
    // column 0 samples x = -4·3/4 = -3 → outside → 0; column 2 samples x = 3 → inside.
    expect(out[0]).toBe(0);
    expect(out[2 * 3]).toBeCloseTo(3 / 255, 6);
  });

  it('ResizeBilinear samples input k·in/out without half-pixel centres and clamps at the edge', () => {
    const src = new Float32Array(4 * 4 * 3);
    for (let i = 0; i < 16; i++) src[i * 3] = i; // channel 0 = 4·y + x
    const out = resizeBilinear(src, 4, 3);
    // output (1, 1) samples (4/3, 4/3): 4·4/3 + 4/3 = 20/3; output (2, 2) samples (8/3, 8/3) = 40/3
    expect(out[(1 * 3 + 1) * 3]).toBeCloseTo(20 / 3, 5);
    expect(out[(2 * 3 + 2) * 3]).toBeCloseTo(40 / 3, 5);
    const up = resizeBilinear(src, 4, 8);
    expect(up[(7 * 8 + 7) * 3]).toBe(15); // 3.5 → clamped to the last row/column
  });

  it('gives the two model inputs at their sizes, in 0..1', () => {
    const x = humanSpoofInputs(ramp(40, 30), { x1: 10, y1: 5, x2: 30, y2: 25 });
    expect(x.antispoof.length).toBe(128 * 128 * 3);
    expect(x.liveness.length).toBe(32 * 32 * 3);
    expect(Math.max(...x.liveness)).toBeLessThanOrEqual(1);
    expect(Math.min(...x.liveness)).toBeGreaterThan(0);
  });
});
