import { describe, expect, it } from 'vitest';
import type { Pose } from '../../../src/vision/pose.ts';
import { FaceTrack, type FramePlan, type PoseSource } from '../../../src/vision/face-track.ts';
import type { Box } from '../../../src/vision/warp.ts';

const a = (yaw: number, pitch: number, roll: number): Pose => ({ yaw, pitch, roll });
const BOX: Box = { x1: 100, y1: 80, x2: 260, y2: 280 };
const shifted = (dx: number): Box => ({ x1: BOX.x1 + dx, y1: BOX.y1, x2: BOX.x2 + dx, y2: BOX.y2 });

/** The engine's use of a track for one frame: the model reading is only taken on the track's pose frames. */
function frame(track: FaceTrack, model: Pose, landmark: Pose | null, box: Box = BOX, tsMs?: number): { pose: Pose; source: PoseSource } {
  const source = track.next(box, tsMs, landmark !== null).pose;
  if (source === 'landmarks' && landmark) return { pose: track.fromLandmarks(landmark), source };
  return { pose: track.fromModel(model, landmark), source };
}

/** A frame's plan as a letter: P fr_pose, S anti-spoof, B both, L iris lids, . none (feeding the pose offsets like the engine). */
function letters(track: FaceTrack, fits: boolean[]): string {
  return fits.map((fit) => {
    const plan: FramePlan = track.next(BOX, undefined, fit);
    if (plan.pose === 'model') track.fromModel(a(0, 0, 0), fit ? a(0, 0, 0) : null);
    if (plan.lids && (plan.pose === 'model' || plan.antispoof)) throw new Error('a lid frame runs another costly model');
    return plan.pose === 'model' ? (plan.antispoof ? 'B' : 'P') : plan.antispoof ? 'S' : plan.lids ? 'L' : '.';
  }).join('');
}
const steady = (n: number): boolean[] => Array.from({ length: n }, () => true);

describe('FaceTrack: hybrid head pose (fr_pose on every N-th frame, landmarks + offset between)', () => {
  it('runs the model on the first and every 5th frame by default and shifts landmark angles by its offset between', () => {
    const t = new FaceTrack();
    // the landmark reading is the model's minus a constant person bias; the motion is seen by both
    const out = Array.from({ length: 12 }, (_, i) => frame(t, a(i, -6, 2), a(i, -14, 1), BOX, i * 40));
    expect(out.map((o) => o.source === 'model')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((i) => i % 5 === 0));
    out.forEach((o, i) => expect(o.pose).toEqual(a(i, -6, 2)));
  });

  it('holds the offset between model frames: a model change is not seen until the next model frame', () => {
    const t = new FaceTrack({ poseEvery: 5 });
    const yaws = Array.from({ length: 6 }, (_, i) => frame(t, a(i < 3 ? 0 : 10, 0, 0), a(0, 0, 0)).pose.yaw);
    expect(yaws).toEqual([0, 0, 0, 0, 0, 10]);
  });

  it('uses the median of the last `samples` offsets, so one wild model reading does not move the frames after it', () => {
    const t = new FaceTrack({ poseEvery: 2, poseSamples: 3 });
    const yaws = [0, 0, 0, 0, 50, 0, 0, 0].map((m) => frame(t, a(m, 0, 0), a(0, 0, 0)).pose.yaw);
    // model frames 0, 2, 4 (wild), 6: after frame 4 the offsets are [0, 0, 50] -> median 0
    expect(yaws[4]).toBe(50);
    expect(yaws[5]).toBe(0);
    // a 4th sample drops the oldest: [0, 50, 0] -> still 0; with samples 1 the wild one would have shown
    const one = new FaceTrack({ poseEvery: 2, poseSamples: 1 });
    expect([0, 0, 0, 0, 50, 0].map((m) => frame(one, a(m, 0, 0), a(0, 0, 0)).pose.yaw)[5]).toBe(50);
  });

  it('resets on a lost face: the next face is a model frame and the old offsets are forgotten', () => {
    const t = new FaceTrack();
    frame(t, a(5, 0, 0), a(0, 0, 0));
    expect(frame(t, a(5, 0, 0), a(0, 0, 0)).pose.yaw).toBe(5);
    t.lost();
    expect(frame(t, a(-3, 0, 0), a(0, 0, 0))).toEqual({ pose: a(-3, 0, 0), source: 'model' });
    expect(frame(t, a(99, 0, 0), a(1, 0, 0))).toEqual({ pose: a(-2, 0, 0), source: 'landmarks' });
  });

  it('resets when the primary box jumps (a different face) but not when it drifts', () => {
    const t = new FaceTrack();
    frame(t, a(5, 0, 0), a(0, 0, 0), BOX);
    expect(frame(t, a(5, 0, 0), a(0, 0, 0), shifted(20)).source).toBe('landmarks'); // IoU 0.78
    expect(frame(t, a(-7, 0, 0), a(0, 0, 0), shifted(300))).toEqual({ pose: a(-7, 0, 0), source: 'model' });
    expect(frame(t, a(99, 0, 0), a(0, 0, 0), shifted(300)).pose.yaw).toBe(-7);
  });

  it('resets after a gap longer than maxGapMs between frames', () => {
    const t = new FaceTrack({ maxGapMs: 500 });
    frame(t, a(5, 0, 0), a(0, 0, 0), BOX, 0);
    expect(frame(t, a(5, 0, 0), a(0, 0, 0), BOX, 500).source).toBe('landmarks');
    expect(frame(t, a(8, 0, 0), a(0, 0, 0), BOX, 1001)).toEqual({ pose: a(8, 0, 0), source: 'model' });
  });

  it('runs the model when the landmark fit fails, and keeps doing so until an offset is known', () => {
    const t = new FaceTrack();
    expect(frame(t, a(5, 0, 0), null).source).toBe('model'); // first frame, no fit: no offset recorded
    expect(frame(t, a(6, 0, 0), a(0, 0, 0))).toEqual({ pose: a(6, 0, 0), source: 'model' }); // no offset yet
    expect(frame(t, a(99, 0, 0), a(1, 0, 0))).toEqual({ pose: a(7, 0, 0), source: 'landmarks' });
    expect(frame(t, a(9, 0, 0), null)).toEqual({ pose: a(9, 0, 0), source: 'model' }); // fit failed mid-track
  });

  it('poseEvery: 1 is fr_pose on every frame; reset() forgets everything', () => {
    const t = new FaceTrack({ poseEvery: 1 });
    expect([1, 2, 3].map((m) => frame(t, a(m, 0, 0), a(0, 0, 0)).source)).toEqual(['model', 'model', 'model']);
    const u = new FaceTrack();
    frame(u, a(5, 0, 0), a(0, 0, 0));
    u.reset();
    expect(() => u.fromLandmarks(a(0, 0, 0))).toThrow(/before any offset/);
    expect(() => new FaceTrack({ poseEvery: 0 })).toThrow(RangeError);
  });
});

describe('FaceTrack: anti-spoof on alternate frames, never with fr_pose while it can be avoided', () => {
  it('a steady track repeats P S L S .: 2 frames in 5 scored, no frame runs two costly models', () => {
    expect(letters(new FaceTrack(), steady(20))).toBe('PSLS.PSLS.PSLS.PSLS.');
  });

  it('never leaves more than 2 frames in a row unscored, whatever the pose cadence', () => {
    for (const poseEvery of [1, 2, 3, 4, 5, 7, 10]) {
      const plan = letters(new FaceTrack({ poseEvery }), steady(60));
      expect(plan, `poseEvery ${poseEvery}`).not.toMatch(/[P.L]{3}/);
      // two scored frames are never adjacent: each frame's score is the model's own, spread over time
      expect(plan, `poseEvery ${poseEvery}`).not.toMatch(/[SB]{2}/);
    }
    // fr_pose on every frame (a failing landmark fit forces it, or poseEvery 1): one frame in 3 pays for both
    expect(letters(new FaceTrack({ poseEvery: 1 }), steady(9))).toBe('PPBPPBPPB');
    expect(letters(new FaceTrack(), steady(9).map(() => false))).toBe('PPBPPBPPB');
  });

  it('a forced fr_pose frame (failed landmark fit) defers the score to the next frame', () => {
    // frame 1 would be scored; its fit fails, so it runs fr_pose and frame 2 is scored instead
    expect(letters(new FaceTrack(), [true, false, true, true, true, true, true])).toBe('PPSLSPS');
  });

  it('restarts the alternation on every reset: a lost face, a jump, a gap', () => {
    const t = new FaceTrack();
    expect(letters(t, steady(4))).toBe('PSLS');
    t.lost();
    expect(letters(t, steady(3))).toBe('PSL');
    const plans = [t.next(BOX, 0, true), t.next(shifted(300), 40, true), t.next(shifted(300), 1000, true)];
    expect(plans.map((p) => p.pose)).toEqual(['landmarks', 'model', 'model']);
    expect(plans.map((p) => p.antispoof)).toEqual([true, false, false]);
  });
});

describe('FaceTrack: iris lids on idle frames, and on eyes the eye-state model reads closed', () => {
  const open = { left: 0.98, right: 0.97 };

  it('a lid frame every 5th frame at the earliest, only on frames running neither fr_pose nor anti-spoof', () => {
    for (const poseEvery of [3, 4, 5, 7]) {
      const plan = letters(new FaceTrack({ poseEvery }), steady(60));
      const lids = [...plan].flatMap((c, i) => (c === 'L' ? [i] : []));
      expect(lids.length, `poseEvery ${poseEvery}`).toBeGreaterThan(5);
      for (let k = 1; k < lids.length; k++) expect(lids[k] - lids[k - 1], `poseEvery ${poseEvery}`).toBeGreaterThanOrEqual(5);
    }
    // no idle frame, no lid frame: fr_pose forced on every frame (the landmark fit keeps failing), or poseEvery 2
    expect(letters(new FaceTrack(), steady(12).map(() => false))).not.toContain('L');
    expect(letters(new FaceTrack({ poseEvery: 2 }), steady(12))).toBe('PSPSPSPSPSPS');
  });

  it('measures both eyes on a lid frame, and any eye read below lidMeasureBelow on any frame', () => {
    const t = new FaceTrack({ lidMeasureBelow: 0.4 });
    const plans = Array.from({ length: 5 }, () => {
      const plan = t.next(BOX, undefined, true); // P S L S .
      if (plan.pose === 'model') t.fromModel(a(0, 0, 0), a(0, 0, 0));
      return plan;
    });
    expect(plans.map((p) => t.lidEyes(p, open))).toEqual([[], [], ['left', 'right'], [], []]);
    expect(t.lidEyes(plans[0], { left: 0.35, right: 0.9 })).toEqual(['left']);
    expect(t.lidEyes(plans[1], { left: 0.1, right: 0.2 })).toEqual(['left', 'right']);
  });

  it('only lid frames feed the open level; a reset forgets it', () => {
    const t = new FaceTrack();
    let ts = 0;
    const step = (opening: number): { plan: FramePlan; reading: number | undefined } => {
      const plan = t.next(BOX, (ts += 33), true);
      if (plan.pose === 'model') t.fromModel(a(0, 0, 0), a(0, 0, 0));
      return { plan, reading: t.lidReading('left', ts, opening, plan) };
    };
    let lidFrames = 0;
    for (let i = 0; i < 40 && lidFrames < 5; i++) if (step(0.2).plan.lids) lidFrames++;
    expect(lidFrames).toBe(5);
    // the level is 0.2 now; a closed reading on a non-lid frame is read against it and does not move it
    let s = step(0.02);
    if (s.plan.lids) s = step(0.02);
    expect(s.reading).toBeCloseTo(0.1, 6);
    expect(step(0.2).reading).toBeCloseTo(1, 6);
    t.lost();
    expect(step(0.2).reading).toBeUndefined();
  });
});

describe('FaceTrack: fr_pose on every frame while the owner asks (an open turn challenge)', () => {
  // the landmark fit compresses turns (docs/pose.md): here it reads 0.7 of the true yaw; fr_pose reads it exactly
  const turn = [0, 0, 0, 8, 16, 24, 30, 30, 30, 30];
  const readings = (t: FaceTrack): number[] => turn.map((yaw, i) => frame(t, a(yaw, 0, 0), a(0.7 * yaw, 0, 0), BOX, i * 33).pose.yaw);

  it('reports the model yaw on every frame, so a turn read between pose frames is not compressed', () => {
    const hybrid = readings(new FaceTrack());
    const t = new FaceTrack();
    t.setPoseEveryFrame(true);
    expect(readings(t)).toEqual(turn);
    // without the switch the frames between pose frames read the turn short (the offset is the frontal one)
    expect(hybrid[4]).toBeCloseTo(0.7 * 16, 9);
    expect(Math.max(...hybrid.map((y, i) => turn[i] - y))).toBeGreaterThan(5);
  });

  it('changes only the pose source: anti-spoof and lid frames stay the hybrid\'s, and the carried boxes too', () => {
    const t = new FaceTrack();
    const u = new FaceTrack();
    u.setPoseEveryFrame(true);
    const fits = [...steady(7), false, ...steady(12)];
    const plans = fits.map((fit) => {
      const [hybrid, every] = [t.next(BOX, undefined, fit), u.next(BOX, undefined, fit)];
      if (hybrid.pose === 'model') t.fromModel(a(0, 0, 0), fit ? a(0, 0, 0) : null);
      u.fromModel(a(0, 0, 0), fit ? a(0, 0, 0) : null);
      return { hybrid, every };
    });
    for (const { hybrid, every } of plans) expect(every).toEqual({ ...hybrid, pose: 'model' });
    expect(plans.filter((p) => p.hybrid.pose === 'landmarks').length).toBeGreaterThan(10);
    expect(plans.filter((p) => p.hybrid.lids).length).toBeGreaterThan(2);
  });

  it('is the owner\'s switch: a reset keeps it, switching it off resumes landmark frames from the latest offsets', () => {
    const t = new FaceTrack();
    t.setPoseEveryFrame(true);
    frame(t, a(4, 0, 0), a(0, 0, 0));
    t.lost();
    expect([1, 2, 3].map(() => frame(t, a(30, 0, 0), a(20, 0, 0)).source)).toEqual(['model', 'model', 'model']);
    t.setPoseEveryFrame(false);
    // offsets recorded on the turned frames (30 - 20) carry the landmark frames after it
    expect(frame(t, a(99, 0, 0), a(21, 0, 0))).toEqual({ pose: a(31, 0, 0), source: 'landmarks' });
  });
});
