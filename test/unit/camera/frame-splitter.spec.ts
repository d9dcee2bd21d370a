import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameSplitter } from '../../../src/camera/frame-splitter.ts';

describe('FrameSplitter', () => {
  it('yields whole frames in order whatever the chunk boundaries', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 6 }), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1 }), (size, count, cuts) => {
        const stream = new Uint8Array(size * count + (size > 1 ? size - 1 : 0)).map((_, i) => i & 0xff);
        const s = new FrameSplitter(size);
        const frames: Uint8Array[] = [];
        let off = 0;
        let k = 0;
        while (off < stream.length) {
          const n = cuts[k++ % cuts.length];
          s.push(stream.subarray(off, off + n), (f) => frames.push(f));
          off += n;
        }
        expect(frames).toHaveLength(count);
        frames.forEach((f, i) => expect(f).toEqual(stream.subarray(i * size, (i + 1) * size)));
        expect(s.partialBytes).toBe(stream.length - size * count);
      }),
    );
  });

  it('hands out a fresh buffer per frame and forgets a partial frame on reset', () => {
    const s = new FrameSplitter(4);
    const frames: Uint8Array[] = [];
    s.push(Uint8Array.of(1, 2, 3), (f) => frames.push(f));
    s.reset();
    s.push(Uint8Array.of(5, 6, 7, 8, 9, 10, 11, 12), (f) => frames.push(f));
    expect(frames.map((f) => Array.from(f))).toEqual([[5, 6, 7, 8], [9, 10, 11, 12]]);
    expect(frames[0].buffer).not.toBe(frames[1].buffer);
  });
});
