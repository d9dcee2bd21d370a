/** LoopingReplay on a real clip (read in place): passes follow each other with continuous frame numbers and times. */
import { describe, expect, it } from 'vitest';
import { LoopingReplay } from '../../../src/camera/looping-replay.ts';
import { ReplaySource } from '../../../src/camera/replay-source.ts';
import { VIDEO as CLIP, logSink } from './helpers.ts';

const logger = logSink().logger;

async function collect(source: { start(): Promise<void>; frames(): AsyncIterableIterator<{ seq: number; tsMs: number; data: Uint8Array }>; stop(): Promise<void> }, limit = Infinity): Promise<Array<{ seq: number; tsMs: number }>> {
  await source.start();
  const out: Array<{ seq: number; tsMs: number }> = [];
  try {
    for await (const f of source.frames()) {
      f.data.fill(0);
      out.push({ seq: f.seq, tsMs: f.tsMs });
      if (out.length >= limit) break;
    }
  } finally {
    await source.stop();
  }
  return out;
}

describe('LoopingReplay', () => {
  it('plays the clip maxPasses times; frame numbers and timestamps continue, one frame interval between passes', async () => {
    const once = await collect(new ReplaySource({ path: CLIP, pace: 'fast', logger }));
    const looped = await collect(new LoopingReplay({ path: CLIP, logger, maxPasses: 3 }));
    const n = once.length;
    expect(n).toBeGreaterThan(100);
    expect(looped).toHaveLength(3 * n);
    expect(looped.map((f) => f.seq)).toEqual(Array.from({ length: 3 * n }, (_, i) => i));
    for (let i = 1; i < looped.length; i++) expect(looped[i].tsMs).toBeGreaterThan(looped[i - 1].tsMs);
    const duration = once[n - 1].tsMs - once[0].tsMs;
    const step = once[n - 1].tsMs - once[n - 2].tsMs;
    expect(looped.slice(0, n)).toEqual(once);
    expect(looped[n].tsMs).toBeCloseTo(once[0].tsMs + duration + step, 6);
    expect(looped[2 * n + 5].tsMs - looped[n + 5].tsMs).toBeCloseTo(duration + step, 6);
  }, 120_000);

  it('stops mid-pass when the consumer stops', async () => {
    const frames = await collect(new LoopingReplay({ path: CLIP, logger, maxPasses: 30 }), 250);
    expect(frames).toHaveLength(250);
  }, 120_000);
});
