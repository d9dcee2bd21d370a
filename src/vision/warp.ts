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

/** Sample `img` through `dstToSrc` into an 8-bit gray image of outW×outH. */
export function warpToGray(img: RgbImage, dstToSrc: Affine, outW: number, outH: number, out?: Uint8Array): Uint8Array {
  const dst = out ?? new Uint8Array(outW * outH);
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
