import type { SessionPolicy } from '../policy.ts';
import type { FaceSignals } from '../signals.ts';

export interface BlinkEvent {
  type: 'blink';
  /** first sample below `openAbove` (eyes noticeably closing) */
  startMs: number;
  /** first sample back above `openAbove` */
  endMs: number;
}

type BlinkState = 'unknown' | 'open' | 'closing';

/**
 * Streaming blink detector: both eyes close and reopen.
 *
 * INVARIANTS:
 * - "Eyes" = the MORE open of the two eyes, so a wink (one eye) never counts and both must close.
 * - Hysteresis: a blink needs an open phase (> openAbove), a dip below closedBelow, and a reopening above openAbove,
 *   within maxDurationMs from the first sample below openAbove. A dip that never reaches closedBelow (partial blink,
 *   noise, smile) or a closure longer than maxDurationMs (eyes_closed) emits nothing.
 * - "Open" means open for at least minOpenMs, before and after: an eye-state model flipping frame to frame during a
 *   drowsy flutter (closed / slit / closed ...) is one long closure, not a string of blinks. The blink is reported
 *   when the reopening has lasted minOpenMs; its end is the first open sample.
 * - Timestamps, not frame counts: a single closed frame at 30 fps is a valid blink; a hole in the timestamps longer
 *   than maxGapMs, or a frame without a face, forgets the state, so an unseen period is never counted as a blink.
 */
export class BlinkDetector {
  private state: BlinkState = 'unknown';
  private startMs = 0;
  private sawClosed = false;
  /** first sample of the current run of open samples */
  private openSince: number | undefined;
  private lastTs: number | undefined;

  constructor(private readonly cfg: SessionPolicy['blink']) {}

  /** Feed one frame (face undefined = no face). Returns the blink that ended on this frame, if any. */
  push(tsMs: number, face: FaceSignals | undefined): BlinkEvent | undefined {
    if (this.lastTs !== undefined && tsMs - this.lastTs > this.cfg.maxGapMs) this.reset();
    this.lastTs = tsMs;
    if (face === undefined) {
      this.reset();
      return undefined;
    }
    const eyes = Math.max(face.leftEyeOpen, face.rightEyeOpen);
    const open = eyes > this.cfg.openAbove;
    if (!open) this.openSince = undefined;
    else this.openSince ??= tsMs;
    const steadyOpen = this.openSince !== undefined && tsMs - this.openSince >= this.cfg.minOpenMs;
    switch (this.state) {
      case 'unknown':
        if (steadyOpen) this.state = 'open';
        return undefined;
      case 'open':
        if (!open) {
          this.state = 'closing';
          this.startMs = tsMs;
          this.sawClosed = eyes < this.cfg.closedBelow;
        }
        return undefined;
      case 'closing': {
        if (eyes < this.cfg.closedBelow) this.sawClosed = true;
        if (!steadyOpen || this.openSince === undefined) return undefined;
        this.state = 'open';
        const short = this.openSince - this.startMs <= this.cfg.maxDurationMs;
        return this.sawClosed && short ? { type: 'blink', startMs: this.startMs, endMs: this.openSince } : undefined;
      }
    }
  }

  reset(): void {
    this.state = 'unknown';
    this.openSince = undefined;
    this.lastTs = undefined;
  }
}
