/**
 * What a photo is, read from its first bytes before any decoder sees it: JPEG or PNG by magic bytes, and its
 * dimensions from the header (PNG IHDR, JPEG frame header). Every other format (GIF, WebP, TIFF, SVG, BMP, HEIF, ...)
 * is refused here, so the decoder is only ever handed JPEG or PNG; dimensions are bounded here, so nothing is
 * allocated from a header that claims a huge image.
 */
import { ImageDecodeError } from '../lib/errors.ts';

export type PhotoFormat = 'jpeg' | 'png';

export interface PhotoHeader {
  format: PhotoFormat;
  /** as stored, before any EXIF rotation (the bounds hold either way round) */
  width: number;
  height: number;
}

export interface PhotoLimits {
  /** longest side, px */
  maxSide: number;
  /** width × height */
  maxPixels: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The photo's format and dimensions, checked against `limits` (and against `declared`, when the sender named the
 * format: a mismatch is refused rather than guessed). Throws ImageDecodeError with `problem` `unsupported` (not
 * JPEG/PNG), `format_mismatch`, `unreadable` (truncated or malformed header) or `too_large`.
 */
export function readPhotoHeader(bytes: Uint8Array, limits: PhotoLimits, declared?: PhotoFormat, label = 'photo'): PhotoHeader {
  const format = sniffFormat(bytes);
  if (format === undefined) throw new ImageDecodeError(`${label}: not a JPEG or PNG`, 'unsupported');
  if (declared !== undefined && declared !== format) {
    throw new ImageDecodeError(`${label}: declared ${declared} but the bytes are ${format}`, 'format_mismatch');
  }
  const size = format === 'png' ? pngSize(bytes) : jpegSize(bytes);
  if (size === undefined || size.width === 0 || size.height === 0) {
    throw new ImageDecodeError(`${label}: not a decodable image (${format} header unreadable)`, 'unreadable');
  }
  const { width, height } = size;
  if (Math.max(width, height) > limits.maxSide || width * height > limits.maxPixels) {
    throw new ImageDecodeError(`${label}: ${width}x${height} exceeds ${limits.maxSide} px a side or ${limits.maxPixels} pixels`, 'too_large');
  }
  return { format, width, height };
}

function sniffFormat(b: Uint8Array): PhotoFormat | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && PNG_SIGNATURE.every((v, i) => b[i] === v)) return 'png';
  return undefined;
}

/** The first chunk of a PNG must be IHDR: width and height are its first two big-endian words. */
function pngSize(b: Uint8Array): { width: number; height: number } | undefined {
  if (b.length < 24 || String.fromCharCode(b[12], b[13], b[14], b[15]) !== 'IHDR') return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * Walk the JPEG markers to the frame header (SOFn): height and width follow its length and precision. Markers before
 * it (APPn with EXIF, DQT, DHT, ...) are skipped by their length; scan data before a frame header is malformed.
 */
function jpegSize(b: Uint8Array): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1];
    if (marker === 0xff) { // fill byte before a marker
      i++;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image or scan data before any frame header
    const length = (b[i + 2] << 8) | b[i + 3];
    if (length < 2) return undefined;
    if (isFrameHeader(marker)) {
      if (i + 9 > b.length) return undefined;
      return { height: (b[i + 5] << 8) | b[i + 6], width: (b[i + 7] << 8) | b[i + 8] };
    }
    i += 2 + length;
  }
  return undefined;
}

/** SOF0-SOF15, less DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function isFrameHeader(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}
