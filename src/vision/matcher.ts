/**
 * Score fusion across embedders. A template holds one unit vector per embedder (keyed by manifest model name); the
 * fused similarity is the weighted mean of the per-embedder cosines over the embedders both templates have.
 * Weights and the decision threshold come from manifest `thresholds.match` (calibrated, see `how` there).
 */
import { cosine } from './embedder.ts';

export type FaceTemplate = Record<string, Float32Array>;

export interface FusionConfig {
  /** weight per embedder name; an embedder missing here does not take part in matching */
  weights: Record<string, number>;
  /** fused similarity at or above this is "same person" */
  threshold: number;
}

export interface MatchScore {
  similarity: number;
  perEmbedder: Record<string, number>;
}

export function fuse(a: FaceTemplate, b: FaceTemplate, weights: Record<string, number>): MatchScore {
  const perEmbedder: Record<string, number> = {};
  let sum = 0;
  let wsum = 0;
  for (const [name, w] of Object.entries(weights)) {
    const va = a[name];
    const vb = b[name];
    if (!va || !vb || w <= 0) continue;
    const c = cosine(va, vb);
    perEmbedder[name] = c;
    sum += w * c;
    wsum += w;
  }
  if (wsum === 0) throw new RangeError('templates share no weighted embedder');
  return { similarity: sum / wsum, perEmbedder };
}

/** Zero a template's vectors in place (end of session). */
export function wipeTemplate(t: FaceTemplate): void {
  for (const v of Object.values(t)) v.fill(0);
}
