/**
 * Face alignment: 68 landmarks → 5 points → least-squares similarity transform (Umeyama 1991) onto the 5-point
 * template an embedder was trained with. Using all five points in a least-squares fit (rather than an exact 3-point
 * affine through eyes and nose) keeps the chip rigid and spreads landmark error over all points.
 */
import type { Affine } from './warp.ts';

export type Point = readonly [number, number];

/**
 * 5 points in the ArcFace/insightface order: subject's right eye (image left), left eye, nose tip, right mouth corner,
 * left mouth corner — from the 68-point iBUG layout as interleaved [x0, y0, x1, y1, ...].
 */
export function fivePoints(lm68: ArrayLike<number>): Point[] {
  const mean = (idx: number[]): Point => {
    let x = 0;
    let y = 0;
    for (const i of idx) {
      x += lm68[2 * i];
      y += lm68[2 * i + 1];
    }
    return [x / idx.length, y / idx.length];
  };
  return [
    mean([36, 37, 38, 39, 40, 41]),
    mean([42, 43, 44, 45, 46, 47]),
    mean([30]),
    mean([48]),
    mean([54]),
  ];
}

/**
 * The similarity transform (rotation, uniform scale, translation; no reflection) that maps `src` onto `dst` with the
 * least squared error. Returns the src→dst matrix.
 */
export function similarityTransform(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = src.length;
  if (n !== dst.length || n < 2) throw new RangeError('need two equal point lists of length >= 2');
  let sxm = 0;
  let sym = 0;
  let dxm = 0;
  let dym = 0;
  for (let i = 0; i < n; i++) {
    sxm += src[i][0];
    sym += src[i][1];
    dxm += dst[i][0];
    dym += dst[i][1];
  }
  sxm /= n;
  sym /= n;
  dxm /= n;
  dym /= n;
  // In 2-D the Umeyama solution for a similarity reduces to: a = Σ(s·d)/Σ|s|², b = Σ(s×d)/Σ|s|² on centred points,
  // with R·s = [a -b; b a]·s. This is the exact least-squares optimum and never reflects.
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[i][0] - sxm;
    const sy = src[i][1] - sym;
    const dx = dst[i][0] - dxm;
    const dy = dst[i][1] - dym;
    dot += sx * dx + sy * dy;
    cross += sx * dy - sy * dx;
    norm += sx * sx + sy * sy;
  }
  if (norm < 1e-12) throw new RangeError('source points are degenerate');
  const a = dot / norm;
  const b = cross / norm;
  return [a, -b, dxm - (a * sxm - b * sym), b, a, dym - (b * sxm + a * sym)];
}

export function applyAffine(m: Affine, p: Point): Point {
  return [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]];
}
