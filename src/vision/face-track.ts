/**
 * Per-stream state of the primary face (issue #3): which costly models run on which tracked frame, and the hybrid
 * head pose between fr_pose readings. The hybrid pose study is research/landmark-pose.md.
 *
 * POSE: fr_pose (crop + model) runs on the track's POSE frames: the first frame after a reset and every
 * `poseEvery`-th frame after it, plus any frame while no offset is known yet or the landmark fit failed. Every other
 * frame reports the landmark fit's angles (landmark-pose.ts), each axis shifted by the median of the last
 * `poseSamples` (fr_pose − landmark) offsets: the offset carries fr_pose's absolute reference (the person-dependent
 * pitch a generic landmark face gets wrong), the landmarks carry the motion between samples. Median, not mean, so one
 * wild fr_pose reading does not move the frames after it (the study's measured form).
 * POSE ON EVERY FRAME (`setPoseEveryFrame`, the owner's switch, kept across resets): every tracked frame runs fr_pose
 * and reports its angles. For the turn challenge: the landmark fit compresses large turns (it reads them nearer
 * frontal, and saturates), so the offset recorded while the face was frontal leaves a turn short on every frame
 * between pose frames (docs/pose.md). Only the pose source changes: which frames are scored, measure lids or carry
 * their box stays the hybrid's (the rules below), so the other evidence comes from the same frames as without it; a
 * frame may then run fr_pose beside the detector, anti-spoof or the iris model (at most a frame running every model).
 *
 * ANTI-SPOOF: the passive anti-spoof model (fr_liveness, about as costly as fr_pose) scores alternate tracked frames
 * and skips fr_pose frames, so no frame pays for both: a frame is scored when the frame before it was not and it is
 * not a pose frame, or when the two frames before it were both unscored (then even a pose frame is scored: at least
 * one frame in 3 is, also while the landmark fit keeps failing). With `poseEvery` 5 a steady track runs
 * P S · S · P S · S · (P fr_pose, S anti-spoof, · neither): 2 frames in 5 scored. A skipped frame has NO score; it
 * never repeats a neighbour's, so the session aggregates only real per-frame evidence.
 *
 * LIDS (the blink detector's second opinion, issue #5): MediaPipe's iris model (iris.ts; both eyes cost about as much
 * as fr_pose) measures both eyes on a LID frame: a frame running neither fr_pose nor anti-spoof, once at least
 * `lidEvery` frames have passed since the last one (P S L S · P S L S ... on a steady track: every 5th frame, never
 * with another costly model); those readings keep each eye's open level (lid-levels.ts). On any frame, an eye the
 * eye-state model reads below `lidMeasureBelow` (the blink policy's closedBelow) is measured too, read against the
 * level without feeding it: exactly the frames where the blink detector needs the lid's opinion. While a failing
 * landmark fit forces fr_pose on every frame there are no lid frames, and the lids say nothing (fr_eye alone decides).
 *
 * DETECTOR (detskip): on a carried frame the full-frame detector does not run; the primary face's box is CARRIED: the
 * last detector box, moved and scaled with the face's stable landmarks (brows, nose, eyes) since that frame
 * (landmark-box.ts), and its score. The study (research/detskip-study.ts, 13 clips): landmarks from a box carried
 * one frame differ from those from the frame's own detector box by 0.007 inter-ocular distances median, 0.038 p99
 * (two frames: 0.009 / 0.044). WHICH frames carry: the costly ones. A frame that runs fr_pose or the iris model carries;
 * a frame that runs neither runs the detector when the frame after it will be costly (so that one can carry a fresh
 * box) and carries otherwise; and at most `detectEvery` − 1 frames carry in a row. The plan ahead is the steady
 * track's (no reset, landmark fit working); when it turns out otherwise the frame simply pays for both. A steady
 * track runs P S L S · with the detector on the S after P and on ·: 2 frames in 5, and no frame runs the detector
 * beside fr_pose or the iris model. Safety: a carried frame has exactly one face: the detector runs instead whenever
 * its last pass saw any number of faces but one (a second face, once seen, is re-counted on every frame, so the
 * session's `multiFaceMs` clock runs unbroken; it is seen at most `detectEvery` − 1 frames after it enters), when the
 * carried box is less than half inside the frame, and when fr_eye reads either eye below `carryEyesAbove` on the
 * carried box (the engine then runs the detector after all: every doubtful or closed eye is read from a detector box,
 * as without a carry; without this check the clips' blink score depended on which frames were carried). A face that
 * leaves is reported on at most `detectEvery` − 1 carried frames before a detector frame finds none and resets the
 * track.
 *
 * RESET (the next frame is a pose frame, old offsets are forgotten, the anti-spoof alternation restarts, the lid
 * levels are forgotten): the primary
 * face is lost, the primary face's box jumps (IoU with the previous frame's below `minIou`: a different person, or
 * the same one moved too far to trust the offset), or a gap of more than `maxGapMs` between frames. The owner also
 * resets it when its stream ends.
 *
 * Holds angles, lid openings (scalars), boxes and a detector score, the stable landmarks' centre and spread (three
 * scalars), a time and counters only: nothing that identifies a face. One track per frame stream, used by one caller
 * at a time.
 */
import { type Detection, boxArea, boxIou } from './detector.ts';
import type { EyeState } from './eyes.ts';
import { type Eye, LidLevels, type LidLevelsOptions } from './lid-levels.ts';
import { type StableFrame, moveBox, stableFrame } from './landmark-box.ts';
import { median } from './metrics.ts';
import type { Pose } from './pose.ts';
import type { Box } from './warp.ts';

export interface FaceTrackOptions {
  /** fr_pose on every `poseEvery`-th tracked frame (default 5: the study's choice; 1 = every frame) */
  poseEvery?: number;
  /** offsets kept per axis; the median of them shifts the landmark angles (default 3) */
  poseSamples?: number;
  /** a longer gap between frames resets the track (default 500 ms) */
  maxGapMs?: number;
  /** a primary box overlapping the previous one less than this resets the track (default 0.3) */
  minIou?: number;
  /** lid frames at least this many frames apart (default 5) */
  lidEvery?: number;
  /** an eye whose open probability is below this has its lid measured on any frame (default 0.3, the blink policy's) */
  lidMeasureBelow?: number;
  /** how the eyes' open levels are kept (lid-levels.ts) */
  lidLevels?: LidLevelsOptions;
  /** the full-frame detector at least on every `detectEvery`-th tracked frame (default 3: at most 2 carried frames in a
   * row; 1 = every frame) */
  detectEvery?: number;
  /** a carried frame whose eye-state reading is below this for either eye runs the detector after all (default 0.9) */
  carryEyesAbove?: number;
}

export type PoseSource = 'model' | 'landmarks';

/**
 * What the primary face's frame runs: where its pose comes from, whether fr_liveness scores it, and whether it is a
 * lid frame (the iris model measures both eyes for their open levels).
 */
export interface FramePlan {
  pose: PoseSource;
  antispoof: boolean;
  lids: boolean;
}

/** The counters that decide a steady track's plans (see next()). */
interface Cadence {
  /** tracked frames so far */
  tracked: number;
  /** tracked frames since the last anti-spoof score (0 after a reset, as if the frame before had one) */
  unscored: number;
  /** tracked frames since the last lid frame (lidEvery after a reset: the first idle frame is one) */
  sinceLids: number;
  /** a pose offset is known (the track's own: offsets recorded; ahead: a model-pose frame whose landmark fit worked) */
  offset: boolean;
}

export class FaceTrack {
  readonly poseEvery: number;
  private readonly detectEvery: number;
  private readonly carryEyesAbove: number;
  private readonly poseSamples: number;
  private readonly maxGapMs: number;
  private readonly minIou: number;
  private readonly lidEvery: number;
  private readonly lidMeasureBelow: number;
  private readonly levels: LidLevels;
  /** the counters; whether an offset is known is the offsets themselves (cadence()) */
  private counters: Omit<Cadence, 'offset'>;
  private offsets: Pose[] = [];
  private lastBox: Box | undefined;
  private lastTsMs: number | undefined;
  /** the last detector frame's primary face and where its stable landmarks were then */
  private anchor: (Detection & { at: StableFrame }) | undefined;
  /** the next frame's primary face from this frame's landmarks (undefined: the next frame runs the detector) */
  private carried: Detection | undefined;
  /** this frame ran the detector */
  private fresh = false;
  /** every tracked frame runs fr_pose (setPoseEveryFrame) */
  private poseEveryFrame = false;
  /** faces the last detector pass saw, and carried frames since it */
  private detectedFaces = 0;
  private sinceDetect = 0;

  constructor(opts: FaceTrackOptions = {}) {
    this.poseEvery = opts.poseEvery ?? 5;
    this.poseSamples = opts.poseSamples ?? 3;
    this.maxGapMs = opts.maxGapMs ?? 500;
    this.minIou = opts.minIou ?? 0.3;
    this.lidEvery = opts.lidEvery ?? 5;
    this.lidMeasureBelow = opts.lidMeasureBelow ?? 0.3;
    this.levels = new LidLevels(opts.lidLevels);
    this.counters = this.startCounters();
    this.detectEvery = opts.detectEvery ?? 3;
    this.carryEyesAbove = opts.carryEyesAbove ?? 0.9;
    if (!Number.isInteger(this.detectEvery) || this.detectEvery < 1) throw new RangeError('FaceTrack: detectEvery must be a positive integer');
    if (!Number.isInteger(this.poseEvery) || this.poseEvery < 1) throw new RangeError('FaceTrack: poseEvery must be a positive integer');
    if (!Number.isInteger(this.poseSamples) || this.poseSamples < 1) throw new RangeError('FaceTrack: poseSamples must be a positive integer');
    if (!Number.isInteger(this.lidEvery) || this.lidEvery < 1) throw new RangeError('FaceTrack: lidEvery must be a positive integer');
  }

  /**
   * While on, every tracked frame runs fr_pose (see POSE ON EVERY FRAME above): for a caller that needs the full-range
   * yaw on every frame, such as an open turn challenge. Off by default; resets keep it (it is the owner's, not the
   * face's).
   */
  setPoseEveryFrame(on: boolean): void {
    this.poseEveryFrame = on;
  }

  /** Forget everything but the owner's switches: the next face is a pose frame. */
  reset(): void {
    this.counters = this.startCounters();
    this.levels.reset();
    this.offsets = [];
    this.lastBox = undefined;
    this.lastTsMs = undefined;
    this.anchor = undefined;
    this.carried = undefined;
    this.detectedFaces = 0;
    this.sinceDetect = 0;
  }

  /**
   * The primary face carried from the frames before when this frame (`width` × `height`, at `tsMs`) may skip the
   * detector (see DETECTOR above), counting it as a carried frame; undefined: run the detector, then `detected()`.
   */
  carry(width: number, height: number, tsMs: number | undefined): Detection | undefined {
    const c = this.carried;
    this.carried = undefined;
    const gap = tsMs !== undefined && this.lastTsMs !== undefined && tsMs - this.lastTsMs > this.maxGapMs;
    if (c === undefined || gap || this.detectedFaces !== 1) return undefined;
    if (this.sinceDetect + 1 >= this.detectEvery) return undefined;
    const [now, after] = this.plansAhead();
    if (!costly(now) && costly(after)) return undefined;
    const iw = Math.max(0, Math.min(c.box.x2, width) - Math.max(c.box.x1, 0));
    const ih = Math.max(0, Math.min(c.box.y2, height) - Math.max(c.box.y1, 0));
    if (!(iw * ih >= boxArea(c.box) / 2) || boxArea(c.box) === 0) return undefined;
    this.sinceDetect++;
    this.fresh = false;
    return c;
  }

  /** A frame without a face: the face is lost. */
  lost(): void {
    this.reset();
  }

  /** Whether a carried frame keeps its box given fr_eye's reading on it (else it runs the detector after all). */
  eyesCarry(eyes: EyeState): boolean {
    return eyes.left >= this.carryEyesAbove && eyes.right >= this.carryEyesAbove;
  }

  /** A detector pass saw `faces` faces (0: the face is lost, the track resets). */
  detected(faces: number): void {
    if (faces === 0) this.lost();
    this.detectedFaces = faces;
    this.sinceDetect = 0;
    this.fresh = true;
  }

  /** The primary face on this frame (its detection or the carried one) and its landmarks: the next frame's carried box. */
  follow(face: Detection, landmarks68: ArrayLike<number>): void {
    const at = stableFrame(landmarks68);
    if (this.fresh) this.anchor = { ...face, at };
    const a = this.anchor;
    this.carried = a ? { box: moveBox(a.box, a.at, at), score: a.score } : undefined;
  }

  /**
   * The next frame's primary face (box; `tsMs` the frame's time, when the caller knows it): applies the reset rules,
   * counts the frame and says what it runs. `landmarkFit` false (the landmark fit failed) forces fr_pose; such a
   * frame records no offset. With `setPoseEveryFrame(true)` every frame's pose is fr_pose, the rest of the plan as
   * without it.
   */
  next(box: Box | undefined, tsMs: number | undefined, landmarkFit: boolean): FramePlan {
    const gap = tsMs !== undefined && this.lastTsMs !== undefined && tsMs - this.lastTsMs > this.maxGapMs;
    const jump = box !== undefined && this.lastBox !== undefined && boxIou(this.lastBox, box) < this.minIou;
    if (gap || jump) this.reset();
    this.lastBox = box;
    this.lastTsMs = tsMs;
    const { plan, after } = this.step(this.cadence(), landmarkFit);
    this.counters = { tracked: after.tracked, unscored: after.unscored, sinceLids: after.sinceLids };
    return this.poseEveryFrame ? { ...plan, pose: 'model' } : plan;
  }

  private startCounters(): Omit<Cadence, 'offset'> {
    return { tracked: 0, unscored: 0, sinceLids: this.lidEvery };
  }

  private cadence(): Cadence {
    return { ...this.counters, offset: this.offsets.length > 0 };
  }

  /** One tracked frame's plan from the counters before it, and the counters after it. */
  private step(c: Cadence, landmarkFit: boolean): { plan: FramePlan; after: Cadence } {
    const scheduled = c.tracked % this.poseEvery === 0;
    const pose: PoseSource = scheduled || !landmarkFit || !c.offset ? 'model' : 'landmarks';
    const antispoof = c.unscored >= 2 || (c.unscored === 1 && pose === 'landmarks');
    const lids = pose === 'landmarks' && !antispoof && c.sinceLids >= this.lidEvery;
    const after = {
      tracked: c.tracked + 1,
      unscored: antispoof ? 0 : c.unscored + 1,
      sinceLids: lids ? 1 : c.sinceLids + 1,
      offset: c.offset || (pose === 'model' && landmarkFit),
    };
    return { plan: { pose, antispoof, lids }, after };
  }

  /** The plans of this frame and the next one on a steady track (no reset, the landmark fit working). */
  private plansAhead(): [FramePlan, FramePlan] {
    const now = this.step(this.cadence(), true);
    return [now.plan, this.step(now.after, true).plan];
  }

  /** The eyes whose lids the frame measures: both on a lid frame, else those the eye-state model reads as closed. */
  lidEyes(plan: FramePlan, eyes: EyeState): Eye[] {
    return (['left', 'right'] as const).filter((eye) => plan.lids || eyes[eye] < this.lidMeasureBelow);
  }

  /**
   * One eye's lid opening measured on the frame `plan` is for, at `tsMs` (the frame's time; without one, tracked
   * frames count at 30 fps): relative to the eye's open level, undefined until the level is known.
   */
  lidReading(eye: Eye, tsMs: number | undefined, opening: number, plan: FramePlan): number | undefined {
    return this.levels.read(eye, tsMs ?? (this.counters.tracked * 1000) / 30, opening, plan.lids);
  }

  /** A pose frame's reading: records its offset to the landmark fit (when there is one); returns the model's pose. */
  fromModel(model: Pose, landmark: Pose | null): Pose {
    if (landmark) {
      const o = { yaw: model.yaw - landmark.yaw, pitch: model.pitch - landmark.pitch, roll: model.roll - landmark.roll };
      this.offsets = [...this.offsets, o].slice(-this.poseSamples);
    }
    return model;
  }

  /** A landmark frame's pose: the fit's angles shifted per axis by the median recorded offset. */
  fromLandmarks(landmark: Pose): Pose {
    if (this.offsets.length === 0) throw new Error('FaceTrack.fromLandmarks before any offset (next() said model)');
    return {
      yaw: landmark.yaw + median(this.offsets.map((o) => o.yaw)),
      pitch: landmark.pitch + median(this.offsets.map((o) => o.pitch)),
      roll: landmark.roll + median(this.offsets.map((o) => o.roll)),
    };
  }
}

/** A frame that runs fr_pose or the iris model: the frames that carry their box rather than pay for the detector too. */
function costly(plan: FramePlan): boolean {
  return plan.pose === 'model' || plan.lids;
}
