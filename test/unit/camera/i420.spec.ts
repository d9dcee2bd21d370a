import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FULL_BT601, i420RegionToRgb, i420ToGray, i420ToRgb, i420ToRgbHalf, paddedLayout, tightLayout, toTightI420, type YuvEncoding,
} from '../../../src/camera/i420.ts';

/** Build a padded buffer from a tight one by hand, with 0xEE in every padding byte, so leaks are visible. */
function pad(tight: Uint8Array, w: number, h: number, align: number): Uint8Array {
  const t = tightLayout(w, h);
  const p = paddedLayout(w, h, align);
  const out = new Uint8Array(p.frameBytes).fill(0xee);
  for (let r = 0; r < h; r++) out.set(tight.subarray(r * w, r * w + w), r * p.yStride);
  const cw = t.uvStride;
  for (let r = 0; r < (h + 1) >> 1; r++) {
    out.set(tight.subarray(t.uOffset + r * cw, t.uOffset + r * cw + cw), p.uOffset + r * p.uvStride);
    out.set(tight.subarray(t.vOffset + r * cw, t.vOffset + r * cw + cw), p.vOffset + r * p.uvStride);
  }
  return out;
}

describe('I420 layouts', () => {
  it('rounds the luma stride up to the alignment and puts chroma at padded offsets (Pi 4, 650x360)', () => {
    const l = paddedLayout(650, 360, 64);
    expect(l).toMatchObject({ yStride: 704, uvStride: 352, uOffset: 704 * 360, vOffset: 704 * 360 + 352 * 180 });
    expect(l.frameBytes).toBe((704 * 360 * 3) / 2);
  });

  it('leaves aligned widths unpadded and handles 128-byte alignment', () => {
    expect(paddedLayout(640, 480, 64).yStride).toBe(640);
    expect(paddedLayout(640, 480, 128).yStride).toBe(640);
    expect(paddedLayout(1296, 972, 128).yStride).toBe(1408);
  });

  it('rejects nonsense sizes and alignments', () => {
    expect(() => tightLayout(0, 480)).toThrow(RangeError);
    expect(() => paddedLayout(640, 480, 3)).toThrow(RangeError);
  });

  it('toTightI420 recovers the exact tight frame from any padded layout', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).map((n) => n * 2),
        fc.integer({ min: 1, max: 40 }).map((n) => n * 2),
        fc.constantFrom(16, 32, 64, 128),
        fc.integer(),
        (w, h, align, seed) => {
          const tight = new Uint8Array(tightLayout(w, h).frameBytes).map((_, i) => (i * 31 + seed) & 0xff);
          expect(toTightI420(pad(tight, w, h, align), paddedLayout(w, h, align))).toEqual(tight);
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** The float reference: BT.601/BT.709 Y'CbCr → RGB in either range, clamped to 0..255. */
function reference(e: YuvEncoding, y: number, u: number, v: number): number[] {
  const { kr, kb } = e.matrix === 'bt601' ? { kr: 0.299, kb: 0.114 } : { kr: 0.2126, kb: 0.0722 };
  const kg = 1 - kr - kb;
  const limited = e.range === 'limited';
  const l = limited ? ((y - 16) * 255) / 219 : y;
  const cb = ((u - 128) * (limited ? 255 / 224 : 1));
  const cr = ((v - 128) * (limited ? 255 / 224 : 1));
  const rgb = [l + 2 * (1 - kr) * cr, l - ((2 * kb * (1 - kb)) / kg) * cb - ((2 * kr * (1 - kr)) / kg) * cr, l + 2 * (1 - kb) * cb];
  return rgb.map((c) => Math.min(255, Math.max(0, c)));
}

const ENCODINGS: YuvEncoding[] = [FULL_BT601, { matrix: 'bt601', range: 'limited' }, { matrix: 'bt709', range: 'limited' }];
const at = (width: number, height: number, data: Uint8Array, encoding: YuvEncoding = FULL_BT601) => ({ width, height, data, encoding });

describe('I420 → RGB / gray', () => {
  function solid(w: number, h: number, y: number, u: number, v: number): Uint8Array {
    const l = tightLayout(w, h);
    const f = new Uint8Array(l.frameBytes);
    f.fill(y, 0, l.uOffset);
    f.fill(u, l.uOffset, l.vOffset);
    f.fill(v, l.vOffset);
    return f;
  }

  it.each([
    ['black', FULL_BT601, 0, 128, 128, [0, 0, 0]],
    ['white', FULL_BT601, 255, 128, 128, [255, 255, 255]],
    // full-range JFIF values of pure primaries (rounded)
    ['red', FULL_BT601, 76, 85, 255, [254, 0, 0]],
    ['green', FULL_BT601, 150, 44, 21, [0, 255, 1]],
    ['blue', FULL_BT601, 29, 255, 107, [0, 0, 254]],
    // limited range: black is 16, white 235, and the primaries of BT.601 (SMPTE 170M) and BT.709
    ['limited black', { matrix: 'bt601', range: 'limited' }, 16, 128, 128, [0, 0, 0]],
    ['limited white', { matrix: 'bt601', range: 'limited' }, 235, 128, 128, [255, 255, 255]],
    ['BT.601 limited red', { matrix: 'bt601', range: 'limited' }, 81, 90, 240, [255, 0, 0]],
    ['BT.709 limited red', { matrix: 'bt709', range: 'limited' }, 63, 102, 240, [255, 0, 0]],
    ['BT.709 limited green', { matrix: 'bt709', range: 'limited' }, 173, 42, 26, [0, 255, 0]],
  ] as const)('converts %s', (_name, encoding, y, u, v, rgb) => {
    const out = i420ToRgb(at(6, 4, solid(6, 4, y, u, v), encoding));
    for (let i = 0; i < 6 * 4; i++) {
      for (let c = 0; c < 3; c++) expect(Math.abs(out[i * 3 + c] - rgb[c])).toBeLessThanOrEqual(1);
    }
  });

  it('clamps out-of-gamut values instead of wrapping', () => {
    const out = i420ToRgb(at(2, 2, solid(2, 2, 250, 255, 255)));
    expect(out[0]).toBe(255);
    expect(out[2]).toBe(255);
    const below = i420ToRgb(at(2, 2, solid(2, 2, 0, 128, 128), { matrix: 'bt601', range: 'limited' }));
    expect(Array.from(below.subarray(0, 3))).toEqual([0, 0, 0]);
  });

  it('uses each chroma sample for its 2x2 block, odd sizes included', () => {
    const w = 3;
    const h = 3;
    const l = tightLayout(w, h);
    const f = new Uint8Array(l.frameBytes).fill(128);
    f.fill(100, 0, l.uOffset);
    f[l.vOffset + 1] = 255; // right column block (x=2) is reddish
    const out = i420ToRgb(at(w, h, f));
    expect(out[0]).toBe(100); // x=0,y=0 neutral
    expect(out[2 * 3]).toBeGreaterThan(200); // x=2,y=0 red boosted
  });

  it('gray is the luma plane; with `out` it is a copy', () => {
    const f = solid(4, 2, 77, 10, 20);
    const view = i420ToGray(4, 2, f);
    expect(Array.from(view)).toEqual(Array(8).fill(77));
    const copy = i420ToGray(4, 2, f, new Uint8Array(8));
    f.fill(0);
    expect(view[0]).toBe(0);
    expect(copy[0]).toBe(77);
  });

  it('rejects short buffers and unknown encodings', () => {
    expect(() => i420ToRgb(at(4, 4, new Uint8Array(10)))).toThrow(RangeError);
    const bogus = { matrix: 'bt2020', range: 'full' } as unknown as YuvEncoding;
    expect(() => i420ToRgb(at(4, 4, solid(4, 4, 1, 2, 3), bogus))).toThrow(RangeError);
  });
});

describe('half-resolution and region conversions', () => {
  const frame = (w: number, h: number): Uint8Array => {
    const f = new Uint8Array(tightLayout(w, h).frameBytes);
    for (let i = 0; i < f.length; i++) f[i] = (i * 37 + (i >> 5)) & 0xff;
    return f;
  };

  it('i420ToRgbHalf converts each 2x2 block: mean luma with the block chroma (float reference, every encoding)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }).map((n) => n * 2), fc.integer({ min: 1, max: 20 }).map((n) => n * 2), fc.constantFrom(...ENCODINGS),
        (w, h, e) => {
          const f = frame(w, h);
          const l = tightLayout(w, h);
          const half = i420ToRgbHalf(at(w, h, f, e));
          expect(half.length).toBe((w / 2) * (h / 2) * 3);
          for (let y = 0; y < h / 2; y++) {
            for (let x = 0; x < w / 2; x++) {
              const lum = (f[2 * y * w + 2 * x] + f[2 * y * w + 2 * x + 1] + f[(2 * y + 1) * w + 2 * x] + f[(2 * y + 1) * w + 2 * x + 1]) / 4;
              const c = y * l.uvStride + x;
              const want = reference(e, lum, f[l.uOffset + c], f[l.vOffset + c]);
              for (let k = 0; k < 3; k++) expect(Math.abs(half[(y * (w / 2) + x) * 3 + k] - want[k])).toBeLessThanOrEqual(1);
            }
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('i420ToRgb matches the float reference on every pixel in every encoding (odd sizes included)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 41 }), fc.integer({ min: 2, max: 41 }), fc.constantFrom(...ENCODINGS), (w, h, e) => {
        const f = frame(w, h);
        const l = tightLayout(w, h);
        const rgb = i420ToRgb(at(w, h, f, e));
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const c = (y >> 1) * l.uvStride + (x >> 1);
            const want = reference(e, f[y * w + x], f[l.uOffset + c], f[l.vOffset + c]);
            for (let k = 0; k < 3; k++) expect(Math.abs(rgb[(y * w + x) * 3 + k] - want[k])).toBeLessThanOrEqual(1);
          }
        }
      }),
      { numRuns: 30 },
    );
  });

  it.each(ENCODINGS)('i420RegionToRgb equals the same rect cut out of the full conversion, odd offsets included (%o)', (e) => {
    const w = 37;
    const h = 23;
    const f = at(w, h, frame(w, h), e);
    const full = i420ToRgb(f);
    const rect = { x: 5, y: 3, width: 11, height: 9 };
    const crop = i420RegionToRgb(f, rect);
    for (let y = 0; y < rect.height; y++) {
      const s = ((rect.y + y) * w + rect.x) * 3;
      expect(Array.from(crop.subarray(y * rect.width * 3, (y + 1) * rect.width * 3))).toEqual(Array.from(full.subarray(s, s + rect.width * 3)));
    }
    expect(() => i420RegionToRgb(f, { x: 30, y: 0, width: 8, height: 2 })).toThrow(RangeError);
  });
});
