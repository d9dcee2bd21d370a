/**
 * Score fusion across embedders. A template holds one unit vector per embedder (keyed by manifest model name). Each
 * embedder's cosine is optionally z-normalised with the mean/std of its impostor (different-person) cosines, so
 * scores on different scales can be added; the fused similarity is the weighted mean over the embedders both
 * templates have. Weights, normalisation and the decision threshold come from manifest `thresholds.match`
 * (calibrated; `how` there says on what data and by which command).
 */
import type { Manifest } from './manifest.ts';

/**
 * A face's identity: one vector per embedder, keyed by manifest model name. Every template is biometric data: whoever
 * owns one wipes it (`wipeTemplate`) when done.
 */
export type FaceTemplate = Readonly<Record<string, Float32Array>>;

/** Cosine similarity; 0 when either vector is all zeros. */
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

export interface FusionConfig {
  /** weight per embedder name; an embedder missing here does not take part in matching */
  weights: Record<string, number>;
  /** per-embedder impostor-score statistics; absent = raw cosines are averaged */
  norm?: Record<string, { mean: number; std: number }>;
  /** fused similarity at or above this is "same person" */
  threshold: number;
}

export interface MatchScore {
  similarity: number;
  /** raw cosine per embedder */
  perEmbedder: Record<string, number>;
}

/** The raw mean-cosine threshold of fr_feature alone, for a manifest without a calibrated `thresholds.match`. */
const UNCALIBRATED_THRESHOLD = 0.3;

/** Fusion weights, score normalisation and threshold from manifest thresholds.match (fr_feature alone when absent). */
export function fusionFromManifest(manifest: Manifest): FusionConfig {
  const m = manifest.thresholds.match;
  const weights = (m?.weights as Record<string, number> | undefined) ?? { feature: 1 };
  const norm = m?.norm as FusionConfig['norm'];
  return { weights, norm, threshold: m?.value ?? UNCALIBRATED_THRESHOLD };
}

export function fuse(a: FaceTemplate, b: FaceTemplate, cfg: Pick<FusionConfig, 'weights' | 'norm'>): MatchScore {
  const perEmbedder: Record<string, number> = {};
  let sum = 0;
  let wsum = 0;
  for (const [name, w] of Object.entries(cfg.weights)) {
    const va = a[name];
    const vb = b[name];
    if (!va || !vb || w <= 0) continue;
    const c = cosine(va, vb);
    perEmbedder[name] = c;
    const n = cfg.norm?.[name];
    sum += w * (n ? (c - n.mean) / n.std : c);
    wsum += w;
  }
  if (wsum === 0) throw new RangeError('templates share no weighted embedder');
  return { similarity: sum / wsum, perEmbedder };
}

/** Zero a template's vectors in place (end of session). */
export function wipeTemplate(t: FaceTemplate): void {
  for (const v of Object.values(t)) v.fill(0);
}

export function copyTemplate(t: FaceTemplate): FaceTemplate {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Float32Array.from(v)]));
}
