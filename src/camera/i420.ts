/**
 * I420 layouts and pixel conversions shared by every camera backend and by vision (import from here:
 * `src/camera/i420.ts`).
 *
 * A *layout* says where the three planes of one frame sit in a device buffer. rpicam-vid `--codec yuv420` writes each
 * libcamera buffer whole (rpicam-apps encoder/null_encoder.cpp passes the mmapped span, the sum of the plane lengths):
 * luma rows are `yStride` bytes (width rounded up to the ISP alignment: 64 on Pi 4, configurable for Pi 5), chroma
 * rows are `yStride / 2`, and U and V start at their own offsets after the padded planes above them.
 * Frames handed to consumers are always tight (stride = width); how their values encode colour depends on the source
 * (`YuvEncoding` below): each backend states its own and the RGB conversions here apply it.
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

/**
 * How a source's Y'CbCr values stand for colours: the matrix (BT.601 or BT.709 luma weights) and the quantisation
 * range (full: Y and C use 0-255; limited: Y 16-235, C 16-240). Every frame carries its source's encoding
 * (`Frame.encoding`), so the conversion below is the only place that needs to know.
 */
export interface YuvEncoding {
  readonly matrix: 'bt601' | 'bt709';
  readonly range: 'full' | 'limited';
}

/** JPEG/JFIF: what ffmpeg is asked to deliver (`out_range=full`) and what recordings hold unless they say otherwise. */
export const FULL_BT601: YuvEncoding = { matrix: 'bt601', range: 'full' };

/** A tight I420 frame with its encoding (every camera `Frame` is one). */
export interface I420Frame {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  readonly encoding: YuvEncoding;
}

/** 16.16 fixed-point factors: lum = (Y - yOff) * yMul; R = lum + rv V'; G = lum - gu U' - gv V'; B = lum + bu U'. */
interface Factors {
  readonly yOff: number;
  readonly yMul: number;
  readonly rv: number;
  readonly gu: number;
  readonly gv: number;
  readonly bu: number;
}

const LUMA_WEIGHTS = { bt601: { kr: 0.299, kb: 0.114 }, bt709: { kr: 0.2126, kb: 0.0722 } } as const;

function factorsOf(e: YuvEncoding): Factors {
  const { kr, kb } = LUMA_WEIGHTS[e.matrix];
  const kg = 1 - kr - kb;
  const limited = e.range === 'limited';
  const c = limited ? 255 / 224 : 1;
  const fixed = (x: number): number => Math.round(x * 65536);
  return {
    yOff: limited ? 16 : 0,
    yMul: fixed(limited ? 255 / 219 : 1),
    rv: fixed(2 * (1 - kr) * c),
    gu: fixed(((2 * kb * (1 - kb)) / kg) * c),
    gv: fixed(((2 * kr * (1 - kr)) / kg) * c),
    bu: fixed(2 * (1 - kb) * c),
  };
}

const FACTORS = new Map<string, Factors>();

function factors(e: YuvEncoding): Factors {
  const key = `${e.matrix}/${e.range}`;
  let f = FACTORS.get(key);
  if (!f) {
    if (!(e.matrix in LUMA_WEIGHTS) || (e.range !== 'full' && e.range !== 'limited')) throw new RangeError(`unknown YUV encoding ${key}`);
    f = factorsOf(e);
    FACTORS.set(key, f);
  }
  return f;
}

const HALF = 32768;

function checkFrame(frame: I420Frame): I420Layout {
  const l = tightLayout(frame.width, frame.height);
  if (frame.data.length < l.frameBytes) {
    throw new RangeError(`i420 frame ${frame.data.length} < ${l.frameBytes} bytes for ${frame.width}x${frame.height}`);
  }
  return l;
}

/**
 * Tight I420 → interleaved RGB (width*height*3) in the frame's own encoding. `out` may be reused across frames.
 * Chroma terms are computed once per 2x2 block; writes go through a Uint8ClampedArray view so the engine clamps,
 * not branches.
 */
export function i420ToRgb(frame: I420Frame, out?: Uint8Array): Uint8Array {
  const { width, height, data: yuv } = frame;
  const l = checkFrame(frame);
  const { yOff, yMul, rv: RV, gu: GU, gv: GV, bu: BU } = factors(frame.encoding);
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
          const lum = (yuv[i + dx] - yOff) * yMul;
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
 * Tight I420 → RGB at half resolution (floor(w/2) x floor(h/2)): each output pixel is one 2x2 block, luma averaged,
 * with that block's own chroma sample, so no chroma is interpolated. 640x480 becomes exactly the detector's 320x240
 * input at about a quarter of the cost of a full conversion plus a resize.
 */
export function i420ToRgbHalf(frame: I420Frame, out?: Uint8Array): Uint8Array {
  const { width, height, data: yuv } = frame;
  const l = checkFrame(frame);
  const { yOff, yMul, rv: RV, gu: GU, gv: GV, bu: BU } = factors(frame.encoding);
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
      const sum = yuv[r0 + 2 * x] + yuv[r0 + 2 * x + 1] + yuv[r1 + 2 * x] + yuv[r1 + 2 * x + 1];
      const lum = ((sum - 4 * yOff) * yMul) >> 2; // mean luma, 16.16
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
 * One region of a tight I420 frame → RGB (rect.width x rect.height): a face crop converted without converting the
 * whole frame. The rect must lie inside the frame.
 */
export function i420RegionToRgb(frame: I420Frame, rect: Rect, out?: Uint8Array): Uint8Array {
  const { width, height, data: yuv } = frame;
  const { x: rx, y: ry, width: rw, height: rh } = rect;
  if (![rx, ry, rw, rh].every(Number.isInteger) || rx < 0 || ry < 0 || rw < 1 || rh < 1 || rx + rw > width || ry + rh > height) {
    throw new RangeError(`region ${rw}x${rh}+${rx}+${ry} is not inside ${width}x${height}`);
  }
  const l = checkFrame(frame);
  const { yOff, yMul, rv: RV, gu: GU, gv: GV, bu: BU } = factors(frame.encoding);
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
      const lum = (yuv[yRow + x] - yOff) * yMul;
      o[p] = (lum + RV * v + HALF) >> 16;
      o[p + 1] = (lum - GU * u - GV * v + HALF) >> 16;
      o[p + 2] = (lum + BU * u + HALF) >> 16;
      p += 3;
    }
  }
  return rgb;
}

/**
 * Tight I420 → 8-bit gray: the luma plane as the source encoded it is the gray image, so this is a view (no copy)
 * unless `out` is given. A view shares memory with the frame: zeroing the frame zeroes it.
 */
export function i420ToGray(width: number, height: number, yuv: Uint8Array, out?: Uint8Array): Uint8Array {
  const n = width * height;
  if (yuv.length < n) throw new RangeError(`i420 frame ${yuv.length} < ${n} luma bytes for ${width}x${height}`);
  if (!out) return yuv.subarray(0, n);
  out.set(yuv.subarray(0, n));
  return out;
}
