/**
 * The eye geometry of the blink-gaze study (issue #5, research/blink-gaze.md): from one output of MediaPipe's
 * iris model (src/vision/iris.ts: 71 eye-contour points, then the iris centre and its 4 edge points, (x, y, z) in crop
 * pixels; lower lid 0-8 from corner to corner, upper lid 9-15), where the lids and the iris sit in the eye's own
 * corner frame. Study code: the shipped lid cue is iris.ts lidOpening (the same `lid` value).
 */
/** contour indices of the lower lid's inner points and the upper lid (as in src/vision/iris.ts) */
const LOWER_INNER = [1, 2, 3, 4, 5, 6, 7];
const UPPER = [9, 10, 11, 12, 13, 14, 15];
/** The eye's geometry in its own corner frame (see gazeGeometry); every length over the corner distance. */
export interface GazeGeometry {
  /** lid opening (lidOpening) */
  lid: number;
  /** mean upper-lid / inner lower-lid offset from the corner line (positive = down the face) */
  up: number;
  lo: number;
  /** iris centre along the corner axis from the corners' midpoint / below the corner line */
  ix: number;
  iy: number;
  /** mean iris radius (the 4 edge points from the centre) */
  ir: number;
  /** upper / lower lid's offset at the iris centre's position along the axis (the lid lines interpolated) */
  upAt: number;
  loAt: number;
  /** fraction of the iris's vertical diameter between the two lid lines (0 = covered, 1 = all visible) */
  vis: number;
}

/** The iris centre and its 4 edge points (right, top, left, bottom in the crop; checked on d0: the centre is their mean). */
const IRIS_CENTRE = 71;
const IRIS_EDGE = [72, 73, 74, 75];

/**
 * Eye geometry from one model output in the eye's own corner frame: origin at the midpoint of the two corners
 * (contour points 0 and 8), x along the corner axis, y perpendicular to it pointing down the face, lengths over the
 * corner distance (face size and head roll cancel). Undefined for a degenerate contour.
 */
export function gazeGeometry(out: ArrayLike<number>): GazeGeometry | undefined {
  const ax = out[0];
  const ay = out[1];
  const w = Math.hypot(out[24] - ax, out[25] - ay);
  if (!(w > 0)) return undefined;
  const ux = (out[24] - ax) / w;
  const uy = (out[25] - ay) / w;
  const mx = (ax + out[24]) / 2;
  const my = (ay + out[25]) / 2;
  const along = (i: number): number => ((out[3 * i] - mx) * ux + (out[3 * i + 1] - my) * uy) / w;
  const below = (i: number): number => (-(out[3 * i] - mx) * uy + (out[3 * i + 1] - my) * ux) / w;
  const mean = (idx: number[], f: (i: number) => number): number => idx.reduce((s, i) => s + f(i), 0) / idx.length;
  const ix = along(IRIS_CENTRE);
  const iy = below(IRIS_CENTRE);
  const ir = mean(IRIS_EDGE, (i) => Math.hypot(along(i) - ix, below(i) - iy));
  const upAt = lidAt([0, ...UPPER, 8], ix, along, below);
  const loAt = lidAt([0, ...LOWER_INNER, 8], ix, along, below);
  const top = Math.max(iy - ir, upAt);
  const bottom = Math.min(iy + ir, loAt);
  return {
    lid: Math.max(0, mean(LOWER_INNER, below) - mean(UPPER, below)),
    up: mean(UPPER, below),
    lo: mean(LOWER_INNER, below),
    ix,
    iy,
    ir,
    upAt,
    loAt,
    vis: ir > 0 ? Math.min(1, Math.max(0, (bottom - top) / (2 * ir))) : 0,
  };
}

/** The lid line through `idx` (sorted along the axis), linearly interpolated at `x` (clamped to its ends). */
function lidAt(idx: number[], x: number, along: (i: number) => number, below: (i: number) => number): number {
  const pts = idx.map((i) => [along(i), below(i)] as const).sort((p, q) => p[0] - q[0]);
  if (x <= pts[0][0]) return pts[0][1];
  for (let k = 1; k < pts.length; k++) {
    const [x1, y1] = pts[k];
    if (x <= x1) {
      const [x0, y0] = pts[k - 1];
      return x1 > x0 ? y0 + ((y1 - y0) * (x - x0)) / (x1 - x0) : y1;
    }
  }
  return pts[pts.length - 1][1];
}

/** How dark the iris region of an eye crop is (see irisDarkness); NaN where no pixel qualifies. */
export interface IrisDarkness {
  /** mean luma of the disk of 0.6 iris radii around the iris centre, over the crop's mean luma */
  disk: number;
  /** mean luma of the iris circle's pixels between the two lid lines, over the crop's mean luma */
  gap: number;
  /** share of the iris circle's pixels that lie between the lid lines */
  gapShare: number;
}

/**
 * Pixel cue for "is the iris visible" (a visible iris is darker than the lid skin that covers it in a blink): from the
 * model's input crop (`size`² NHWC RGB in 0..1, as eyeCrop builds it) and its output on it (crop pixels).
 */
export function irisDarkness(crop: Float32Array, out: ArrayLike<number>, size = 64): IrisDarkness {
  const luma = (x: number, y: number): number => {
    const k = 3 * (y * size + x);
    return 0.299 * crop[k] + 0.587 * crop[k + 1] + 0.114 * crop[k + 2];
  };
  let total = 0;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) total += luma(x, y);
  const meanLuma = total / (size * size);
  const cx = out[3 * IRIS_CENTRE];
  const cy = out[3 * IRIS_CENTRE + 1];
  const r = IRIS_EDGE.reduce((s, i) => s + Math.hypot(out[3 * i] - cx, out[3 * i + 1] - cy), 0) / IRIS_EDGE.length;
  const ax = out[0];
  const ay = out[1];
  const w = Math.hypot(out[24] - ax, out[25] - ay);
  const ux = (out[24] - ax) / w;
  const uy = (out[25] - ay) / w;
  const toAxis = (px: number, py: number): [number, number] => [(px - ax) * ux + (py - ay) * uy, -(px - ax) * uy + (py - ay) * ux];
  const line = (idx: number[]): Array<[number, number]> =>
    idx.map((i) => toAxis(out[3 * i], out[3 * i + 1])).sort((p, q) => p[0] - q[0]);
  const upper = line([0, ...UPPER, 8]);
  const lower = line([0, ...LOWER_INNER, 8]);
  const at = (pts: Array<[number, number]>, x: number): number => {
    if (x <= pts[0][0]) return pts[0][1];
    for (let k = 1; k < pts.length; k++) {
      if (x <= pts[k][0]) {
        const [x0, y0] = pts[k - 1];
        const [x1, y1] = pts[k];
        return x1 > x0 ? y0 + ((y1 - y0) * (x - x0)) / (x1 - x0) : y1;
      }
    }
    return pts[pts.length - 1][1];
  };
  let disk = 0;
  let nDisk = 0;
  let gap = 0;
  let nGap = 0;
  let nCircle = 0;
  for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(size - 1, Math.ceil(cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(size - 1, Math.ceil(cx + r)); x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      if (d > r) continue;
      nCircle++;
      const l = luma(x, y);
      if (d <= 0.6 * r) {
        disk += l;
        nDisk++;
      }
      const [along, below] = toAxis(x + 0.5, y + 0.5);
      if (below > at(upper, along) && below < at(lower, along)) {
        gap += l;
        nGap++;
      }
    }
  }
  return {
    disk: nDisk > 0 && meanLuma > 0 ? disk / nDisk / meanLuma : Number.NaN,
    gap: nGap > 0 && meanLuma > 0 ? gap / nGap / meanLuma : Number.NaN,
    gapShare: nCircle > 0 ? nGap / nCircle : Number.NaN,
  };
}
