import { median } from '../../vision/metrics.ts';
import type { SessionPolicy } from '../policy.ts';
import { directionOf, subjectYawDeg, type FaceSignals, type TurnDirection } from '../signals.ts';

/** A head turn away from frontal, in the subject's own direction (signals.ts YAW SIGN CONVENTION). */
export interface TurnEvent {
  type: 'turn_onset' | 'turn_end';
  direction: TurnDirection;
  /** first sample past exitDeg in this direction */
  startMs: number;
  /** turn_end: first sample back below exitDeg (or the last sample seen, when the face/stream was lost) */
  endMs?: number;
  /** the excursion began from a frontal sample we saw (not mid-turn at stream start or after a gap) */
  fromFrontal: boolean;
  /** largest |yaw| seen, relative to the frontal baseline */
  peakDeg: number;
}

/** The thresholds a turn detector runs on: the clip scan's (`policy.turn`) or a turn challenge's (`policy.turn.prompted`). */
export type TurnRule = Pick<SessionPolicy['turn'], 'enterDeg' | 'exitDeg' | 'holdMs' | 'maxGapMs'>;

interface Excursion {
  direction: TurnDirection;
  startMs: number;
  fromFrontal: boolean;
  reachedMs: number | undefined;
  confirmed: boolean;
  peakDeg: number;
}

/**
 * Streaming turn detector over subject yaw, measured from the subject's own frontal pose.
 *
 * INVARIANTS:
 * - Yaw is taken RELATIVE to `frontalYawDeg` (image convention, like `FaceSignals.yawDeg`): the yaw this subject reads
 *   when facing the camera (pose-model bias for this face, or a slightly turned seat). A turn is a head rotation, so a
 *   customer whose frontal reads -6 deg turns right when the reading passes -6 - enterDeg, and turns left at
 *   -6 + enterDeg. 0 = absolute yaw. The live session measures it during the quality gate (`frontalYaw`), events-only
 *   mode over the clip's frontal frames.
 * - An excursion starts at the first sample with |yaw| >= exitDeg and ends at the first sample below exitDeg
 *   (hysteresis band exitDeg..enterDeg). Crossing to the other side past exitDeg restarts it in that direction.
 * - It is confirmed (`turn_onset`, once) when |yaw| has stayed >= enterDeg for holdMs; after that only falling below
 *   exitDeg ends it. Only confirmed excursions emit `turn_end`, so pose glitches and noise spikes never count.
 * - A timestamp hole > maxGapMs or a frame without a face closes the excursion at the last sample seen (a face
 *   detector often loses a strongly turned face; the turn it confirmed still happened) and forgets the baseline.
 */
export class TurnDetector {
  private exc: Excursion | undefined;
  private lastTs: number | undefined;
  /** the previous sample was frontal (|yaw| < exitDeg) and contiguous */
  private frontal = false;

  constructor(
    private readonly cfg: TurnRule,
    private readonly mirrored: boolean,
    private readonly frontalYawDeg = 0,
  ) {}

  push(tsMs: number, face: FaceSignals | undefined): TurnEvent[] {
    const out: TurnEvent[] = [];
    if (this.lastTs !== undefined && tsMs - this.lastTs > this.cfg.maxGapMs) this.lose(out);
    if (face === undefined) {
      this.lose(out);
      this.lastTs = tsMs;
      return out;
    }
    const yaw = subjectYawDeg(face.yawDeg - this.frontalYawDeg, this.mirrored);
    const mag = Math.abs(yaw);
    if (mag < this.cfg.exitDeg) {
      this.close(out, tsMs);
      this.frontal = true;
    } else {
      const direction = directionOf(yaw);
      if (this.exc !== undefined && this.exc.direction !== direction) this.close(out, tsMs);
      this.exc ??= { direction, startMs: tsMs, fromFrontal: this.frontal, reachedMs: undefined, confirmed: false, peakDeg: 0 };
      const e = this.exc;
      e.peakDeg = Math.max(e.peakDeg, mag);
      if (mag >= this.cfg.enterDeg) e.reachedMs ??= tsMs;
      else if (!e.confirmed) e.reachedMs = undefined;
      if (!e.confirmed && e.reachedMs !== undefined && tsMs - e.reachedMs >= this.cfg.holdMs) {
        e.confirmed = true;
        out.push({ type: 'turn_onset', direction: e.direction, startMs: e.startMs, fromFrontal: e.fromFrontal, peakDeg: e.peakDeg });
      }
      this.frontal = false;
    }
    this.lastTs = tsMs;
    return out;
  }

  /** End of stream: a confirmed turn still in progress ends at the last sample. */
  finish(): TurnEvent[] {
    const out: TurnEvent[] = [];
    this.lose(out);
    return out;
  }

  private lose(out: TurnEvent[]): void {
    if (this.lastTs !== undefined) this.close(out, this.lastTs);
    this.frontal = false;
  }

  private close(out: TurnEvent[], endMs: number): void {
    const e = this.exc;
    this.exc = undefined;
    if (e?.confirmed) {
      out.push({ type: 'turn_end', direction: e.direction, startMs: e.startMs, endMs, fromFrontal: e.fromFrontal, peakDeg: e.peakDeg });
    }
  }
}

/**
 * The subject's frontal yaw (image convention): the median of yaw readings taken while the subject faced the camera
 * (the quality gate's hold, or a clip's frames inside the gate's facing band). The median ignores the few frames of
 * a turn starting or a pose glitch; no readings → 0 (absolute yaw). A median beyond `maxBiasDeg` is not a personal
 * bias but a head held turned through the gate (the gate's band is wider): then the camera axis, 0, is the better
 * estimate of frontal, and a turn in that direction is not made harder by the amount the customer was already turned.
 */
export function frontalYaw(yawsDeg: readonly number[], maxBiasDeg: number): number {
  if (yawsDeg.length === 0) return 0;
  const m = median(yawsDeg);
  return Math.abs(m) <= maxBiasDeg ? m : 0;
}

/** One yaw reading the session saw (image convention), for the baseline of the next turn prompt. */
export interface YawReading {
  tsMs: number;
  yawDeg: number;
}

/**
 * PROMPTED BASELINE: the yaw a turn challenge is measured from. The median yaw of the readings in the
 * `prompted.baselineMs` before the prompt: the face as it was when the customer read the prompt, which follows a
 * talking head's slow drift that the gate's frontal (measured seconds earlier) does not. Too few readings, or a
 * median further than `maxFrontalBiasDeg` from the gate's frontal (a head not yet back from the previous turn: a
 * return to frontal must not count as a turn the other way), fall back to the gate's frontal.
 */
export function promptBaselineYaw(
  readings: readonly YawReading[], promptMs: number, cfg: SessionPolicy['turn'], gateFrontalYawDeg: number,
): number {
  const yaws = readings.filter((r) => r.tsMs < promptMs && r.tsMs >= promptMs - cfg.prompted.baselineMs).map((r) => r.yawDeg);
  if (yaws.length < cfg.prompted.minBaselineFrames) return gateFrontalYawDeg;
  const m = median(yaws);
  return Math.abs(m - gateFrontalYawDeg) <= cfg.maxFrontalBiasDeg ? m : gateFrontalYawDeg;
}
