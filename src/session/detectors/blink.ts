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
 * - "Eyes" = the MORE open of the two eyes for the open/closing phases, so a wink (one eye) never counts.
 * - Hysteresis: a blink needs an open phase (> openAbove), a dip of EACH eye below closedBelow, and a reopening
 *   above openAbove, within maxDurationMs from the first sample below openAbove. A dip that never reaches closedBelow
 *   (partial blink, noise, smile) or a closure longer than maxDurationMs (eyes_closed) emits nothing.
 * - Both eyes take part from the start (a blink is bilateral and the lids move together): each eye must have been
 *   open (> openAbove) within bilateralMs before the closure began, and each must dip below closedBelow during it
 *   (not necessarily on the same frame: the eye-state model reads the two eyes independently, one frame apart on a
 *   fast blink). A closure that begins while one eye is already shut is a wink or a squint ending, not a blink.
 * - The lids have a veto over the pair: a closure is not a blink when, for BOTH eyes, every frame on which the
 *   eye-state model reads that eye closed has a measured lid opening (iris model, relative to the eye's own open
 *   level) of at least lidOpenAbove (a half-lidded glance, eyes cast down or rolled up). One eye closed by both cues
 *   on one frame confirms the pair: a blink closes both lids together, and the lid of a hooded or narrow eye can
 *   read open while it is shut. A lid at or above lidOpenAbove also counts its eye as open for the bilateral test
 *   (downcast eyes the eye-state model reads as shut are open). The state machine's open/closing phases stay the
 *   eye-state model's call, so the lids never split or end a closure.
 * - "Open" means open for at least minOpenMs, before and after: an eye-state model flipping frame to frame during a
 *   drowsy flutter (closed / slit / closed ...) is one long closure, not a string of blinks. The blink is reported
 *   when the reopening has lasted minOpenMs; its end is the first open sample.
 * - Timestamps, not frame counts: a single closed frame at 30 fps is a valid blink; a hole in the timestamps longer
 *   than maxGapMs, or a frame without a face, forgets the state, so an unseen period is never counted as a blink.
 */
export class BlinkDetector {
  private state: BlinkState = 'unknown';
  private startMs = 0;
  /** both eyes were open within bilateralMs before the current closure began */
  private bilateral = false;
  /** the eye-state model read each eye closed during the current closure */
  private leftShut = false;
  private rightShut = false;
  /** ...on a frame where that eye's lids did not read open (no lid measurement, or below lidOpenAbove) */
  private leftClosed = false;
  private rightClosed = false;
  /** first sample of the current run of open samples */
  private openSince: number | undefined;
  /** last sample where each eye on its own was open */
  private leftOpenMs: number | undefined;
  private rightOpenMs: number | undefined;
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
    const { leftEyeOpen: left, rightEyeOpen: right } = face;
    const eyes = Math.max(left, right);
    const open = eyes > this.cfg.openAbove;
    if (!open) this.openSince = undefined;
    else this.openSince ??= tsMs;
    const steadyOpen = this.openSince !== undefined && tsMs - this.openSince >= this.cfg.minOpenMs;
    let event: BlinkEvent | undefined;
    switch (this.state) {
      case 'unknown':
        if (steadyOpen) this.state = 'open';
        break;
      case 'open':
        if (!open) {
          this.state = 'closing';
          this.startMs = tsMs;
          this.bilateral = this.recentlyOpen(this.leftOpenMs, tsMs) && this.recentlyOpen(this.rightOpenMs, tsMs);
          this.leftShut = false;
          this.rightShut = false;
          this.leftClosed = false;
          this.rightClosed = false;
        }
        break;
      case 'closing': {
        if (!steadyOpen || this.openSince === undefined) break;
        this.state = 'open';
        const short = this.openSince - this.startMs <= this.cfg.maxDurationMs;
        const lidsAgree = this.leftClosed || this.rightClosed;
        if (this.bilateral && this.leftShut && this.rightShut && lidsAgree && short) {
          event = { type: 'blink', startMs: this.startMs, endMs: this.openSince };
        }
        break;
      }
    }
    if (this.state === 'closing') {
      this.leftShut ||= left < this.cfg.closedBelow;
      this.rightShut ||= right < this.cfg.closedBelow;
      this.leftClosed ||= left < this.cfg.closedBelow && !this.lidOpen(face.leftLidOpen);
      this.rightClosed ||= right < this.cfg.closedBelow && !this.lidOpen(face.rightLidOpen);
    }
    if (left > this.cfg.openAbove || this.lidOpen(face.leftLidOpen)) this.leftOpenMs = tsMs;
    if (right > this.cfg.openAbove || this.lidOpen(face.rightLidOpen)) this.rightOpenMs = tsMs;
    return event;
  }

  reset(): void {
    this.state = 'unknown';
    this.openSince = undefined;
    this.leftOpenMs = undefined;
    this.rightOpenMs = undefined;
    this.lastTs = undefined;
  }

  /** the lid measurement (when there is one) says the eye is open: it vetoes the eye-state model's "closed" */
  private lidOpen(relative: number | undefined): boolean {
    return relative !== undefined && relative >= this.cfg.lidOpenAbove;
  }

  private recentlyOpen(openMs: number | undefined, nowMs: number): boolean {
    return openMs !== undefined && nowMs - openMs <= this.cfg.bilateralMs;
  }
}
