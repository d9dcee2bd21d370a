/**
 * Images as plain typed arrays. Everything downstream (detector, landmarks, embedders) reads these views; no browser
 * APIs, no opencv. Pixels are interleaved, row-major, no padding (stride = width * channels).
 *
 * Biometric contract: an image holds a face; callers zero `data` (`wipeImage`) when a session ends. Nothing here
 * writes pixels to disk or logs.
 */
import sharp from 'sharp';
import { ImageDecodeError } from '../lib/errors.ts';
import { readPhotoHeader, type PhotoFormat, type PhotoLimits } from './photo-header.ts';

// libvips keeps the results of recent operations in a process-wide cache: a decoded reference photo would outlive
// the session that zeroed its own copies, and its memory would add to the next decode's peak.
sharp.cache(false);

/** 8-bit RGB, interleaved. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** 8-bit luma, one byte per pixel. */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Local files the operator names on the command line: only the decoder's memory guard. */
const FILE_LIMITS: PhotoLimits = { maxSide: 16_384, maxPixels: 40_000_000 };

export interface DecodeOptions {
  /** what the sender says the bytes are; a mismatch is refused */
  declared?: PhotoFormat;
  /** bounds checked from the header before decoding (default FILE_LIMITS) */
  limits?: PhotoLimits;
  /** scale down (never up) so that neither side exceeds this: every buffer after the decoder is sized by it */
  fitWithin?: number;
}

/**
 * Decode JPEG/PNG bytes to RGB with EXIF orientation applied (sharp `.rotate()`), alpha dropped. The format and the
 * dimensions are checked from the header first (photo-header.ts), so the decoder never sees another format and never
 * starts on an image beyond `limits`. Throws ImageDecodeError (its `problem` says why) for anything else.
 */
export async function decodeImage(bytes: Uint8Array, label = 'image', options: DecodeOptions = {}): Promise<RgbImage> {
  const limits = options.limits ?? FILE_LIMITS;
  readPhotoHeader(bytes, limits, options.declared, label);
  try {
    let pipeline = sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'error' }).rotate();
    if (options.fitWithin !== undefined) {
      pipeline = pipeline.resize({ width: options.fitWithin, height: options.fitWithin, fit: 'inside', withoutEnlargement: true });
    }
    const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e: unknown) {
    // libvips appends one warning line per decoder complaint; the first line says what is wrong
    const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0].replace(/:\s*$/, '');
    throw new ImageDecodeError(`${label}: not a decodable image (${reason})`, 'unreadable', { cause: e });
  }
}

/** Luma (BT.601 weights) of an RGB image. */
export function toGray(img: RgbImage, out?: Uint8Array): GrayImage {
  const n = img.width * img.height;
  const g = out ?? new Uint8Array(n);
  const d = img.data;
  for (let i = 0, o = 0; i < n; i++, o += 3) g[i] = (d[o] * 77 + d[o + 1] * 150 + d[o + 2] * 29 + 128) >> 8;
  return { width: img.width, height: img.height, data: g };
}

/** Left-right mirror (a new image). */
export function mirror(img: RgbImage): RgbImage {
  const { width, height, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      const d = (y * width + (width - 1 - x)) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { width, height, data: out };
}

/** Scale to cover width×height and centre-crop: a photo framed as a camera frame of that size would frame it. */
export async function coverResize(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'cover' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Zero an image's pixels in place (end of session). */
export function wipeImage(img: { data: Uint8Array }): void {
  img.data.fill(0);
}

/**
 * `img` centred on a black canvas with `border` pixels on every side (a new buffer; the caller wipes both). A portrait
 * cropped tight to the face (an ID photo) cuts the detector's box at the image edge; the pose crop, centred on that
 * box, then sits off the face and reads a frontal face as turned 30-50 deg. With room around it the detector boxes the
 * whole face (src/session/reference-intake.ts).
 */
export function padImage(img: RgbImage, border: number): RgbImage {
  const width = img.width + 2 * border;
  const height = img.height + 2 * border;
  const data = new Uint8Array(width * height * 3);
  const row = img.width * 3;
  for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * row, (y + 1) * row), ((y + border) * width + border) * 3);
  return { width, height, data };
}
