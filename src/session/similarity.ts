import { cosine, type FaceTemplate } from '../vision/matcher.ts';

/**
 * How the session compares two identity templates (`FaceTemplate`, src/vision/matcher.ts), injected: the shell passes
 * the engine's calibrated score fusion; `meanCosine` is the default for tests and single-embedder setups.
 * Higher = more likely the same person; on the scale of `policy.match.threshold`.
 */
export type Similarity = (a: FaceTemplate, b: FaceTemplate) => number;

/** Mean cosine over the embedders both templates have. */
export const meanCosine: Similarity = (a, b) => {
  const shared = Object.keys(a).filter((k) => b[k] !== undefined);
  if (shared.length === 0) throw new RangeError('templates share no embedder');
  return shared.reduce((s, k) => s + cosine(a[k], b[k]), 0) / shared.length;
};
