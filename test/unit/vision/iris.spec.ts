import { describe, expect, it } from 'vitest';
import { eyeBox, lidOpening } from '../../../src/vision/iris.ts';

/** A synthetic model output: lower lid 0-8 corner to corner on y = +h/2 (inner points), upper lid 9-15 on y = -h/2. */
function contour(width: number, gap: number, rollDeg = 0, cx = 32, cy = 32): Float32Array {
  const out = new Float32Array(228);
  const c = Math.cos((rollDeg * Math.PI) / 180);
  const s = Math.sin((rollDeg * Math.PI) / 180);
  const put = (i: number, x: number, y: number): void => {
    out[3 * i] = cx + x * c - y * s;
    out[3 * i + 1] = cy + x * s + y * c;
  };
  for (let i = 0; i <= 8; i++) put(i, -width / 2 + (width * i) / 8, i === 0 || i === 8 ? 0 : gap / 2);
  for (let i = 9; i <= 15; i++) put(i, -width / 2 + (width * (i - 8)) / 8, -gap / 2);
  return out;
}

describe('iris lid opening', () => {
  it('is the lid gap over the corner distance, independent of size and head roll', () => {
    expect(lidOpening(contour(40, 10))).toBeCloseTo(0.25, 6);
    expect(lidOpening(contour(20, 5))).toBeCloseTo(0.25, 6);
    expect(lidOpening(contour(40, 10, 25))).toBeCloseTo(0.25, 5);
    expect(lidOpening(contour(40, 10, -40))).toBeCloseTo(0.25, 5);
    expect(lidOpening(contour(40, 2))).toBeCloseTo(0.05, 6);
  });

  it('is 0 for a degenerate or inverted contour', () => {
    expect(lidOpening(new Float32Array(228))).toBe(0);
    expect(lidOpening(contour(40, -6))).toBe(0);
  });

  it('crops a square 2.3x the corner span around the eye centre', () => {
    expect(eyeBox(100, 50, 140, 54)).toEqual({ x1: 74, y1: 6, x2: 166, y2: 98 });
  });
});
