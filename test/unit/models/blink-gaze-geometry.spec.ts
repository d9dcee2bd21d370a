import { describe, expect, it } from 'vitest';
import { gazeGeometry, irisDarkness } from '../../../scripts/models/blink-gaze-geometry.ts';
import { lidOpening } from '../../../src/vision/iris.ts';

type Pt = [number, number];

/**
 * A synthetic iris-model output (71 contour points + 5 iris points, x y z): corners (10,20) and (50,20), the lower
 * lid's inner points on y = 26, the upper lid on y = `upperY`, the iris centre at (30, irisY) with radius 8.
 */
function output(upperY = 12, irisY = 18, map: (p: Pt) => Pt = (p) => p): Float32Array {
  const pts: Pt[] = Array.from({ length: 76 }, () => [30, 20]);
  pts[0] = [10, 20];
  pts[8] = [50, 20];
  for (let i = 1; i <= 7; i++) pts[i] = [10 + 5 * i, 26];
  for (let i = 9; i <= 15; i++) pts[i] = [15 + 5 * (i - 9), upperY];
  pts[71] = [30, irisY];
  [[38, irisY], [30, irisY - 8], [22, irisY], [30, irisY + 8]].forEach((p, k) => (pts[72 + k] = p as Pt));
  const out = new Float32Array(3 * 76);
  pts.forEach((p, i) => out.set([...map(p), 0], 3 * i));
  return out;
}

describe('gazeGeometry (the blink-gaze study: lids and iris in the eye\'s corner frame)', () => {
  it('measures the lids and the iris over the corner distance, from the corners\' midpoint, y down the face', () => {
    const g = gazeGeometry(output());
    expect(g).toBeDefined();
    expect(g!.lid).toBeCloseTo(14 / 40, 6);
    expect(g!.up).toBeCloseTo(-8 / 40, 6);
    expect(g!.lo).toBeCloseTo(6 / 40, 6);
    expect(g!.ix).toBeCloseTo(0, 6);
    expect(g!.iy).toBeCloseTo(-2 / 40, 6);
    expect(g!.ir).toBeCloseTo(8 / 40, 6);
    expect(g!.upAt).toBeCloseTo(-8 / 40, 6);
    expect(g!.loAt).toBeCloseTo(6 / 40, 6);
    // iris spans y 10..26; the lids cut it to 12..26: 14 of its 16 px are visible
    expect(g!.vis).toBeCloseTo(14 / 16, 6);
  });

  it('agrees with the shipped lidOpening, and does not change with head roll, face size or position', () => {
    const a = gazeGeometry(output())!;
    const c = Math.cos(0.5);
    const s = Math.sin(0.5);
    const rolled = output(12, 18, ([x, y]) => [100 + 2.5 * (c * x - s * y), 40 + 2.5 * (s * x + c * y)]);
    const b = gazeGeometry(rolled)!;
    for (const k of Object.keys(a) as Array<keyof typeof a>) expect(b[k]).toBeCloseTo(a[k], 5);
    expect(a.lid).toBeCloseTo(lidOpening(output()), 6);
  });

  it('reads a lowered iris and a lid over it: the iris centre drops, the visible fraction falls', () => {
    const down = gazeGeometry(output(22, 24))!; // upper lid below the iris centre's old place, iris lower by 6 px
    expect(down.iy).toBeCloseTo(4 / 40, 6);
    expect(down.vis).toBeCloseTo((26 - 22) / 16, 6); // iris 16..32 cut to 22..26
    expect(gazeGeometry(output(27))!.vis).toBe(0); // upper lid below the lower lid: nothing visible
  });

  it('is undefined for a degenerate contour (both corners on one point)', () => {
    const out = output();
    out.set([50, 20], 0);
    expect(gazeGeometry(out)).toBeUndefined();
  });
});

/** A 64x64 NHWC crop at grey `bg` with the pixels within `r` of (cx, cy) at grey `fg`. */
function crop(bg: number, fg: number, cx = 30, cy = 18, r = 8): Float32Array {
  const c = new Float32Array(64 * 64 * 3);
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) c.fill(Math.hypot(x + 0.5 - cx, y + 0.5 - cy) <= r ? fg : bg, 3 * (64 * y + x), 3 * (64 * y + x) + 3);
  }
  return c;
}

describe('irisDarkness (the study\'s pixel cue: is the iris region dark like an iris or bright like a lid)', () => {
  it('reads a dark iris as darker than the crop and a uniform (covered) region as the crop\'s own level', () => {
    const dark = irisDarkness(crop(0.8, 0.2), output());
    expect(dark.disk).toBeLessThan(0.5);
    expect(dark.gap).toBeLessThan(0.5);
    const covered = irisDarkness(crop(0.6, 0.6), output());
    expect(covered.disk).toBeCloseTo(1, 6);
    expect(covered.gap).toBeCloseTo(1, 6);
  });

  it('counts only the iris pixels between the lid lines: a lid over the iris leaves a smaller share, none when shut', () => {
    const open = irisDarkness(crop(0.8, 0.2), output(12)).gapShare;
    const half = irisDarkness(crop(0.8, 0.2), output(18)).gapShare; // upper lid through the iris centre
    expect(open).toBeGreaterThan(0.8);
    expect(half).toBeGreaterThan(0.3);
    expect(half).toBeLessThan(0.6);
    const shut = irisDarkness(crop(0.8, 0.2), output(27));
    expect(shut.gapShare).toBe(0);
    expect(shut.gap).toBeNaN();
  });
});
