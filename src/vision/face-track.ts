/**
 * Per-stream state of the primary face: which costly models (fr_pose, anti-spoof, the iris model, the full-frame
 * detector) run on which tracked frame, and the head pose between fr_pose readings. The plan keeps a tracked frame
 * affordable: no frame pays for two costly models on a steady track (P S L S ·: fr_pose, anti-spoof, lids, none).
 *
 * POSE: fr_pose runs on the first frame after a reset and every `poseEvery`-th frame (and whenever no offset is known
 * or the landmark fit fails); the frames between report the landmark fit's angles shifted per axis by the median of
 * the last `poseSamples` (fr_pose − landmark) offsets. The offset carries fr_pose's absolute reference (the
 * person-dependent pitch a generic landmark face gets wrong), the landmarks carry the motion; the median keeps one wild
 * fr_pose reading from moving the frames after it. `setPoseEveryFrame` (kept across resets) runs fr_pose on every
 * frame for the turn challenge, because the landmark fit compresses large turns; only the pose source changes, so the
 * other evidence comes from the same frames.
 *
 * ANTI-SPOOF scores alternate frames that do not run fr_pose, and at least one frame in three even while the landmark
 * fit keeps failing. An unscored frame has NO score, never a neighbour's, so the session aggregates real evidence only.
 *
 * LIDS: the iris model measures both eyes on a lid frame (neither fr_pose nor anti-spoof, `lidEvery` frames apart),
 * which keeps each eye's open level (lid-levels.ts); an eye the eye-state model reads below `lidMeasureBelow` is
 * measured on any frame, read against the level without feeding it: exactly where the blink detector needs the lid's
 * opinion.
 *
 * DETECTOR: the costly frames CARRY the primary face's box instead of running the full-frame detector: the last
 * detector box moved with the stable landmarks (landmark-box.ts), and the detector runs on the frame before so the
 * carried box is fresh; at most `detectEvery` − 1 frames carry in a row. A carried frame can only ever see one face,
 * so the detector runs instead when its last pass saw any number of faces but one (the session's second-face clock
 * must run unbroken), when the carried box is less than half inside the frame, and when the eye-state model reads
 * either eye below `carryEyesAbove` on it (a doubtful eye is read from a detector box, so blink detection does not
 * depend on which frames carried). Measurements: docs/models.md, docs/pose.md.
 *
 * RESET (next frame is a pose frame; offsets, alternation and lid levels start over): the face is lost, its box jumps
 * (IoU below `minIou`: another person, or a move too large to trust the offset), or frames are more than `maxGapMs`
 * apart; the owner also resets it when its stream ends.
 *
 * Holds angles, lid openings, boxes, a detector score, the stable landmarks' centre and spread, a time and counters
 * only: nothing that identifies a face. One track per frame stream, used by one caller at a time.
 */
import { type Detection, boxArea, boxIou } from './detector.ts';
import type { EyeState } from './eyes.ts';
import { type Eye, LidLevels, type LidLevelsOptions } from './lid-levels.ts';
import { type StableFrame, moveBox, stableFrame } from './landmark-box.ts';
import { median } from './metrics.ts';
import type { Pose } from './pose.ts';
import type { Box } from './warp.ts';

export interface FaceTrackOptions {
  /** fr_pose on every `poseEvery`-th tracked frame (default 5; 1 = every frame) */
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
