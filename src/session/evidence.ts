import { copyTemplate, wipeTemplate, type FaceTemplate } from '../vision/matcher.ts';
import { type Similarity } from './similarity.ts';
import type { SessionPolicy } from './policy.ts';

/**
 * Evidence the session accumulates over many frames: passive anti-spoof scores, the best frames' embeddings for the
 * match, and identity continuity. Everything that holds a template wipes it (`.fill(0)`) when it drops it and on
 * `clear()`; the session calls `clear()` on every exit path.
 */

/** Mean after dropping `trim` of the values at each end (trim 0.2 = the 20% lowest and 20% highest). */
export function trimmedMean(values: readonly number[], trim: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const k = Math.floor(sorted.length * trim);
  const kept = sorted.slice(k, sorted.length - k);
  return kept.reduce((s, v) => s + v, 0) / kept.length;
}

export interface AntispoofSummary {
  score: number;
  frames: number;
  enough: boolean;
  live: boolean;
}

/**
 * Passive anti-spoof over quality-passing frames that carry a score: a trimmed mean, never a single frame. `frames`
 * (and `minFrames`) count scored frames, each once.
 */
export class AntispoofAggregator {
  private readonly scores: number[] = [];
  constructor(private readonly cfg: SessionPolicy['antispoof']) {}

  add(score: number): void {
    if (Number.isFinite(score)) this.scores.push(score);
  }

  summary(): AntispoofSummary {
    const enough = this.scores.length >= this.cfg.minFrames;
    const score = trimmedMean(this.scores, this.cfg.trimFraction);
    return { score, frames: this.scores.length, enough, live: enough && score >= this.cfg.threshold };
  }
}

interface Scored {
  tsMs: number;
  score: number;
  template: FaceTemplate;
}

/** The top-K frames by quality score, with their templates. Evicted templates are wiped. */
export class BestFrames {
  private frames: Scored[] = [];
  constructor(private readonly k: number) {}

  get size(): number {
    return this.frames.length;
  }

  /** Takes ownership of `template`. */
  offer(tsMs: number, score: number, template: FaceTemplate): void {
    this.frames.push({ tsMs, score, template });
    this.frames.sort((a, b) => b.score - a.score);
    for (const dropped of this.frames.splice(this.k)) wipeTemplate(dropped.template);
  }

  /** Mean similarity of the kept frames to `reference`, or undefined when there are none. */
  similarityTo(reference: FaceTemplate, similarity: Similarity): number | undefined {
    if (this.frames.length === 0) return undefined;
    return this.frames.reduce((s, f) => s + similarity(f.template, reference), 0) / this.frames.length;
  }

  clear(): void {
    for (const f of this.frames) wipeTemplate(f.template);
    this.frames = [];
  }
}

/**
 * Same person throughout: every embedded frame is compared with an anchor (a copy of the first embedded frame that
 * passed the quality gate). Tracks the minimum similarity seen.
 */
export class ContinuityTracker {
  private anchor: FaceTemplate | undefined;
  private min = Infinity;

  constructor(private readonly similarity: Similarity) {}

  /** Returns the similarity to the anchor (undefined for the frame that becomes the anchor). */
  check(template: FaceTemplate): number | undefined {
    if (this.anchor === undefined) {
      this.anchor = copyTemplate(template);
      return undefined;
    }
    const s = this.similarity(this.anchor, template);
    this.min = Math.min(this.min, s);
    return s;
  }

  get anchored(): boolean {
    return this.anchor !== undefined;
  }

  get minSimilarity(): number | undefined {
    return Number.isFinite(this.min) ? this.min : undefined;
  }

  clear(): void {
    if (this.anchor) wipeTemplate(this.anchor);
    this.anchor = undefined;
  }
}
