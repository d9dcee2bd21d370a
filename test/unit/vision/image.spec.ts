import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageDecodeError, UsageError } from '../../../src/lib/errors.ts';
import { decodeImage, mirror, toGray } from '../../../src/vision/image.ts';
import { readImageFile } from '../../../src/vision/image-file.ts';
import { CORRUPT_JPEG, gradientPng } from '../../fixtures/vision/generated.ts';
import { bombPng, otherFormat, svgPhoto } from '../../fixtures/vision/hostile-photos.ts';

const problem = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'decoded', (e: unknown) => (e instanceof ImageDecodeError ? e.problem : e));


describe('decodeImage', () => {
  it('rejects bytes that are not an image with ImageDecodeError', async () => {
    await expect(decodeImage(CORRUPT_JPEG, 'corrupt.jpg')).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(decodeImage(new Uint8Array(0))).rejects.toBeInstanceOf(ImageDecodeError);
  });

  it('honours EXIF orientation: a landscape JPEG tagged "rotate 90" decodes as portrait', async () => {
    const w = 40;
    const h = 20;
    const raw = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i++) raw[i * 3] = i % w < w / 2 ? 255 : 0; // left half red
    const jpeg = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const img = await decodeImage(jpeg);
    expect([img.width, img.height]).toEqual([h, w]);
    // orientation 6 = rotate 90° clockwise: the left (red) half ends up on top
    expect(img.data[(2 * h + 10) * 3]).toBeGreaterThan(200);
    expect(img.data[((w - 3) * h + 10) * 3]).toBeLessThan(50);
  });

  it('decodes PNG to interleaved RGB', async () => {
    const img = await decodeImage(await gradientPng());
    expect(img.data.length).toBe(img.width * img.height * 3);
  });

  it('hands the decoder JPEG and PNG only, for local files too: GIF, WebP, TIFF and SVG are refused unread', async () => {
    for (const format of ['gif', 'webp', 'tiff'] as const) expect(await problem(decodeImage(await otherFormat(format))), format).toBe('unsupported');
    expect(await problem(decodeImage(svgPhoto(64, 64)))).toBe('unsupported');
    expect(await problem(decodeImage(CORRUPT_JPEG))).toBe('unreadable');
    expect(await problem(decodeImage(await gradientPng(), 'x', { declared: 'jpeg' }))).toBe('format_mismatch');
  });

  it('bounds from the header: a 40000x1000 PNG of 5 KB is refused before decoding under tight limits', async () => {
    const bomb = bombPng(40_000, 1000);
    expect(bomb.length).toBeLessThan(8 * 1024);
    expect(await problem(decodeImage(bomb, 'x', { limits: { maxSide: 4096, maxPixels: 6_000_000 } }))).toBe('too_large');
    // local files (the default) keep the decoder's 40 MP guard only
    const wide = await decodeImage(bombPng(5000, 8));
    expect([wide.width, wide.height]).toEqual([5000, 8]);
  });

  it('leaves nothing in libvips\' operation cache (a decoded face must not outlive its buffers)', async () => {
    await decodeImage(await gradientPng(), 'x', { fitWithin: 64 });
    expect(sharp.cache()).toMatchObject({ memory: { current: 0 }, items: { current: 0 } });
  });

  it('fitWithin scales down, never up, and leaves a photo within it exactly as decoded without it', async () => {
    const big = await decodeImage(bombPng(3000, 1000), 'x', { fitWithin: 2048 });
    expect([big.width, big.height]).toEqual([2048, 683]);
    const png = await gradientPng(160, 120);
    const plain = await decodeImage(png);
    const fitted = await decodeImage(png, 'x', { fitWithin: 2048 });
    expect([fitted.width, fitted.height]).toEqual([160, 120]);
    expect(Buffer.from(fitted.data).equals(Buffer.from(plain.data))).toBe(true);
  });
});

describe('readImageFile', () => {
  it('a missing file is a one-line UsageError', async () => {
    const err = await readImageFile('/nonexistent/x.jpg').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe('/nonexistent/x.jpg: no such file');
  });
});

describe('pixel views', () => {
  it('mirror flips columns and toGray uses luma weights', () => {
    const img = { width: 2, height: 1, data: Uint8Array.from([255, 0, 0, 0, 0, 255]) };
    expect([...mirror(img).data]).toEqual([0, 0, 255, 255, 0, 0]);
    const g = toGray(img).data;
    expect(g[0]).toBeGreaterThan(g[1]);
  });
});
