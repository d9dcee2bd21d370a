/**
 * One camera stream's face analysis, one call per frame (`next`): the stream's face track (face-track.ts) decides
 * what the primary face's frame runs (carried box or detector, fr_pose or landmarks + offset, anti-spoof, iris lids)
 * and this runs the engine's model calls it names. Other faces go through every model but the iris one, as on a
 * single image (FaceEngine.analyzeFrame).
 *
 * Calls are sequential (the engine's are): await one frame before the next. Holds the track's scalars only; the
 * images, landmarks and eye readings it handles are the caller's (returned) or zeroed here (a carry refused).
 */
import { CanceledError } from '../lib/errors.ts';
import { fivePoints } from './align.ts';
import { type Detection, largestFirst } from './detector.ts';
import type { FaceAnalysis, ScoredFaceAnalysis } from './face-analysis.ts';
import type { EyeState } from './eyes.ts';
import type { FaceTrack, FramePlan } from './face-track.ts';
import type { RgbImage } from './image.ts';
import type { Eye } from './lid-levels.ts';
import { landmarkPose } from './landmark-pose.ts';
import type { Pose } from './pose.ts';
import { measureQuality } from './quality.ts';
import type { Box } from './warp.ts';

/** The engine's model calls a tracker runs (FaceEngine has them). */
export interface TrackerModels {
  detect(img: RgbImage): Promise<Detection[]>;
  analyzeFace(img: RgbImage, d: Detection): Promise<ScoredFaceAnalysis>;
  landmarks(img: RgbImage, box: Box): Promise<Float32Array>;
  eyeState(img: RgbImage, landmarks68: Float32Array): Promise<EyeState>;
  headPose(img: RgbImage, box: Box): Promise<Pose>;
  antispoof(img: RgbImage, box: Box): Promise<number>;
  lidOpening(img: RgbImage, landmarks68: Float32Array, eye: Eye): Promise<number>;
}

export interface TrackedFrameOptions {
  /** the frame's time, for the track's gap rule and the lids' open levels */
  tsMs?: number;
  maxFaces?: number;
  signal?: AbortSignal;
  /** fr_pose on this frame whatever the plan (face-track.ts, POSE ON EVERY FRAME): an open turn challenge */
  poseEveryFrame?: boolean;
}

export class FaceTracker {
  constructor(private readonly models: TrackerModels, private readonly track: FaceTrack) {}

  /**
   * The frame's faces, largest first. The largest runs what the track's plan says: its pose from the hybrid source
   * (`poseSource`), the anti-spoof model on the plan's frames only (the others have no `antispoof`), the iris model on
   * the eyes the plan names (`lids`); on the frames the track carries the box, the detector does not run and the box
   * is the carried one (`boxSource` 'landmarks').
   */
  async next(img: RgbImage, opts: TrackedFrameOptions = {}): Promise<FaceAnalysis[]> {
    const { tsMs } = opts;
    this.track.setPoseEveryFrame(opts.poseEveryFrame ?? false);
    const carriedFace = await this.carriedFace(img, tsMs);
    const carried = carriedFace?.detection;
    const dets = carried ? [carried] : largestFirst(await this.models.detect(img));
    if (!carried) this.track.detected(dets.length);
    const faces: FaceAnalysis[] = [];
    for (const [i, d] of dets.slice(0, opts.maxFaces ?? dets.length).entries()) {
      if (opts.signal?.aborted) throw new CanceledError('frame analysis canceled');
      if (i > 0) {
        faces.push(await this.models.analyzeFace(img, d));
        continue;
      }
      const landmarks68 = carriedFace?.landmarks68 ?? (await this.models.landmarks(img, d.box));
      this.track.follow(d, landmarks68);
      const { pose, plan } = await this.followTrack(img, d.box, landmarks68, tsMs);
      const eyes = carriedFace?.eyes ?? (await this.models.eyeState(img, landmarks68));
      faces.push({
        box: d.box,
        score: d.score,
        landmarks68,
        points5: fivePoints(landmarks68),
        pose,
        poseSource: plan.pose,
        boxSource: carried ? 'landmarks' : 'detector',
        eyes,
        ...(await this.lids(plan, img, landmarks68, eyes, tsMs)),
        quality: measureQuality(img, d.box, landmarks68),
        ...(plan.antispoof ? { antispoof: await this.models.antispoof(img, d.box) } : {}),
      });
    }
    return faces;
  }

  /** Forget the face (the stream ended or broke off): the next frame starts a fresh track. */
  reset(): void {
    this.track.reset();
  }

  /**
   * The primary face from the box the track carries (face-track.ts, DETECTOR), with its landmarks and eyes; undefined
   * when the track carries none or fr_eye reads either eye below the track's `carryEyesAbove` on it (the frame then
   * runs the detector: a closed or doubtful eye is read from the detector's box, as without a carry).
   */
  private async carriedFace(
    img: RgbImage, tsMs: number | undefined,
  ): Promise<{ detection: Detection; landmarks68: Float32Array; eyes: EyeState } | undefined> {
    const detection = this.track.carry(img.width, img.height, tsMs);
    if (!detection) return undefined;
    const landmarks68 = await this.models.landmarks(img, detection.box);
    const eyes = await this.models.eyeState(img, landmarks68);
    if (this.track.eyesCarry(eyes)) return { detection, landmarks68, eyes };
    landmarks68.fill(0);
    return undefined;
  }

  /** The frame's plan, and the primary face's pose (fr_pose on pose frames, else landmarks + offset). */
  private async followTrack(
    img: RgbImage, box: Box, landmarks68: Float32Array, tsMs: number | undefined,
  ): Promise<{ pose: Pose; plan: FramePlan }> {
    const fit = landmarkPose(landmarks68);
    const plan = this.track.next(box, tsMs, fit !== null);
    if (plan.pose === 'landmarks' && fit) return { pose: this.track.fromLandmarks(fit), plan };
    return { pose: this.track.fromModel(await this.models.headPose(img, box), fit), plan };
  }

  /** The primary face's lids: the eyes the plan names, relative to their open levels (none: {}). */
  private async lids(
    plan: FramePlan, img: RgbImage, landmarks68: Float32Array, eyes: EyeState, tsMs: number | undefined,
  ): Promise<{ lids?: Partial<Record<Eye, number>> }> {
    const measure = this.track.lidEyes(plan, eyes);
    if (measure.length === 0) return {};
    const lids: Partial<Record<Eye, number>> = {};
    for (const eye of measure) {
      const relative = this.track.lidReading(eye, tsMs, await this.models.lidOpening(img, landmarks68, eye), plan);
      if (relative !== undefined) lids[eye] = relative;
    }
    return { lids };
  }
}
