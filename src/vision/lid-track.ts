/**
 * Per-track lid state for the blink cue (issue #5; the study is scripts/models/iris-blink-study.ts): each eye's lid
 * opening (iris.ts) relative to that eye's own recent open level, so 1 = as open as this person's eye usually is and
 * a blink dips towards 0, whatever the eye's shape or the face's size.
 *
 * WHEN THE IRIS MODEL RUNS (it costs about as much as fr_pose for both eyes): on every `every`-th tracked frame (5;
 * counted from `phase` 2, so they fall between the pose track's fr_pose frames 0, 5, 10...), both eyes, to keep the
 * open level current; and on any frame where the eye-state model's open probability of an eye is
 * below `measureBelow` (the blink policy's closedBelow), that eye: exactly the frames where the blink detector needs
 * the lid's second opinion. Other frames report nothing for the eye.
 *
 * OPEN LEVEL: the `quantile` (0.7) of the eye's measurements on SCHEDULED frames over the last `windowMs` (3 s),
 * including the current frame's: blinks are a small minority of those evenly spaced samples, so the level sits on the
 * open eye. Measurements the eye-state model asked for are read against the level but not added to it (closed eyes
 * are measured on every frame, open ones on every 5th: counting them would drag the level down in a long closure).
 * A relative reading appears once `minSamples` samples are in the window.
 *
 * RESET (levels forgotten): the primary face is lost, its box jumps (IoU with the previous frame's below `minIou`: a
 * different person), or frames are more than `maxGapMs` apart; the owner also resets it when its stream ends.
 * Holds scalars only (openings and times): nothing that identifies a face.
 */
import { boxIou } from './detector.ts';
import type { EyeState } from './eyes.ts';
import type { Box } from './warp.ts';

export interface LidTrackOptions {
  /** both eyes measured on every `every`-th tracked frame (default 5)... */
  every?: number;
  /** ...starting with tracked frame `phase` (default 2; 0 = the first frame after a reset) */
  phase?: number;
  /** an eye whose open probability is below this is measured on every frame (default 0.3, the blink policy's) */
  measureBelow?: number;
  /** the open level is taken over this much history (default 3000 ms) */
  windowMs?: number;
  /** ...at this quantile (default 0.7) */
  quantile?: number;
  /** relative readings start once this many measurements are in the window (default 5) */
  minSamples?: number;
  /** a longer gap between frames resets the track (default 500 ms) */
  maxGapMs?: number;
  /** a primary box overlapping the previous one less than this resets the track (default 0.3) */
  minIou?: number;
}

export type Eye = 'left' | 'right';

interface Sample {
  tsMs: number;
  opening: number;
}

export class LidTrack {
  readonly every: number;
  private readonly phase: number;
  private readonly measureBelow: number;
  private readonly windowMs: number;
  private readonly quantile: number;
  private readonly minSamples: number;
  private readonly maxGapMs: number;
  private readonly minIou: number;
  private tracked = 0;
  private history: Record<Eye, Sample[]> = { left: [], right: [] };
  private lastBox: Box | undefined;
  private lastTsMs: number | undefined;
  /** the current frame is a scheduled one: its measurements feed the open level */
  private scheduled = false;

  constructor(opts: LidTrackOptions = {}) {
    this.every = opts.every ?? 5;
    this.phase = opts.phase ?? 2;
    this.measureBelow = opts.measureBelow ?? 0.3;
    this.windowMs = opts.windowMs ?? 3000;
    this.quantile = opts.quantile ?? 0.7;
    this.minSamples = opts.minSamples ?? 5;
    this.maxGapMs = opts.maxGapMs ?? 500;
    this.minIou = opts.minIou ?? 0.3;
    if (!Number.isInteger(this.every) || this.every < 1) throw new RangeError('LidTrack: every must be a positive integer');
    if (!Number.isInteger(this.phase) || this.phase < 0 || this.phase >= this.every) throw new RangeError('LidTrack: phase must be within 0..every-1');
    if (!(this.quantile >= 0 && this.quantile <= 1)) throw new RangeError('LidTrack: quantile must be within 0..1');
  }

  reset(): void {
    this.tracked = 0;
    this.history = { left: [], right: [] };
    this.lastBox = undefined;
    this.lastTsMs = undefined;
  }

  /** A frame without a face: the face is lost. */
  lost(): void {
    this.reset();
  }

  /**
   * The next frame's primary face (box, time, the eye-state model's reading): applies the reset rules, counts the
   * frame and says which eyes' lids to measure on it.
   */
  next(box: Box, tsMs: number | undefined, eyes: EyeState): Eye[] {
    const gap = tsMs !== undefined && this.lastTsMs !== undefined && tsMs - this.lastTsMs > this.maxGapMs;
    const jump = this.lastBox !== undefined && boxIou(this.lastBox, box) < this.minIou;
    if (gap || jump) this.reset();
    this.lastBox = box;
    this.lastTsMs = tsMs;
    this.scheduled = this.tracked++ % this.every === this.phase;
    return (['left', 'right'] as const).filter((eye) => this.scheduled || eyes[eye] < this.measureBelow);
  }

  /**
   * Record one eye's opening measured on the frame `next` last planned, at `tsMs` (the frame's time; a stream without
   * times counts frames at 30 fps), and return it relative to the eye's open level, or undefined while the level is
   * not yet known.
   */
  record(eye: Eye, tsMs: number | undefined, opening: number): number | undefined {
    const t = tsMs ?? (this.tracked * 1000) / 30;
    const h = this.history[eye];
    if (this.scheduled) h.push({ tsMs: t, opening });
    while (h.length > 0 && t - h[0].tsMs > this.windowMs) h.shift();
    if (h.length < this.minSamples) return undefined;
    const sorted = h.map((s) => s.opening).sort((a, b) => a - b);
    const level = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * this.quantile))];
    return level > 0 ? opening / level : undefined;
  }
}
