import sharp, { type JpegOptions } from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageDecodeError, type ImageProblem } from '../../../src/lib/errors.ts';
import { readPhotoHeader, type PhotoFormat } from '../../../src/vision/photo-header.ts';
import { REFERENCE_PHOTO } from '../../../src/session/reference-intake.ts';
import { CORRUPT_JPEG, gradientPng } from '../../fixtures/vision/generated.ts';
import { HEIF_HEADER, bmpPhoto, bombPng, otherFormat, svgPhoto } from '../../fixtures/vision/hostile-photos.ts';

const LIMITS = REFERENCE_PHOTO.limits;

function problemOf(bytes: Uint8Array, declared?: PhotoFormat): ImageProblem | 'ok' {
  try {
    readPhotoHeader(bytes, LIMITS, declared);
    return 'ok';
  } catch (e: unknown) {
    if (e instanceof ImageDecodeError) return e.problem;
    throw e;
  }
}

async function jpeg(width: number, height: number, options: JpegOptions = {}, orientation?: number): Promise<Buffer> {
  let s = sharp({ create: { width, height, channels: 3, background: '#406080' } }).jpeg(options);
  if (orientation) s = s.withMetadata({ orientation });
  return s.toBuffer();
}

/** A JPEG whose frame header claims `width`x`height` (the pixel data stays that of a small image). */
async function jpegClaiming(width: number, height: number): Promise<Buffer> {
  const b = Buffer.from(await jpeg(16, 16));
  for (let i = 2; i < b.length - 9; i++) {
    if (b[i] === 0xff && b[i + 1] === 0xc0) {
      b.writeUInt16BE(height, i + 5);
      b.writeUInt16BE(width, i + 7);
      return b;
    }
  }
  throw new Error('no SOF0 in the generated JPEG');
}

describe('readPhotoHeader: JPEG and PNG by magic bytes, dimensions from the header', () => {
  it('reads PNG and JPEG dimensions: baseline, progressive, with EXIF (stored size, before rotation) and ICC segments', async () => {
    expect(readPhotoHeader(await gradientPng(160, 120), LIMITS)).toEqual({ format: 'png', width: 160, height: 120 });
    expect(readPhotoHeader(await jpeg(320, 200), LIMITS)).toEqual({ format: 'jpeg', width: 320, height: 200 });
    const progressive = await jpeg(300, 180, { progressive: true });
    expect(readPhotoHeader(progressive, LIMITS)).toEqual({ format: 'jpeg', width: 300, height: 180 });
    const exif = await jpeg(300, 180, {}, 6);
    expect(exif.includes(Buffer.from('Exif'))).toBe(true);
    expect(readPhotoHeader(exif, LIMITS)).toEqual({ format: 'jpeg', width: 300, height: 180 });
    const icc = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#123456' } })
      .withIccProfile('p3').jpeg({ progressive: true }).toBuffer();
    expect(readPhotoHeader(icc, LIMITS)).toEqual({ format: 'jpeg', width: 50, height: 40 });
  });

  it('refuses every other format by its first bytes: GIF, WebP, TIFF, SVG, BMP, HEIF, text, nothing', async () => {
    for (const format of ['gif', 'webp', 'tiff'] as const) expect(problemOf(await otherFormat(format)), format).toBe('unsupported');
    expect(problemOf(svgPhoto(6000, 6000))).toBe('unsupported');
    expect(problemOf(Buffer.from(`<?xml version="1.0"?>\n${svgPhoto(10, 10).toString()}`))).toBe('unsupported');
    expect(problemOf(bmpPhoto())).toBe('unsupported');
    expect(problemOf(HEIF_HEADER)).toBe('unsupported');
    expect(problemOf(Buffer.from('definitely not a jpeg'))).toBe('unsupported');
    expect(problemOf(new Uint8Array(0))).toBe('unsupported');
    expect(problemOf(Buffer.from([0xff, 0xd8]))).toBe('unsupported');
  });

  it('refuses bytes that are the other format than the one declared', async () => {
    const png = await gradientPng();
    const jpg = await jpeg(64, 64);
    expect(problemOf(png, 'png')).toBe('ok');
    expect(problemOf(jpg, 'jpeg')).toBe('ok');
    expect(problemOf(png, 'jpeg')).toBe('format_mismatch');
    expect(problemOf(jpg, 'png')).toBe('format_mismatch');
  });

  it('truncated or malformed headers are unreadable', async () => {
    const png = await gradientPng();
    expect(problemOf(png.subarray(0, 8))).toBe('unreadable'); // the signature alone
    expect(problemOf(png.subarray(0, 20))).toBe('unreadable'); // cut inside IHDR
    const noIhdr = Buffer.from(png);
    noIhdr.write('IDAT', 12, 'latin1');
    expect(problemOf(noIhdr)).toBe('unreadable');
    expect(problemOf(bombPng(0, 10))).toBe('unreadable');
    const jpg = await jpeg(64, 64);
    const sof = jpg.indexOf(Buffer.from([0xff, 0xc0]));
    expect(problemOf(jpg.subarray(0, sof))).toBe('unreadable'); // cut before the frame header
    expect(problemOf(jpg.subarray(0, sof + 6))).toBe('unreadable'); // cut inside it
    expect(problemOf(CORRUPT_JPEG)).toBe('unreadable'); // APP0 then text where the next marker should be
    expect(problemOf(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0, 0]))).toBe('unreadable'); // scan before frame
    expect(problemOf(await jpegClaiming(0, 16))).toBe('unreadable');
  });

  it('refuses huge dimensions from the header alone, at the bounds exactly', async () => {
    expect(problemOf(bombPng(40_000, 1000))).toBe('too_large');
    expect(problemOf(bombPng(10_000_000, 4))).toBe('too_large');
    expect(problemOf(bombPng(6300, 6300))).toBe('too_large');
    const claimsMax = Buffer.from(bombPng(8, 8));
    claimsMax.writeUInt32BE(2 ** 32 - 1, 16);
    claimsMax.writeUInt32BE(2 ** 32 - 1, 20);
    expect(problemOf(claimsMax)).toBe('too_large');
    expect(problemOf(bombPng(LIMITS.maxSide + 1, 1))).toBe('too_large');
    expect(problemOf(bombPng(LIMITS.maxSide, Math.floor(LIMITS.maxPixels / LIMITS.maxSide)))).toBe('ok');
    expect(problemOf(bombPng(LIMITS.maxSide, LIMITS.maxSide))).toBe('too_large'); // each side within, the pixel budget not
    expect(problemOf(bombPng(LIMITS.maxSide, 1))).toBe('ok');
    // a JPEG claiming 60000x60000 over a 16x16 body: refused from the header, never handed to a decoder
    expect(problemOf(await jpegClaiming(60_000, 60_000))).toBe('too_large');
    expect(readPhotoHeader(bombPng(40_000, 1000), { maxSide: 40_000, maxPixels: 40_000_000 })).toEqual({ format: 'png', width: 40_000, height: 1000 });
  });
});
