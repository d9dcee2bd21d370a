/**
 * Geometric sampling on typed arrays: one bilinear sampler behind resize, crop and affine warp, writing straight into
 * a model's input tensor (planar CHW, channel order and normalisation from the manifest) or into a gray Uint8 crop.
 * No per-pixel allocation; callers may pass the output buffer to reuse it across frames.
 */
import type { RgbImage } from './image.ts';

/** Row-major 2x3 affine matrix [a, b, c, d, e, f]: x' = a·x + b·y + c, y' = d·x + e·y + f. */
export type Affine = readonly [number, number, number, number, number, number];

/** How pixels become model input: channel order, then (value - mean[c]) / std[c] per output channel. */
export interface TensorSpec {
  readonly colour: 'rgb' | 'bgr' | 'gray';
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** An axis-aligned box in pixel coordinates. */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new RangeError('affine matrix is singular');
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/**
 * The destination→source map that crops `box` from the source and scales it to outW×outH, pixel centres aligned
 * (the convention of cv.resize INTER_LINEAR).
 */
export function cropMap(box: Box, outW: number, outH: number): Affine {
  const sx = (box.x2 - box.x1) / outW;
  const sy = (box.y2 - box.y1) / outH;
  return [sx, 0, box.x1 + 0.5 * sx - 0.5, 0, sy, box.y1 + 0.5 * sy - 0.5];
}

/**
 * Sample `img` through `dstToSrc` into a planar float tensor at `out[offset...]` (C×outH×outW). Pixels outside the
 * source are 0 (as cv.warpAffine BORDER_CONSTANT) before normalisation.
 */
export function warpToTensor(
  img: RgbImage,
  dstToSrc: Affine,
  outW: number,
  outH: number,
  spec: TensorSpec,
  out: Float32Array,
  offset = 0,
): Float32Array {
  if (spec.colour !== 'gray' && isHalving(img, dstToSrc, outW, outH)) return halveToTensor(img, outW, outH, spec, out, offset);
  if (dstToSrc[1] === 0 && dstToSrc[3] === 0) return scaleToTensor(img, dstToSrc, outW, outH, spec, out, offset);
  const plane = outW * outH;
  const gray = spec.colour === 'gray';
  const rOut = spec.colour === 'bgr' ? 2 : 0;
  const bOut = spec.colour === 'bgr' ? 0 : 2;
  const m0 = spec.mean[0];
  const s0 = 1 / spec.std[0];
  const m1 = gray ? 0 : spec.mean[1];
  const s1 = gray ? 0 : 1 / spec.std[1];
  const m2 = gray ? 0 : spec.mean[2];
  const s2 = gray ? 0 : 1 / spec.std[2];
  const rgb = new Float64Array(3);
  const [a, b, c, d, e, f] = dstToSrc;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      sampleRgb(img, a * x + b * y + c, d * x + e * y + f, rgb);
      const o = offset + y * outW + x;
      if (gray) {
        out[o] = ((rgb[0] * 77 + rgb[1] * 150 + rgb[2] * 29) / 256 - m0) * s0;
      } else {
        // mean/std are indexed by OUTPUT channel, so they follow the declared colour order.
        out[o + rOut * plane] = (rgb[0] - (rOut === 0 ? m0 : m2)) * (rOut === 0 ? s0 : s2);
        out[o + plane] = (rgb[1] - m1) * s1;
        out[o + bOut * plane] = (rgb[2] - (bOut === 0 ? m0 : m2)) * (bOut === 0 ? s0 : s2);
      }
    }
  }
  return out;
}

/**
 * Per output column (or row): the source offsets (index × `stride`, clamped) and weights of the two bilinear taps,
 * weight 0 for a tap outside the image.
 */
interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float64Array;
  w1: Float64Array;
}

/**
 * Taps of the output positions `scale·k + shift`. Tensor weights are rounded to float32 (the precision the model
 * inputs, and the int8 calibration made from them, have always used; held in doubles so the pixel loop does not
 * convert); the gray crop keeps double weights (the precision of the general sampler it must equal).
 */
function taps(n: number, scale: number, shift: number, limit: number, stride: number, float32Weights: boolean): Taps {
  const t = { i0: new Int32Array(n), i1: new Int32Array(n), w0: new Float64Array(n), w1: new Float64Array(n) };
  const round = float32Weights ? Math.fround : (w: number): number => w;
  for (let k = 0; k < n; k++) {
    const s = scale * k + shift;
    const a = Math.floor(s);
    const f = s - a;
    const inA = a >= 0 && a < limit;
    const inB = a + 1 >= 0 && a + 1 < limit;
    t.i0[k] = (inA ? a : 0) * stride;
    t.i1[k] = (inB ? a + 1 : 0) * stride;
    t.w0[k] = inA ? round(1 - f) : 0;
    t.w1[k] = inB ? round(f) : 0;
  }
  return t;
}

/**
 * The output planes and normalisation of a spec, per SOURCE channel: mean/std are indexed by OUTPUT channel, so they
 * follow the declared colour order. Gray has one plane (offset 0) and uses mean[0]/std[0].
 */
function planes(spec: TensorSpec, plane: number, offset: number) {
  const gray = spec.colour === 'gray';
  const pr = spec.colour === 'bgr' ? 2 : 0;
  const pb = spec.colour === 'bgr' ? 0 : 2;
  return {
    gray,
    oR: offset + (gray ? 0 : pr * plane),
    oG: offset + plane,
    oB: offset + pb * plane,
    mr: gray ? spec.mean[0] : spec.mean[pr],
    sr: 1 / (gray ? spec.std[0] : spec.std[pr]),
    mg: gray ? 0 : spec.mean[1],
    sg: gray ? 0 : 1 / spec.std[1],
    mb: gray ? 0 : spec.mean[pb],
    sb: gray ? 0 : 1 / spec.std[pb],
  };
}

/**
 * True when `m` maps each output pixel onto the centre of a 2×2 source block that lies inside the image: the
 * detector's input from a frame of exactly twice its size (640×480 → 320×240, the terminal's camera).
 */
function isHalving(img: RgbImage, m: Affine, outW: number, outH: number): boolean {
  return (
    m[0] === 2 && m[1] === 0 && m[2] === 0.5 && m[3] === 0 && m[4] === 2 && m[5] === 0.5 &&
    2 * outW <= img.width && 2 * outH <= img.height
  );
}

/**
 * The halving case of warpToTensor for colour tensors: every tap weight is 0.5, so the bilinear sum is the 2×2 block
 * sum × 0.25. All four products and their sum are exact in doubles either way, so the result is bit-identical to
 * scaleToTensor's.
 */
function halveToTensor(img: RgbImage, outW: number, outH: number, spec: TensorSpec, out: Float32Array, offset: number): Float32Array {
  const { data } = img;
  const stride = img.width * 3;
  const { oR, oG, oB, mr, sr, mg, sg, mb, sb } = planes(spec, outW * outH, offset);
  for (let y = 0; y < outH; y++) {
    let a = 2 * y * stride;
    let c = a + stride;
    const o = y * outW;
    for (let x = 0; x < outW; x++, a += 6, c += 6) {
      const r = (data[a] + data[a + 3] + data[c] + data[c + 3]) * 0.25;
      const g = (data[a + 1] + data[a + 4] + data[c + 1] + data[c + 4]) * 0.25;
      const bl = (data[a + 2] + data[a + 5] + data[c + 2] + data[c + 5]) * 0.25;
      out[oR + o + x] = (r - mr) * sr;
      out[oG + o + x] = (g - mg) * sg;
      out[oB + o + x] = (bl - mb) * sb;
    }
  }
  return out;
}

/**
 * The axis-aligned case (resize, crop) of warpToTensor: taps are precomputed per column and per row, so the pixel
 * loop has no branches and no divisions. Same result as the general path.
 */
function scaleToTensor(
  img: RgbImage,
  m: Affine,
  outW: number,
  outH: number,
  spec: TensorSpec,
  out: Float32Array,
  offset: number,
): Float32Array {
  const { width, data } = img;
  const { i0: ci0, i1: ci1, w0: cw0, w1: cw1 } = taps(outW, m[0], m[2], width, 3, true);
  const rows = taps(outH, m[4], m[5], img.height, width * 3, true);
  const { gray, oR, oG, oB, mr, sr, mg, sg, mb, sb } = planes(spec, outW * outH, offset);
  for (let y = 0; y < outH; y++) {
    const r0 = rows.i0[y];
    const r1 = rows.i1[y];
    const wy0 = rows.w0[y];
    const wy1 = rows.w1[y];
    const o = y * outW;
    for (let x = 0; x < outW; x++) {
      const c0 = ci0[x];
      const c1 = ci1[x];
      const w00 = cw0[x] * wy0;
      const w01 = cw1[x] * wy0;
      const w10 = cw0[x] * wy1;
      const w11 = cw1[x] * wy1;
      const a = r0 + c0;
      const b = r0 + c1;
      const c = r1 + c0;
      const d = r1 + c1;
      const r = data[a] * w00 + data[b] * w01 + data[c] * w10 + data[d] * w11;
      const g = data[a + 1] * w00 + data[b + 1] * w01 + data[c + 1] * w10 + data[d + 1] * w11;
      const bl = data[a + 2] * w00 + data[b + 2] * w01 + data[c + 2] * w10 + data[d + 2] * w11;
      if (gray) {
        out[oR + o + x] = ((r * 77 + g * 150 + bl * 29) / 256 - mr) * sr;
      } else {
        out[oR + o + x] = (r - mr) * sr;
        out[oG + o + x] = (g - mg) * sg;
        out[oB + o + x] = (bl - mb) * sb;
      }
    }
  }
  return out;
}

/** Sample `img` through `dstToSrc` into an 8-bit gray image of outW×outH. */
export function warpToGray(img: RgbImage, dstToSrc: Affine, outW: number, outH: number, out?: Uint8Array): Uint8Array {
  const dst = out ?? new Uint8Array(outW * outH);
  if (dstToSrc[1] === 0 && dstToSrc[3] === 0) return scaleToGray(img, dstToSrc, outW, outH, dst);
  const rgb = new Float64Array(3);
  const [a, b, c, d, e, f] = dstToSrc;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      sampleRgb(img, a * x + b * y + c, d * x + e * y + f, rgb);
      dst[y * outW + x] = (rgb[0] * 77 + rgb[1] * 150 + rgb[2] * 29) / 256 + 0.5;
    }
  }
  return dst;
}

/**
 * The axis-aligned case of warpToGray with per-column and per-row taps in doubles. Bit-identical to sampleRgb: the
 * same positions and weight products, and a tap outside the image adds an exact 0 where sampleRgb skips it.
 */
function scaleToGray(img: RgbImage, m: Affine, outW: number, outH: number, dst: Uint8Array): Uint8Array {
  const { width, data } = img;
  const { i0: ci0, i1: ci1, w0: cw0, w1: cw1 } = taps(outW, m[0], m[2], width, 3, false);
  const rows = taps(outH, m[4], m[5], img.height, width * 3, false);
  for (let y = 0; y < outH; y++) {
    const r0 = rows.i0[y];
    const r1 = rows.i1[y];
    const wy0 = rows.w0[y];
    const wy1 = rows.w1[y];
    for (let x = 0; x < outW; x++) {
      const w00 = cw0[x] * wy0;
      const w01 = cw1[x] * wy0;
      const w10 = cw0[x] * wy1;
      const w11 = cw1[x] * wy1;
      const a = r0 + ci0[x];
      const b = r0 + ci1[x];
      const c = r1 + ci0[x];
      const d = r1 + ci1[x];
      const r = data[a] * w00 + data[b] * w01 + data[c] * w10 + data[d] * w11;
      const g = data[a + 1] * w00 + data[b + 1] * w01 + data[c + 1] * w10 + data[d + 1] * w11;
      const bl = data[a + 2] * w00 + data[b + 2] * w01 + data[c + 2] * w10 + data[d + 2] * w11;
      dst[y * outW + x] = (r * 77 + g * 150 + bl * 29) / 256 + 0.5;
    }
  }
  return dst;
}

/** Bilinear RGB at a fractional source position; taps outside the image count as 0. */
function sampleRgb(img: RgbImage, sx: number, sy: number, rgb: Float64Array): void {
  const { width, height, data } = img;
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  const fx = sx - x0;
  const fy = sy - y0;
  if (x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height) {
    const p00 = (y0 * width + x0) * 3;
    const p01 = p00 + 3;
    const p10 = p00 + width * 3;
    const p11 = p10 + 3;
    const w00 = (1 - fx) * (1 - fy);
    const w01 = fx * (1 - fy);
    const w10 = (1 - fx) * fy;
    const w11 = fx * fy;
    rgb[0] = data[p00] * w00 + data[p01] * w01 + data[p10] * w10 + data[p11] * w11;
    rgb[1] = data[p00 + 1] * w00 + data[p01 + 1] * w01 + data[p10 + 1] * w10 + data[p11 + 1] * w11;
    rgb[2] = data[p00 + 2] * w00 + data[p01 + 2] * w01 + data[p10 + 2] * w10 + data[p11 + 2] * w11;
    return;
  }
  rgb[0] = 0;
  rgb[1] = 0;
  rgb[2] = 0;
  if (x0 + 1 < 0 || y0 + 1 < 0 || x0 >= width || y0 >= height) return;
  for (let j = 0; j < 2; j++) {
    const yy = y0 + j;
    if (yy < 0 || yy >= height) continue;
    const wy = j === 0 ? 1 - fy : fy;
    for (let i = 0; i < 2; i++) {
      const xx = x0 + i;
      if (xx < 0 || xx >= width) continue;
      const w = wy * (i === 0 ? 1 - fx : fx);
      const p = (yy * width + xx) * 3;
      rgb[0] += data[p] * w;
      rgb[1] += data[p + 1] * w;
      rgb[2] += data[p + 2] * w;
    }
  }
}
