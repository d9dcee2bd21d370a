/**
 * Per-track head-pose state for the hybrid pose source (issue #3; the study is scripts/models/landmark-pose.md).
 *
 * fr_pose (crop + model, ~1/3 of a tracked frame's cost) runs on the track's MODEL frames: the first frame after a
 * reset and every `every`-th frame after it, plus any frame while no offset is known yet or the landmark fit failed.
 * Every other frame reports the landmark fit's angles (landmark-pose.ts), each axis shifted by the median of the last
 * `samples` (fr_pose − landmark) offsets: the offset carries fr_pose's absolute reference (the person-dependent pitch
 * a generic landmark face gets wrong), the landmarks carry the motion between samples. Median, not mean, so one wild
 * fr_pose reading does not move the frames after it (the study's measured form).
 *
 * RESET (the next frame is a model frame and old offsets are forgotten): the primary face is lost, the primary face's
 * box jumps (IoU with the previous frame's below `minIou`: a different person, or the same one moved too far to trust
 * the offset), or a gap of more than `maxGapMs` between frames. The owner also resets it when its stream ends.
 *
 * Holds angles, a box and a time only: nothing biometric. One track per frame stream, used by one caller at a time.
 */
import { boxIou } from './detector.ts';
import { median } from './metrics.ts';
import type { Pose } from './pose.ts';
import type { Box } from './warp.ts';

export interface PoseTrackOptions {
  /** fr_pose on every `every`-th tracked frame (default 5: the study's choice; 1 = every frame) */
  every?: number;
  /** offsets kept per axis; the median of them shifts the landmark angles (default 3) */
  samples?: number;
  /** a longer gap between frames resets the track (default 500 ms) */
  maxGapMs?: number;
  /** a primary box overlapping the previous one less than this resets the track (default 0.3) */
  minIou?: number;
}

export type PoseSource = 'model' | 'landmarks';

export class PoseTrack {
  readonly every: number;
  private readonly samples: number;
  private readonly maxGapMs: number;
  private readonly minIou: number;
  private tracked = 0;
  private offsets: Pose[] = [];
  private lastBox: Box | undefined;
  private lastTsMs: number | undefined;

  constructor(opts: PoseTrackOptions = {}) {
    this.every = opts.every ?? 5;
    this.samples = opts.samples ?? 3;
    this.maxGapMs = opts.maxGapMs ?? 500;
    this.minIou = opts.minIou ?? 0.3;
    if (!Number.isInteger(this.every) || this.every < 1) throw new RangeError('PoseTrack: every must be a positive integer');
    if (!Number.isInteger(this.samples) || this.samples < 1) throw new RangeError('PoseTrack: samples must be a positive integer');
  }

  /** Forget everything: the next face is a model frame. */
  reset(): void {
    this.tracked = 0;
    this.offsets = [];
    this.lastBox = undefined;
    this.lastTsMs = undefined;
  }

  /** A frame without a face: the face is lost. */
  lost(): void {
    this.reset();
  }

  /**
   * The next frame's primary face (box; `tsMs` the frame's time, when the caller knows it): applies the reset rules,
   * counts the frame and says where its pose must come from. `landmarkFit` false (the landmark fit failed) forces
   * the model; such a frame records no offset.
   */
  next(box: Box | undefined, tsMs: number | undefined, landmarkFit: boolean): PoseSource {
    const gap = tsMs !== undefined && this.lastTsMs !== undefined && tsMs - this.lastTsMs > this.maxGapMs;
    const jump = box !== undefined && this.lastBox !== undefined && boxIou(this.lastBox, box) < this.minIou;
    if (gap || jump) this.reset();
    this.lastBox = box;
    this.lastTsMs = tsMs;
    const scheduled = this.tracked++ % this.every === 0;
    return scheduled || !landmarkFit || this.offsets.length === 0 ? 'model' : 'landmarks';
  }

  /** A model frame's reading: records its offset to the landmark fit (when there is one); returns the model's pose. */
  fromModel(model: Pose, landmark: Pose | null): Pose {
    if (landmark) {
      const o = { yaw: model.yaw - landmark.yaw, pitch: model.pitch - landmark.pitch, roll: model.roll - landmark.roll };
      this.offsets = [...this.offsets, o].slice(-this.samples);
    }
    return model;
  }

  /** A landmark frame's pose: the fit's angles shifted per axis by the median recorded offset. */
  fromLandmarks(landmark: Pose): Pose {
    if (this.offsets.length === 0) throw new Error('PoseTrack.fromLandmarks before any offset (next() said model)');
    return {
      yaw: landmark.yaw + median(this.offsets.map((o) => o.yaw)),
      pitch: landmark.pitch + median(this.offsets.map((o) => o.pitch)),
      roll: landmark.roll + median(this.offsets.map((o) => o.roll)),
    };
  }
}
