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
  peakDeg: number;
}

interface Excursion {
  direction: TurnDirection;
  startMs: number;
  fromFrontal: boolean;
  reachedMs: number | undefined;
  confirmed: boolean;
  peakDeg: number;
}

/**
 * Streaming turn detector over subject yaw.
 *
 * INVARIANTS:
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
    private readonly cfg: SessionPolicy['turn'],
    private readonly mirrored: boolean,
  ) {}

  push(tsMs: number, face: FaceSignals | undefined): TurnEvent[] {
    const out: TurnEvent[] = [];
    if (this.lastTs !== undefined && tsMs - this.lastTs > this.cfg.maxGapMs) this.lose(out);
    if (face === undefined) {
      this.lose(out);
      this.lastTs = tsMs;
      return out;
    }
    const yaw = subjectYawDeg(face.yawDeg, this.mirrored);
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
