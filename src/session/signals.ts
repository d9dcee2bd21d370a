import type { Template } from './face-template.ts';

/**
 * The narrow input the session logic consumes: one record per analysed camera frame. The vision adapter fills it;
 * nothing here knows about models or pixels.
 *
 * CLOCK: `tsMs` is the frame's capture time on the same monotonic millisecond clock as the session's `Clock`.
 * Detectors reason on timestamps, never on frame counts, so dropped frames shorten evidence but never fake it.
 *
 * YAW SIGN CONVENTION (the one place it is defined): `FaceSignals.yawDeg` is measured in the image as delivered by
 * the camera: POSITIVE = the face turns toward the IMAGE RIGHT. For an unmirrored camera (the CSI/USB sensor as-is,
 * which is also how the data set's clips are labelled) a face turning toward the image right is turning to the
 * subject's OWN LEFT. If the camera pipeline mirrors the image (selfie view), set `mirrored: true` and the sign
 * flips. Every left/right decision goes through `subjectYawDeg`.
 */
/** Pixel corners, same shape as the vision engine's `Box` (src/vision/warp.ts). */
export interface FaceBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface FaceQuality {
  /**
   * Focus measure as the vision engine reports it: variance of the 4-neighbour Laplacian on the 64x64 gray face
   * crop (src/vision/quality.ts). Measured on the data set's clips: sharp faces 320-3800, Gaussian blur sigma 3
   * 44-1000 (content-dependent, so the gate only rejects clear blur).
   */
  sharpness: number;
}

/** Measurements of the primary (largest) face. */
export interface FaceSignals {
  box: FaceBox;
  /** degrees; + = toward the image right (see YAW SIGN CONVENTION) */
  yawDeg: number;
  /** degrees; + = chin up */
  pitchDeg: number;
  /** degrees; + = head top toward the image right */
  rollDeg: number;
  /** open probability 0..1 of the subject's own left / right eye */
  leftEyeOpen: number;
  rightEyeOpen: number;
  /**
   * Lid opening of the subject's own left / right eye relative to that eye's recent open level (1 = as open as
   * usual; the iris model, src/vision/face-track.ts), on frames where it was measured: the blink detector's second
   * opinion on an eye the eye-state model calls closed.
   */
  leftLidOpen?: number;
  rightLidOpen?: number;
  /** mean luminance 0..255 of the face region (the light challenge reads it) */
  faceLuma: number;
  /**
   * passive anti-spoof score 0..1, higher = live. Absent on frames the vision side did not score (on a stream the
   * model runs on alternate frames, src/vision/face-track.ts): such a frame adds no anti-spoof evidence.
   */
  antispoof?: number;
  quality: FaceQuality;
  /**
   * Identity template (one vector per embedder), present on frames the shell chose to embed. The session takes
   * ownership: it wipes every template it holds when it drops it or when the session ends.
   */
  embedding?: Template;
}

export interface FrameSignals {
  seq?: number;
  tsMs: number;
  frameWidth: number;
  frameHeight: number;
  /** number of faces detected in the frame */
  faceCount: number;
  /** the primary face; absent when faceCount is 0 */
  face?: FaceSignals;
}

export type TurnDirection = 'left' | 'right';

/**
 * Yaw in the subject's frame of reference: POSITIVE = the subject turned to their OWN LEFT.
 * Unmirrored camera: subject's left = image right = positive image yaw. Mirrored camera: the opposite.
 */
export function subjectYawDeg(imageYawDeg: number, mirrored: boolean): number {
  return mirrored ? -imageYawDeg : imageYawDeg;
}

export function directionOf(subjectYaw: number): TurnDirection {
  return subjectYaw >= 0 ? 'left' : 'right';
}
