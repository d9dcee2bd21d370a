/**
 * Per-eye open levels for the blink detector's lid cue (why it helps: docs/models.md):
 * each eye's lid opening (iris.ts) relative to that eye's own recent open level, so 1 = as open as this person's eye
 * usually is and a blink dips towards 0, whatever the eye's shape or the face's size.
 *
 * OPEN LEVEL: the `quantile` (0.7) of the eye's readings on the face track's scheduled LID frames (face-track.ts:
 * evenly spaced, every 5th frame) over the last `windowMs` (3 s), including the current one: blinks are a small
 * minority of those samples, so the level sits on the open eye. Readings the eye-state model asked for (it called the
 * eye closed) are read against the level but do not feed it: closed eyes are measured on every frame, open ones on
 * every 5th, and counting them would drag the level down in a long closure. A relative reading appears once
 * `minSamples` samples are in the window.
 *
 * Owned by a FaceTrack, which resets it with itself. Holds scalars only (openings and times).
 */
export interface LidLevelsOptions {
  /** the open level is taken over this much history (default 3000 ms) */
  windowMs?: number;
  /** ...at this quantile (default 0.7) */
  quantile?: number;
  /** relative readings start once this many samples are in the window (default 5) */
  minSamples?: number;
}

export type Eye = 'left' | 'right';

interface Sample {
  tsMs: number;
  opening: number;
}

export class LidLevels {
  private readonly windowMs: number;
  private readonly quantile: number;
  private readonly minSamples: number;
  private history: Record<Eye, Sample[]> = { left: [], right: [] };

  constructor(opts: LidLevelsOptions = {}) {
    this.windowMs = opts.windowMs ?? 3000;
    this.quantile = opts.quantile ?? 0.7;
    this.minSamples = opts.minSamples ?? 5;
    if (!(this.quantile >= 0 && this.quantile <= 1)) throw new RangeError('LidLevels: quantile must be within 0..1');
    if (!(this.windowMs > 0)) throw new RangeError('LidLevels: windowMs must be positive');
  }

  reset(): void {
    this.history = { left: [], right: [] };
  }

  /**
   * One eye's opening measured at `tsMs`, relative to the eye's open level (undefined while the level is not yet
   * known). `feedsLevel`: the reading comes from a scheduled lid frame and joins the level's samples.
   */
  read(eye: Eye, tsMs: number, opening: number, feedsLevel: boolean): number | undefined {
    const h = this.history[eye];
    if (feedsLevel) h.push({ tsMs, opening });
    while (h.length > 0 && tsMs - h[0].tsMs > this.windowMs) h.shift();
    if (h.length < this.minSamples) return undefined;
    const sorted = h.map((s) => s.opening).sort((a, b) => a - b);
    const level = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * this.quantile))];
    return level > 0 ? opening / level : undefined;
  }
}
