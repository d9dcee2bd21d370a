import type { FaceAnalysis } from '../vision/engine.ts';
import type { FaceTemplate } from '../vision/matcher.ts';
import type { FaceSignals, FrameSignals } from './signals.ts';

/**
 * The vision → session adapter: the face engine's per-frame analysis (largest face first) as the session's narrow
 * `FrameSignals`. The engine and the session share the yaw sign convention (+ = toward the image right, signals.ts),
 * so yaw passes through unchanged; quality brightness (0..1) becomes face luminance 0..255; a face the engine did
 * not score for anti-spoof (a tracked frame between scored ones) stays without a score.
 * Nothing biometric is copied except the embedding the caller chose to attach (`withEmbedding`; owned by the session
 * from then on).
 */
export function faceSignals(face: FaceAnalysis): FaceSignals {
  return {
    box: face.box,
    yawDeg: face.pose.yaw,
    pitchDeg: face.pose.pitch,
    rollDeg: face.pose.roll,
    leftEyeOpen: face.eyes.left,
    rightEyeOpen: face.eyes.right,
    ...(face.lids?.left === undefined ? {} : { leftLidOpen: face.lids.left }),
    ...(face.lids?.right === undefined ? {} : { rightLidOpen: face.lids.right }),
    faceLuma: face.quality.brightness * 255,
    ...(face.antispoof === undefined ? {} : { antispoof: face.antispoof }),
    quality: { sharpness: face.quality.sharpness },
  };
}

export function frameSignals(
  faces: readonly FaceAnalysis[], meta: { tsMs: number; width: number; height: number; seq?: number },
): FrameSignals {
  const f = faces[0];
  return {
    ...(meta.seq === undefined ? {} : { seq: meta.seq }),
    tsMs: meta.tsMs,
    frameWidth: meta.width,
    frameHeight: meta.height,
    faceCount: faces.length,
    ...(f ? { face: faceSignals(f) } : {}),
  };
}

/** The frame's signals with the primary face's embedding attached (a frame with a face only). */
export function withEmbedding(signals: FrameSignals, embedding: FaceTemplate): FrameSignals {
  if (!signals.face) throw new Error('withEmbedding: the frame has no face');
  return { ...signals, face: { ...signals.face, embedding } };
}
