import { describe, expect, it } from 'vitest';
import type { Detection } from '../../../src/vision/detector.ts';
import { FaceTrack } from '../../../src/vision/face-track.ts';
import { moveBox, stableFrame } from '../../../src/vision/landmark-box.ts';
import type { Box } from '../../../src/vision/warp.ts';

/** 68 points on a grid over a box, shifted by (dx, dy) and scaled by `r` about the box centre. */
function points(box: Box, dx = 0, dy = 0, r = 1): Float32Array {
  const cx = (box.x1 + box.x2) / 2;
  const cy = (box.y1 + box.y2) / 2;
  const p = new Float32Array(136);
  for (let k = 0; k < 68; k++) {
    const x = box.x1 + ((box.x2 - box.x1) * (k % 17)) / 16;
    const y = box.y1 + ((box.y2 - box.y1) * Math.floor(k / 17)) / 3;
    p[2 * k] = cx + (x - cx) * r + dx;
    p[2 * k + 1] = cy + (y - cy) * r + dy;
  }
  return p;
}
const FACE: Box = { x1: 200, y1: 150, x2: 300, y2: 270 };
const DET: Detection = { box: { x1: 195, y1: 120, x2: 305, y2: 275 }, score: 0.9 };
const W = 640;

function expectBox(a: Box | undefined, b: Box): void {
  expect(a).toBeDefined();
  for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(a![k]).toBeCloseTo(b[k], 6);
}
const H = 480;

/**
 * One frame as the engine runs it: carry, or detect `n` faces; then follow the primary face and plan it ('C' carried,
 * 'D' detector). `plans` collects each face frame's plan letter: P fr_pose, S anti-spoof, L lids, · neither.
 */
function run(
  t: FaceTrack, faces: number[], det: Detection = DET, lm: Float32Array = points(FACE),
  opts: { landmarkFit?: boolean; plans?: string[] } = {},
): string {
  const fit = opts.landmarkFit ?? true;
  const still = { yaw: 0, pitch: 0, roll: 0 };
  return faces.map((n, i) => {
    const c = t.carry(W, H, i * 33);
    if (!c) t.detected(n);
    const face = c ?? (n > 0 ? det : undefined);
    if (face) {
      t.follow(face, lm);
      const plan = t.next(face.box, i * 33, fit);
      if (plan.pose === 'model') t.fromModel(still, fit ? still : null);
      opts.plans?.push(plan.pose === 'model' ? 'P' : plan.antispoof ? 'S' : plan.lids ? 'L' : '·');
    }
    return c ? 'C' : 'D';
  }).join('');
}

describe('moving the detector box with the stable landmarks', () => {
  it('shifts the box with the stable points and scales it with their spread', () => {
    const from = stableFrame(points(FACE));
    expectBox(moveBox(DET.box, from, from), DET.box);
    expectBox(moveBox(DET.box, from, stableFrame(points(FACE, 10, -4))), { x1: 205, y1: 116, x2: 315, y2: 271 });
    const grown = moveBox(DET.box, from, stableFrame(points(FACE, 0, 0, 1.2)));
    expect(grown.x2 - grown.x1).toBeCloseTo(110 * 1.2, 6);
    expect(grown.y2 - grown.y1).toBeCloseTo(155 * 1.2, 6);
  });
});

describe('FaceTrack: the costly frames carry the box, the detector runs between', () => {
  it('a steady track runs P S L S · with the detector on the S after P and on ·: never beside fr_pose or the iris model', () => {
    const plans: string[] = [];
    expect(run(new FaceTrack(), Array<number>(15).fill(1), DET, points(FACE), { plans })).toBe('DDCCDCDCCDCDCCD');
    expect(plans.join('')).toBe('PSLS·PSLS·PSLS·');
  });

  it('with fr_pose on every frame (an open turn challenge) the same frames carry: the plan is the hybrid\'s', () => {
    const t = new FaceTrack();
    t.setPoseEveryFrame(true);
    const plans: string[] = [];
    expect(run(t, Array<number>(15).fill(1), DET, points(FACE), { plans })).toBe('DDCCDCDCCDCDCCD');
    expect(plans.join('')).toBe('P'.repeat(15));
  });

  it('a carried frame has the last detector box and score', () => {
    const t = new FaceTrack();
    t.carry(W, H, undefined);
    t.detected(1);
    t.follow({ box: DET.box, score: 0.77 }, points(FACE));
    const c = t.carry(W, H, undefined);
    expectBox(c?.box, DET.box);
    expect(c?.score).toBe(0.77);
  });

  it('moves the carried box with the landmarks on a carried frame (detectEvery 3)', () => {
    const t = new FaceTrack({ detectEvery: 3 });
    t.carry(W, H, 0);
    t.detected(1);
    t.follow(DET, points(FACE));
    const c = t.carry(W, H, 33);
    expectBox(c?.box, DET.box);
    t.follow(c!, points(FACE, 20, 0));
    const moved = t.carry(W, H, 66);
    expect(moved?.box.x1).toBeCloseTo(DET.box.x1 + 20, 4);
    expect(moved?.score).toBe(0.9);
  });

  it('carries at most detectEvery - 1 frames in a row: 2 carries one costly frame at a time; 1 never carries', () => {
    expect(run(new FaceTrack({ detectEvery: 2 }), Array<number>(10).fill(1))).toBe('DDCDDCDCDD');
    expect(run(new FaceTrack({ detectEvery: 1 }), [1, 1, 1, 1])).toBe('DDDD');
  });

  it('a track whose landmark fit keeps failing (fr_pose on every frame) still runs the detector on every third frame', () => {
    const plans: string[] = [];
    expect(run(new FaceTrack(), Array<number>(7).fill(1), DET, points(FACE), { landmarkFit: false, plans })).toBe('DCCDCCD');
    expect(plans.join('')).toBe('PPPPPPP');
  });

  it('runs the detector on every frame while the last pass saw a second face, and carries again once it is gone', () => {
    // the second face enters on frame 2 (a carried frame): seen on frame 4 (detectEvery - 1 frames late), then
    // re-counted on every frame until a pass sees one face again
    expect(run(new FaceTrack(), [1, 1, 2, 2, 2, 2, 1, 1, 1, 1])).toBe('DDCCDDDCCD');
  });

  it('a lost face resets the track on the next detector frame, and nothing is carried from it', () => {
    // gone from frame 3: one more carried frame, then the detector finds none
    expect(run(new FaceTrack(), [1, 1, 1, 0, 0, 1])).toBe('DDCCDD');
  });

  it('does not carry a box that is mostly outside the frame, across a gap, or after a reset', () => {
    const edge: Detection = { box: { x1: 600, y1: 150, x2: 760, y2: 270 }, score: 0.9 };
    expect(run(new FaceTrack(), [1, 1, 1], edge)).toBe('DDD');
    const gap = new FaceTrack();
    gap.carry(W, H, 0);
    gap.detected(1);
    gap.follow(DET, points(FACE));
    gap.next(DET.box, 0, true);
    expect(gap.carry(W, H, 600)).toBeUndefined();
    const reset = new FaceTrack();
    run(reset, [1]);
    reset.reset();
    expect(reset.carry(W, H, undefined)).toBeUndefined();
  });
});
