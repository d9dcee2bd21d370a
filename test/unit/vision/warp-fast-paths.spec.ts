/**
 * The specialised samplers behind warpToTensor/warpToGray (the per-frame hot path) against textbook bilinear
 * references written out pixel by pixel here: the detector's 2×2 halving of a 640×480 frame and the axis-aligned gray
 * crop must give the SAME values as the plain definitions (exact equality), not merely close ones, so that the
 * model inputs, and the int8 calibration made from them, do not move.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/vision/image.ts';
import { type TensorSpec, cropMap, warpToGray, warpToTensor } from '../../../src/vision/warp.ts';

function noise(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, data };
}

/** Bilinear RGB with taps outside the image counting as 0, weights in doubles (the definition). */
function bilinear(img: RgbImage, sx: number, sy: number): [number, number, number] {
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  const fx = sx - x0;
  const fy = sy - y0;
  const out: [number, number, number] = [0, 0, 0];
  for (const [dx, dy, w] of [
    [0, 0, (1 - fx) * (1 - fy)],
    [1, 0, fx * (1 - fy)],
    [0, 1, (1 - fx) * fy],
    [1, 1, fx * fy],
  ]) {
    const x = x0 + dx;
    const y = y0 + dy;
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) continue;
    for (let c = 0; c < 3; c++) out[c] += img.data[(y * img.width + x) * 3 + c] * w;
  }
  return out;
}

describe('detector input: halving a 640x480 frame into 320x240', () => {
  const frame = noise(640, 480, 7);
  const map = cropMap({ x1: 0, y1: 0, x2: 640, y2: 480 }, 320, 240);

  for (const spec of [
    { colour: 'rgb', mean: [127, 127, 127], std: [128, 128, 128] },
    { colour: 'bgr', mean: [104, 117, 123], std: [58.4, 57.1, 57.4] },
  ] as TensorSpec[]) {
    it(`each value is the normalised mean of its 2x2 block, in ${spec.colour} plane order (exact)`, () => {
      const out = warpToTensor(frame, map, 320, 240, spec, new Float32Array(3 * 320 * 240));
      const order = spec.colour === 'bgr' ? [2, 1, 0] : [0, 1, 2];
      let mismatches = 0;
      for (let y = 0; y < 240; y++) {
        for (let x = 0; x < 320; x++) {
          for (let p = 0; p < 3; p++) {
            const c = order[p];
            const at = (yy: number, xx: number): number => frame.data[(yy * 640 + xx) * 3 + c];
            const mean = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
            if (out[p * 76800 + y * 320 + x] !== Math.fround((mean - spec.mean[p]) * (1 / spec.std[p]))) mismatches++;
          }
        }
      }
      expect(mismatches).toBe(0);
    });
  }

  it('equals the general bilinear definition at every pixel', () => {
    const spec: TensorSpec = { colour: 'rgb', mean: [0, 0, 0], std: [1, 1, 1] };
    const out = warpToTensor(frame, map, 320, 240, spec, new Float32Array(3 * 320 * 240));
    for (let y = 0; y < 240; y += 7) {
      for (let x = 0; x < 320; x += 5) {
        const ref = bilinear(frame, 2 * x + 0.5, 2 * y + 0.5);
        for (let c = 0; c < 3; c++) expect(out[c * 76800 + y * 320 + x]).toBe(Math.fround(ref[c]));
      }
    }
  });
});

describe('quality crop: axis-aligned warpToGray', () => {
  it('equals the general bilinear definition exactly, inside and past the edges', () => {
    const img = noise(41, 29, 3);
    fc.assert(
      fc.property(
        fc.double({ min: -15, max: 35, noNaN: true }),
        fc.double({ min: -15, max: 25, noNaN: true }),
        fc.double({ min: 1, max: 50, noNaN: true }),
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        (x1, y1, side, aspect) => {
          const map = cropMap({ x1, y1, x2: x1 + side, y2: y1 + side * aspect }, 16, 16);
          const gray = warpToGray(img, map, 16, 16);
          for (let y = 0; y < 16; y++) {
            for (let x = 0; x < 16; x++) {
              const [r, g, b] = bilinear(img, map[0] * x + map[2], map[4] * y + map[5]);
              expect(gray[y * 16 + x]).toBe(Math.trunc((r * 77 + g * 150 + b * 29) / 256 + 0.5));
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
