import type { SessionPolicy } from './policy.ts';

/**
 * Evidence the session accumulates over many frames: passive anti-spoof scores, the best frames' embeddings for the
 * match, and identity continuity. Everything that holds an embedding zeroes it (`.fill(0)`) when it drops it and on
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

/** Passive anti-spoof over quality-passing frames: a trimmed mean, never a single frame. */
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

export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`embedding length ${a.length} != ${b.length}`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

interface Scored {
  tsMs: number;
  score: number;
  embedding: Float32Array;
}

/** The top-K frames by quality score, with their embeddings. Evicted embeddings are zeroed. */
export class BestFrames {
  private frames: Scored[] = [];
  constructor(private readonly k: number) {}

  get size(): number {
    return this.frames.length;
  }

  /** Takes ownership of `embedding`. */
  offer(tsMs: number, score: number, embedding: Float32Array): void {
    this.frames.push({ tsMs, score, embedding });
    this.frames.sort((a, b) => b.score - a.score);
    for (const dropped of this.frames.splice(this.k)) dropped.embedding.fill(0);
  }

  /** L2-normalised mean of the kept embeddings (a fresh buffer the caller must zero), or undefined when empty. */
  probe(): Float32Array | undefined {
    if (this.frames.length === 0) return undefined;
    const out = new Float32Array(this.frames[0].embedding.length);
    for (const f of this.frames) {
      const norm = Math.hypot(...f.embedding) || 1;
      for (let i = 0; i < out.length; i++) out[i] += f.embedding[i] / norm;
    }
    return out;
  }

  clear(): void {
    for (const f of this.frames) f.embedding.fill(0);
    this.frames = [];
  }
}

/**
 * Same person throughout: every embedded frame is compared with an anchor (a copy of the first embedded frame that
 * passed the quality gate). Tracks the minimum similarity seen.
 */
export class ContinuityTracker {
  private anchor: Float32Array | undefined;
  private min = 1;
  private checked = 0;

  /** Returns the similarity to the anchor (1 for the frame that becomes the anchor). */
  check(embedding: Float32Array): number {
    if (this.anchor === undefined) {
      this.anchor = Float32Array.from(embedding);
      this.checked++;
      return 1;
    }
    const s = cosine(this.anchor, embedding);
    this.min = Math.min(this.min, s);
    this.checked++;
    return s;
  }

  get minSimilarity(): number | undefined {
    return this.checked > 1 ? this.min : undefined;
  }

  clear(): void {
    this.anchor?.fill(0);
    this.anchor = undefined;
  }
}
