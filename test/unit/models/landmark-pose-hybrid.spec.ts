import { describe, expect, it } from 'vitest';
import { type PairedFrame, hybridPoses } from '../../hil/vision/hybrid-poses.ts';

const a = (yaw: number, pitch: number, roll: number): { yaw: number; pitch: number; roll: number } => ({ yaw, pitch, roll });

describe('hybridPoses (fr_pose every N-th tracked frame, landmark angles + offset between)', () => {
  it('runs the model on the first and every N-th tracked frame and shifts landmark angles by its offset in between', () => {
    // the landmark reading is the model's minus a constant person bias, plus motion the model only sees when sampled
    const frames: PairedFrame[] = Array.from({ length: 12 }, (_, i) => ({ model: a(i, -6, 2), landmark: a(i, -14, 1) }));
    const { poses, modelFrames } = hybridPoses(frames, 5);
    expect(modelFrames).toBe(3); // frames 0, 5, 10
    poses.forEach((p, i) => expect(p).toEqual(a(i, -6, 2)));
  });

  it('holds the offset between samples: a model reading that changes between samples is not seen until the next one', () => {
    const frames: PairedFrame[] = Array.from({ length: 6 }, (_, i) => ({ model: a(i < 3 ? 0 : 10, 0, 0), landmark: a(0, 0, 0) }));
    const { poses } = hybridPoses(frames, 5);
    expect(poses.map((p) => p!.yaw)).toEqual([0, 0, 0, 0, 0, 10]);
  });

  it('takes the median of the last `samples` offsets, so one wild model reading does not move the others', () => {
    const model = [0, 0, 0, 0, 50, 0, 0, 0].map((y) => a(y, 0, 0));
    const frames: PairedFrame[] = model.map((m) => ({ model: m, landmark: a(0, 0, 0) }));
    const { poses } = hybridPoses(frames, 2, 3);
    // samples at 0, 2, 4 (wild), 6: after frame 4 the offsets are [0, 0, 50] -> median 0
    expect(poses[5]!.yaw).toBe(0);
    expect(poses[4]!.yaw).toBe(50);
  });

  it('restarts on a lost face: the next face is sampled at once and old offsets are forgotten', () => {
    const frames: PairedFrame[] = [
      { model: a(5, 0, 0), landmark: a(0, 0, 0) },
      { model: a(5, 0, 0), landmark: a(0, 0, 0) },
      undefined,
      { model: a(-3, 0, 0), landmark: a(0, 0, 0) },
      { model: a(99, 0, 0), landmark: a(1, 0, 0) },
    ];
    const { poses, modelFrames } = hybridPoses(frames, 5);
    expect(modelFrames).toBe(2);
    expect(poses[2]).toBeUndefined();
    expect(poses[3]!.yaw).toBe(-3);
    expect(poses[4]!.yaw).toBe(-2); // landmark 1 + offset -3 (the pre-loss offset +5 is gone)
  });
});
