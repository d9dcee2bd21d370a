import type { SessionPolicy } from './policy.ts';
import type { FrameSignals } from './signals.ts';

/**
 * Per-frame quality check for the gate and for evidence frames (anti-spoof aggregation, match frames).
 * Issues are listed in the order a customer should fix them; the first one becomes the prompt.
 */
export const QUALITY_ISSUES = [
  'no_face', 'multiple_faces', 'too_far', 'too_close', 'off_center', 'not_facing', 'head_tilted',
  'too_dark', 'too_bright', 'blurry', 'eyes_closed',
] as const;
export type QualityIssue = (typeof QUALITY_ISSUES)[number];

export interface QualityAssessment {
  ok: boolean;
  issues: QualityIssue[];
  /** ranking score for choosing match frames within one session (sharp, frontal, centred); 0 when not ok */
  score: number;
}

export function assessQuality(f: FrameSignals, q: SessionPolicy['quality']): QualityAssessment {
  if (f.faceCount === 0 || f.face === undefined) return { ok: false, issues: ['no_face'], score: 0 };
  const issues: QualityIssue[] = [];
  const face = f.face;
  if (f.faceCount > 1) issues.push('multiple_faces');
  const { x1, y1, x2, y2 } = face.box;
  const widthFrac = (x2 - x1) / f.frameWidth;
  if (widthFrac < q.minFaceWidthFrac) issues.push('too_far');
  if (widthFrac > q.maxFaceWidthFrac) issues.push('too_close');
  const dx = Math.abs((x1 + x2) / 2 / f.frameWidth - 0.5);
  const dy = Math.abs((y1 + y2) / 2 / f.frameHeight - 0.5);
  if (dx > q.maxCenterOffsetFrac || dy > q.maxCenterOffsetFrac) issues.push('off_center');
  if (Math.abs(face.yawDeg) > q.maxYawDeg || Math.abs(face.pitchDeg) > q.maxPitchDeg) issues.push('not_facing');
  if (Math.abs(face.rollDeg) > q.maxRollDeg) issues.push('head_tilted');
  if (face.faceLuma < q.minLuma) issues.push('too_dark');
  if (face.faceLuma > q.maxLuma) issues.push('too_bright');
  if (face.quality.sharpness < q.minSharpness) issues.push('blurry');
  if (Math.min(face.leftEyeOpen, face.rightEyeOpen) < q.minEyeOpen) issues.push('eyes_closed');
  if (issues.length > 0) return { ok: false, issues, score: 0 };
  const frontal = 1 - (Math.abs(face.yawDeg) / q.maxYawDeg + Math.abs(face.pitchDeg) / q.maxPitchDeg) / 4;
  const centred = 1 - (dx + dy) / (4 * Math.max(q.maxCenterOffsetFrac, 1e-6));
  // Laplacian variance spans decades with content; its log ranks frames of one face sensibly.
  return { ok: true, issues, score: Math.log1p(face.quality.sharpness) * frontal * centred };
}
