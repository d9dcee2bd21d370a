import { trimmedMean } from './evidence.ts';
import type { SessionPolicy } from './policy.ts';
import type { FrameSignals } from './signals.ts';

/** One analysed clip frame, reduced to what the window rule reads. */
export interface ClipFrame {
  readonly tsMs: number;
  readonly faceCount: number;
  readonly yawDeg?: number;
  readonly pitchDeg?: number;
}

export interface WindowRule {
  readonly maxYawDeg: number;
  readonly maxPitchDeg: number;
  readonly minFrames: number;
  readonly trimFraction: number;
  readonly threshold: number;
}

/**
 * The session's passive anti-spoof aggregation on a LIVE clip (`regterm eval events` and the human model study use
 * it): frames with one face inside the quality gate's yaw/pitch limits; every 5 s window, 1 s apart, with
 * at least minFrames scored frames; a window whose trimmed mean is below the threshold would refuse the live person.
 * `score(i)` is frame i's live score; undefined (a frame the face track did not score) is skipped, as the session
 * skips it.
 */
export function spoofWindows(
  frames: readonly ClipFrame[], score: (i: number) => number | undefined, rule: WindowRule,
): { windows: number; spoof: number } {
  const facing = frames
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => f.faceCount === 1 && f.yawDeg !== undefined && f.pitchDeg !== undefined && Math.abs(f.yawDeg) <= rule.maxYawDeg && Math.abs(f.pitchDeg) <= rule.maxPitchDeg);
  const out = { windows: 0, spoof: 0 };
  const endMs = facing.at(-1)?.f.tsMs ?? 0;
  for (let t = facing[0]?.f.tsMs ?? 0; t + 5000 <= endMs; t += 1000) {
    const scores = facing.flatMap(({ f, i }) => {
      const s = f.tsMs >= t && f.tsMs < t + 5000 ? score(i) : undefined;
      return s === undefined ? [] : [s];
    });
    if (scores.length < rule.minFrames) continue;
    out.windows++;
    if (trimmedMean(scores, rule.trimFraction) < rule.threshold) out.spoof++;
  }
  return out;
}

/** `spoofWindows` on a clip's session signals, with the session policy's facing limits and anti-spoof rule. */
export function clipSpoofWindows(
  signals: readonly FrameSignals[], policy: Pick<SessionPolicy, 'quality' | 'antispoof'>,
): { windows: number; spoof: number } {
  const frames = signals.map((f) => ({ tsMs: f.tsMs, faceCount: f.faceCount, yawDeg: f.face?.yawDeg, pitchDeg: f.face?.pitchDeg }));
  return spoofWindows(frames, (i) => signals[i].face?.antispoof, { ...policy.quality, ...policy.antispoof });
}
