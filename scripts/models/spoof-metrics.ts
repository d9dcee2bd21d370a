/**
 * Scoring helpers for the passive anti-spoof study (scripts/models/human-spoof-eval.ts): AUC, EER and PAD rates of a
 * live-probability scorer on labelled photos, and the session's window rule on live clips. Pure functions over
 * numbers (higher = more live); no pixels.
 */
import { windowDecisions } from '../../src/session/antispoof-windows.ts';
import { equalErrorRate, pad } from '../../src/vision/metrics.ts';

/** P(live score > attack score), ties counting half (Mann-Whitney U / (n·m)). */
export function auc(live: readonly number[], attack: readonly number[]): number {
  if (live.length === 0 || attack.length === 0) return Number.NaN;
  let wins = 0;
  for (const l of live) for (const a of attack) wins += l > a ? 1 : l === a ? 0.5 : 0;
  return wins / (live.length * attack.length);
}

export interface LabelledScore {
  readonly live: boolean;
  readonly score: number;
}

export interface PadReport {
  readonly n: number;
  readonly auc: number;
  /** EER on this set and the threshold where it is reached */
  readonly eer: number;
  readonly eerThreshold: number;
  /** at `threshold`: attacks accepted as live, live faces refused */
  readonly threshold: number;
  readonly apcer: number;
  readonly bpcer: number;
}

/** AUC and EER on `rows`, and APCER/BPCER at `threshold` (default: this set's own EER threshold). */
export function padReport(rows: readonly LabelledScore[], threshold?: number): PadReport {
  const live = rows.filter((r) => r.live).map((r) => r.score);
  const attack = rows.filter((r) => !r.live).map((r) => r.score);
  const { eer, threshold: eerThreshold } = equalErrorRate(live, attack);
  const t = threshold ?? eerThreshold;
  const at = pad(live, { attack }, t);
  return { n: rows.length, auc: auc(live, attack), eer, eerThreshold, threshold: t, apcer: at.apcer.attack, bpcer: at.bpcer };
}

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
 * The session's passive anti-spoof window rule (src/session/antispoof-windows.ts windowDecisions) on a LIVE clip for
 * the human model study, with any scorer: frames with one face inside the quality gate's yaw/pitch limits count; a
 * window whose aggregate is below the threshold would refuse the live person. `score(i)` is frame i's live score;
 * undefined (a frame the face track did not score) is skipped, as the session skips it. Sessions and
 * `replay --events-only` apply the whole quality gate instead (antispoofWindows).
 */
export function spoofWindows(
  frames: readonly ClipFrame[], score: (i: number) => number | undefined, rule: WindowRule,
): { windows: number; spoof: number } {
  const facing = (f: ClipFrame): boolean => f.faceCount === 1 && f.yawDeg !== undefined && f.pitchDeg !== undefined
    && Math.abs(f.yawDeg) <= rule.maxYawDeg && Math.abs(f.pitchDeg) <= rule.maxPitchDeg;
  const w = windowDecisions(frames.map((f, i) => ({ tsMs: f.tsMs, score: facing(f) ? score(i) : undefined })), rule);
  return { windows: w.windows, spoof: w.spoofWindows };
}

/** Fraction of the frames with a face whose live score is below `threshold` (each frame judged alone). */
export function spoofFrameFraction(scores: readonly (number | undefined)[], threshold: number): number {
  const judged = scores.filter((s): s is number => s !== undefined);
  return judged.length === 0 ? Number.NaN : judged.filter((s) => s < threshold).length / judged.length;
}
