/**
 * Identity vectors as the session sees them: one vector per embedder, keyed by model name — the vision engine's
 * `FaceTemplate` shape (src/vision/matcher.ts). How two templates compare is injected (`Similarity`): the shell
 * passes the engine's calibrated score fusion; `meanCosine` is the default for tests and single-embedder setups.
 * Every template is biometric data: whoever owns one wipes it (`wipeTemplate`) when done.
 */
export type Template = Readonly<Record<string, Float32Array>>;

/** Higher = more likely the same person; on the scale of `policy.match.threshold`. */
export type Similarity = (a: Template, b: Template) => number;

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

/** Mean cosine over the embedders both templates have. */
export const meanCosine: Similarity = (a, b) => {
  const shared = Object.keys(a).filter((k) => b[k] !== undefined);
  if (shared.length === 0) throw new RangeError('templates share no embedder');
  return shared.reduce((s, k) => s + cosine(a[k], b[k]), 0) / shared.length;
};

export function wipeTemplate(t: Template): void {
  for (const v of Object.values(t)) v.fill(0);
}

export function copyTemplate(t: Template): Template {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Float32Array.from(v)]));
}
