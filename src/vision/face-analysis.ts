/** What the engine reports for one face (a single image's analysis or a tracker's frame). */
import type { Point } from './align.ts';
import type { EyeState } from './eyes.ts';
import type { PoseSource } from './face-track.ts';
import type { Eye } from './lid-levels.ts';
import type { Pose } from './pose.ts';
import type { Quality } from './quality.ts';
import type { Box } from './warp.ts';

export interface FaceAnalysis {
  box: Box;
  /** detector confidence 0–1 */
  score: number;
  /** 68 iBUG points, interleaved x,y in image pixels */
  landmarks68: Float32Array;
  /** 5 alignment points (subject's right eye, left eye, nose, right and left mouth corner) */
  points5: Point[];
  pose: Pose;
  /** where `pose` came from: set only on a tracker's primary face (fr_pose or landmarks + offset) */
  poseSource?: PoseSource;
  /**
   * where `box` came from, set only on a tracker's primary face: this frame's detector pass, or carried (the last
   * detector box moved with the landmarks; face-track.ts, DETECTOR: then `score` is that detector frame's and the frame
   * has this face only)
   */
  boxSource?: 'detector' | 'landmarks';
  eyes: EyeState;
  /**
   * Lid opening relative to the eye's recent open level (1 = as open as usual; iris.ts, lid-levels.ts). Present only
   * when the iris model ran on this frame (a tracked primary face, the eyes its track's plan named: face-track.ts);
   * an eye is in it once its open level is known.
   */
  lids?: Partial<Record<Eye, number>>;
  quality: Quality;
  /**
   * passive anti-spoof: probability the face is live, 0–1. Absent only on a tracked primary face whose track
   * skipped the model on this frame (face-track.ts): no score, never a copied one.
   */
  antispoof?: number;
}

/** A face analysed off a track: every model ran on it, so it always has its anti-spoof score. */
export type ScoredFaceAnalysis = FaceAnalysis & { antispoof: number };
