import { describe, expect, it } from 'vitest';
import { LidTrack } from '../../../src/vision/lid-track.ts';

const box = { x1: 100, y1: 100, x2: 200, y2: 220 };
const open = { left: 0.99, right: 0.98 };

describe('LidTrack', () => {
  it('measures both eyes on every 5th tracked frame from the 3rd, and any eye the eye-state model calls closed', () => {
    const t = new LidTrack();
    const plan = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => t.next(box, i * 33, open));
    const both = ['left', 'right'];
    expect(plan).toEqual([[], [], both, [], [], [], [], both]); // between the pose track's fr_pose frames 0, 5, 10
    expect(t.next(box, 266, { left: 0.1, right: 0.95 })).toEqual(['left']);
    expect(t.next(box, 300, { left: 0.1, right: 0.2 })).toEqual(['left', 'right']);
    const strict = new LidTrack({ every: 1000, phase: 0, measureBelow: 0.5 });
    strict.next(box, 0, open);
    expect(strict.next(box, 33, { left: 0.45, right: 0.55 })).toEqual(['left']);
  });

  /** One frame: plan it, then record the left eye's opening if the plan measures it. */
  const frame = (t: LidTrack, tsMs: number, opening: number, eyes = open): number | undefined =>
    t.next(box, tsMs, eyes).includes('left') ? t.record('left', tsMs, opening) : undefined;

  it('reads an opening relative to the eye\'s open level: the 0.7 quantile of its last 3 s, once 5 samples are in', () => {
    const t = new LidTrack({ every: 1, phase: 0 });
    const readings = [0.2, 0.22, 0.21, 0.2].map((v, i) => frame(t, i * 100, v));
    expect(readings).toEqual([undefined, undefined, undefined, undefined]);
    // window now 0.2 0.22 0.21 0.2 0.05: sorted 0.05 0.2 0.2 0.21 0.22, quantile 0.7 -> index 3 = 0.21
    expect(frame(t, 400, 0.05)).toBeCloseTo(0.05 / 0.21, 6);
    // the other eye has its own level
    t.next(box, 450, open);
    expect(t.record('right', 450, 0.3)).toBeUndefined();
    // 3.5 s later the old samples have left the window: the level follows the new open eye
    for (let i = 0; i < 5; i++) frame(t, 3500 + i * 100, 0.3);
    expect(frame(t, 4000, 0.15)).toBeCloseTo(0.5, 6);
  });

  it('only scheduled frames feed the open level: a long closure measured frame by frame does not drag it down', () => {
    const t = new LidTrack({ every: 3, phase: 0 });
    for (let i = 0; i < 30; i++) frame(t, i * 33, 0.2);
    // 900 ms of closed eyes, measured on every frame because the eye-state model says closed (27 samples against the
    // 10 open ones; counted, they would make the 0.7 quantile a closed reading)
    const closed = { left: 0.02, right: 0.02 };
    const readings: number[] = [];
    for (let i = 30; i < 57; i++) readings.push(frame(t, i * 33, 0.02, closed) ?? Number.NaN);
    expect(readings.every((r) => Math.abs(r - 0.1) < 1e-6)).toBe(true);
  });

  it('forgets its levels when the face is lost, jumps to another box, or the stream has a gap; and on reset', () => {
    const fill = (t: LidTrack): void => {
      for (let i = 0; i < 15; i++) frame(t, i * 33, 0.2);
    };
    const track = (): LidTrack => new LidTrack({ every: 3, phase: 0 });
    const lost = track();
    fill(lost);
    expect(frame(lost, 495, 0.2)).toBeCloseTo(1, 6);
    lost.lost();
    expect(frame(lost, 528, 0.2)).toBeUndefined();

    const jump = track();
    fill(jump);
    expect(jump.next({ x1: 400, y1: 100, x2: 500, y2: 220 }, 528, open)).toEqual(['left', 'right']); // first frame again
    expect(jump.record('left', 528, 0.2)).toBeUndefined();

    const gap = track();
    fill(gap);
    expect(frame(gap, 1200, 0.2)).toBeUndefined();

    const reset = track();
    fill(reset);
    reset.reset();
    expect(frame(reset, 528, 0.2)).toBeUndefined();
  });

  it('rejects a nonsensical schedule', () => {
    expect(() => new LidTrack({ every: 0 })).toThrow(RangeError);
    expect(() => new LidTrack({ quantile: 1.5 })).toThrow(RangeError);
    expect(() => new LidTrack({ every: 3, phase: 3 })).toThrow(RangeError);
  });
});
