import { describe, expect, it } from 'vitest';
import type { Frame, FrameSource } from '../../../src/camera/frame-source.ts';
import { tightLayout } from '../../../src/camera/i420.ts';
import { isCanceled, isRegtermError } from '../../../src/lib/errors.ts';

/**
 * ONE contract suite for every FrameSource backend (STYLE.md §6): the stand-in rpicam-vid, ffmpeg on a file, replay
 * in both paces, and real hardware when HIL_CAMERA names it. See src/camera/frame-source.ts for the contract text.
 */
export interface ContractTarget {
  name: string;
  make(): FrameSource;
  /** a source whose device cannot be opened: start() must reject with a RegtermError */
  makeBroken(): FrameSource;
  /** newest-frame semantics apply (a live or paced source); false for lockstep replay */
  live: boolean;
}

async function take(src: FrameSource, n: number, delayMs = 0): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of src.frames()) {
    out.push(f);
    if (out.length === n) break;
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
  }
  return out;
}

export function frameSourceContract(t: ContractTarget): void {
  describe(`FrameSource contract: ${t.name}`, () => {
    it('delivers tight I420 frames with increasing seq and non-decreasing tsMs; a second start rejects', async () => {
      const src = t.make();
      try {
        await src.start();
        await expect(src.start()).rejects.toThrow(/already started/);
        const frames = await take(src, 4);
        expect(frames).toHaveLength(4);
        for (const [i, f] of frames.entries()) {
          expect(f.format).toBe('i420');
          expect(f.data.length).toBe(tightLayout(f.width, f.height).frameBytes);
          if (i > 0) {
            expect(f.seq).toBeGreaterThan(frames[i - 1].seq);
            expect(f.tsMs).toBeGreaterThanOrEqual(frames[i - 1].tsMs);
          }
        }
        expect(src.stats().frames).toBeGreaterThanOrEqual(4);
        expect(src.health().status).toBe('ok');
      } finally {
        await src.stop();
      }
    });

    it('a canceled read ends the iterator instead of throwing', async () => {
      const src = t.make();
      try {
        await src.start();
        const ac = new AbortController();
        let n = 0;
        for await (const _ of src.frames(ac.signal)) {
          n++;
          ac.abort();
        }
        expect(n).toBe(1);
      } finally {
        await src.stop();
      }
    });

    it('stop() ends the reader and is idempotent', async () => {
      const src = t.make();
      await src.start();
      await take(src, 1);
      const it = src.frames();
      await Promise.all([src.stop(), src.stop()]);
      await src.stop();
      const next = await it.next();
      expect(next.done).toBe(true);
    });

    it(t.live ? 'a slow consumer gets the newest frame and drops are counted' : 'a slow consumer gets every frame (lockstep)', async () => {
      const src = t.make();
      try {
        await src.start();
        const frames = await take(src, 3, 400);
        if (t.live) {
          expect(frames[2].seq - frames[1].seq).toBeGreaterThan(1);
          expect(src.stats().drops).toBeGreaterThan(0);
        } else {
          expect(frames.map((f) => f.seq)).toEqual([frames[0].seq, frames[0].seq + 1, frames[0].seq + 2]);
          expect(src.stats().drops).toBe(0);
        }
      } finally {
        await src.stop();
      }
    });

    it('start() rejects with a RegtermError when the device cannot be opened, and with CanceledError when aborted', async () => {
      const broken = t.makeBroken();
      const err = await broken.start().then(() => undefined, (e: unknown) => e);
      await broken.stop();
      expect(isRegtermError(err)).toBe(true);
      const src = t.make();
      const canceled = await src.start(AbortSignal.abort()).then(() => undefined, (e: unknown) => e);
      await src.stop();
      expect(isCanceled(canceled)).toBe(true);
    });
  });
}
