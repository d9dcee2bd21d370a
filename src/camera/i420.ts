/**
 * I420 layouts and pixel conversions shared by every camera backend and by vision (import from here:
 * `src/camera/i420.ts`).
 *
 * A *layout* says where the three planes of one frame sit in a device buffer. rpicam-vid `--codec yuv420` writes each
 * libcamera buffer whole (rpicam-apps encoder/null_encoder.cpp passes the mmapped span, the sum of the plane lengths):
 * luma rows are `yStride` bytes (width rounded up to the ISP alignment: 64 on Pi 4, configurable for Pi 5), chroma
 * rows are `yStride / 2`, and U and V start at their own offsets after the padded planes above them.
 * Frames handed to consumers are always tight (stride = width) and full-range BT.601 (JPEG/JFIF matrix), which is
 * what rpicam delivers; the ffmpeg backend asks the scaler for `out_range=full` to match.
 */
export interface I420Layout {
  readonly width: number;
  readonly height: number;
  readonly yStride: number;
  readonly uvStride: number;
  readonly uOffset: number;
  readonly vOffset: number;
  /** bytes of one frame in the device stream, padding included */
  readonly frameBytes: number;
}

const chromaWidth = (w: number): number => (w + 1) >> 1;
const chromaHeight = (h: number): number => (h + 1) >> 1;

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 2 || height < 2 || width > 8192 || height > 8192) {
    throw new RangeError(`invalid frame size ${width}x${height}`);
  }
}

/** A frame with no padding: what ffmpeg's rawvideo yuv420p writes and what consumers receive. */
export function tightLayout(width: number, height: number): I420Layout {
  checkSize(width, height);
  const cw = chromaWidth(width);
  const ch = chromaHeight(height);
  const uOffset = width * height;
  return { width, height, yStride: width, uvStride: cw, uOffset, vOffset: uOffset + cw * ch, frameBytes: uOffset + 2 * cw * ch };
}

/**
 * The rpicam-vid yuv420 buffer layout: luma stride = width rounded up to `strideAlign` bytes, chroma stride half of it,
 * planes back to back with no height padding.
 */
export function paddedLayout(width: number, height: number, strideAlign: number): I420Layout {
  checkSize(width, height);
  if (!Number.isInteger(strideAlign) || strideAlign < 2 || strideAlign % 2 !== 0) {
    throw new RangeError(`invalid stride alignment ${strideAlign}`);
  }
  const yStride = Math.ceil(width / strideAlign) * strideAlign;
  const uvStride = yStride / 2;
  const ch = chromaHeight(height);
  const uOffset = yStride * height;
  const vOffset = uOffset + uvStride * ch;
  return { width, height, yStride, uvStride, uOffset, vOffset, frameBytes: vOffset + uvStride * ch };
}

export const isTight = (l: I420Layout): boolean => l.yStride === l.width && l.frameBytes === tightLayout(l.width, l.height).frameBytes;

/** Copy one device buffer (`src`, `layout.frameBytes` long) into a tight I420 buffer, dropping the padding. */
export function toTightI420(src: Uint8Array, layout: I420Layout, out?: Uint8Array): Uint8Array {
  const tight = tightLayout(layout.width, layout.height);
  if (src.length < layout.frameBytes) throw new RangeError(`i420 buffer ${src.length} < ${layout.frameBytes} bytes`);
  const dst = out ?? new Uint8Array(tight.frameBytes);
  if (isTight(layout)) {
    dst.set(src.subarray(0, tight.frameBytes));
    return dst;
  }
  copyPlane(src, 0, layout.yStride, dst, 0, layout.width, layout.width, layout.height);
  const cw = chromaWidth(layout.width);
  const ch = chromaHeight(layout.height);
  copyPlane(src, layout.uOffset, layout.uvStride, dst, tight.uOffset, cw, cw, ch);
  copyPlane(src, layout.vOffset, layout.uvStride, dst, tight.vOffset, cw, cw, ch);
  return dst;
}

function copyPlane(
  src: Uint8Array, srcOff: number, srcStride: number, dst: Uint8Array, dstOff: number, dstStride: number, rowBytes: number, rows: number,
): void {
  for (let r = 0; r < rows; r++) {
    const s = srcOff + r * srcStride;
    dst.set(src.subarray(s, s + rowBytes), dstOff + r * dstStride);
  }
}

// Full-range BT.601 in 16.16 fixed point: R = Y + 1.402 V', G = Y - 0.344136 U' - 0.714136 V', B = Y + 1.772 U'.
const RV = 91881;
const GU = 22554;
const GV = 46802;
const BU = 116130;
const HALF = 32768;

/**
 * Tight full-range I420 → interleaved RGB (width*height*3). `out` may be reused across frames. Chroma terms are
 * computed once per 2x2 block; writes go through a Uint8ClampedArray view so the engine clamps, not branches.
 */
export function i420ToRgb(width: number, height: number, yuv: Uint8Array, out?: Uint8Array): Uint8Array {
  const l = tightLayout(width, height);
  if (yuv.length < l.frameBytes) throw new RangeError(`i420 frame ${yuv.length} < ${l.frameBytes} bytes for ${width}x${height}`);
  const rgb = out ?? new Uint8Array(width * height * 3);
  if (rgb.length < width * height * 3) throw new RangeError('rgb output buffer too small');
  const o = new Uint8ClampedArray(rgb.buffer, rgb.byteOffset, width * height * 3);
  const cw = l.uvStride;
  for (let y = 0; y < height; y += 2) {
    const rows = y + 1 < height ? 2 : 1;
    const cRow = (y >> 1) * cw;
    for (let x = 0; x < width; x += 2) {
      const c = cRow + (x >> 1);
      const u = yuv[l.uOffset + c] - 128;
      const v = yuv[l.vOffset + c] - 128;
      const rv = RV * v + HALF;
      const guv = HALF - GU * u - GV * v;
      const bu = BU * u + HALF;
      const cols = x + 1 < width ? 2 : 1;
      for (let dy = 0; dy < rows; dy++) {
        const i = (y + dy) * width + x;
        for (let dx = 0; dx < cols; dx++) {
          const lum = yuv[i + dx] << 16;
          const p = (i + dx) * 3;
          o[p] = (lum + rv) >> 16;
          o[p + 1] = (lum + guv) >> 16;
          o[p + 2] = (lum + bu) >> 16;
        }
      }
    }
  }
  return rgb;
}

/**
 * Tight full-range I420 → RGB at half resolution (floor(w/2) x floor(h/2)): each output pixel is one 2x2 block, luma
 * averaged, with that block's own chroma sample, so no chroma is interpolated. 640x480 becomes exactly the
 * detector's 320x240 input at about a quarter of the cost of a full conversion plus a resize.
 */
export function i420ToRgbHalf(width: number, height: number, yuv: Uint8Array, out?: Uint8Array): Uint8Array {
  const l = tightLayout(width, height);
  if (yuv.length < l.frameBytes) throw new RangeError(`i420 frame ${yuv.length} < ${l.frameBytes} bytes for ${width}x${height}`);
  const ow = width >> 1;
  const oh = height >> 1;
  const rgb = out ?? new Uint8Array(ow * oh * 3);
  if (rgb.length < ow * oh * 3) throw new RangeError('rgb output buffer too small');
  const o = new Uint8ClampedArray(rgb.buffer, rgb.byteOffset, ow * oh * 3);
  let p = 0;
  for (let y = 0; y < oh; y++) {
    const r0 = 2 * y * width;
    const r1 = r0 + width;
    const c = y * l.uvStride;
    for (let x = 0; x < ow; x++) {
      const u = yuv[l.uOffset + c + x] - 128;
      const v = yuv[l.vOffset + c + x] - 128;
      const lum = (yuv[r0 + 2 * x] + yuv[r0 + 2 * x + 1] + yuv[r1 + 2 * x] + yuv[r1 + 2 * x + 1]) << 14; // (sum / 4) << 16
      o[p] = (lum + RV * v + HALF) >> 16;
      o[p + 1] = (lum - GU * u - GV * v + HALF) >> 16;
      o[p + 2] = (lum + BU * u + HALF) >> 16;
      p += 3;
    }
  }
  return rgb;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * One region of a tight full-range I420 frame → RGB (rect.width x rect.height): a face crop converted without
 * converting the whole frame. The rect must lie inside the frame.
 */
export function i420RegionToRgb(width: number, height: number, yuv: Uint8Array, rect: Rect, out?: Uint8Array): Uint8Array {
  const l = tightLayout(width, height);
  const { x: rx, y: ry, width: rw, height: rh } = rect;
  if (![rx, ry, rw, rh].every(Number.isInteger) || rx < 0 || ry < 0 || rw < 1 || rh < 1 || rx + rw > width || ry + rh > height) {
    throw new RangeError(`region ${rw}x${rh}+${rx}+${ry} is not inside ${width}x${height}`);
  }
  if (yuv.length < l.frameBytes) throw new RangeError(`i420 frame ${yuv.length} < ${l.frameBytes} bytes for ${width}x${height}`);
  const rgb = out ?? new Uint8Array(rw * rh * 3);
  if (rgb.length < rw * rh * 3) throw new RangeError('rgb output buffer too small');
  const o = new Uint8ClampedArray(rgb.buffer, rgb.byteOffset, rw * rh * 3);
  let p = 0;
  for (let y = ry; y < ry + rh; y++) {
    const yRow = y * width;
    const cRow = (y >> 1) * l.uvStride;
    for (let x = rx; x < rx + rw; x++) {
      const c = cRow + (x >> 1);
      const u = yuv[l.uOffset + c] - 128;
      const v = yuv[l.vOffset + c] - 128;
      const lum = yuv[yRow + x] << 16;
      o[p] = (lum + RV * v + HALF) >> 16;
      o[p + 1] = (lum - GU * u - GV * v + HALF) >> 16;
      o[p + 2] = (lum + BU * u + HALF) >> 16;
      p += 3;
    }
  }
  return rgb;
}

/**
 * Tight full-range I420 → 8-bit gray: the luma plane is the gray image, so this is a view (no copy) unless `out` is
 * given. A view shares memory with the frame: zeroing the frame zeroes it.
 */
export function i420ToGray(width: number, height: number, yuv: Uint8Array, out?: Uint8Array): Uint8Array {
  const n = width * height;
  if (yuv.length < n) throw new RangeError(`i420 frame ${yuv.length} < ${n} luma bytes for ${width}x${height}`);
  if (!out) return yuv.subarray(0, n);
  out.set(yuv.subarray(0, n));
  return out;
}
