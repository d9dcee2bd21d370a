/**
 * Fusion calibration from labelled pair scores (regterm eval verify --fit-fusion). Per embedder, cosines are
 * z-normalised with the mean/std of their impostor scores; the weights are chosen on a grid (step 0.05, weights sum to
 * 1) for the lowest EER; the threshold is the one for FAR 1e-3. Honesty: the reported rates come from 2-fold
 * cross-validation over pairs (stratified: every other pair of each class; fit on one half, score the other, and vice versa), never from the pairs a fit saw.
 */
import type { FusionConfig } from './matcher.ts';
import { bestAccuracy, equalErrorRate, tarAtFar } from './metrics.ts';

export interface ScoredPair {
  same: boolean;
  /** raw cosine per embedder; absent when a face was not found (the pair is then a reject, score -Infinity) */
  scores?: Record<string, number>;
}

export interface FusionFit {
  config: FusionConfig;
  crossValidated: { accuracy: number; eer: number; tarAtFar: { '1e-2': number; '1e-3': number } };
}

const REJECT = -1e9;

export function fitFusion(pairs: readonly ScoredPair[], embedders: readonly string[]): FusionFit {
  // stratified folds: alternate within each class, so both folds hold genuine and impostor pairs
  const seen = { same: 0, diff: 0 };
  const fold = pairs.map((p) => (p.same ? seen.same++ : seen.diff++) % 2);
  const held: { same: boolean; score: number }[] = [];
  for (const k of [0, 1]) {
    const train = pairs.filter((_, i) => fold[i] === k);
    const test = pairs.filter((_, i) => fold[i] !== k);
    const cfg = fitOn(train, embedders);
    for (const p of test) held.push({ same: p.same, score: fusedScore(p, cfg) });
  }
  const pos = held.filter((p) => p.same).map((p) => p.score);
  const neg = held.filter((p) => !p.same).map((p) => p.score);
  return {
    config: fitOn(pairs, embedders),
    crossValidated: {
      accuracy: bestAccuracy(pos, neg).accuracy,
      eer: equalErrorRate(pos, neg).eer,
      tarAtFar: { '1e-2': tarAtFar(pos, neg, 1e-2).tar, '1e-3': tarAtFar(pos, neg, 1e-3).tar },
    },
  };
}

function fitOn(pairs: readonly ScoredPair[], embedders: readonly string[]): FusionConfig {
  const norm: Record<string, { mean: number; std: number }> = {};
  for (const e of embedders) {
    const imp = pairs.filter((p) => !p.same && p.scores).map((p) => p.scores?.[e] ?? 0);
    const mean = imp.reduce((a, b) => a + b, 0) / Math.max(1, imp.length);
    const sd = Math.sqrt(imp.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, imp.length - 1));
    norm[e] = { mean, std: sd > 0 ? sd : 1 };
  }
  // lowest EER; ties (common on small sets) go to the higher TAR at FAR 1e-3
  let best = { eer: Infinity, tar: -1, weights: {} as Record<string, number> };
  for (const weights of weightGrid(embedders)) {
    const cfg = { weights, norm, threshold: 0 };
    const pos = pairs.filter((p) => p.same).map((p) => fusedScore(p, cfg));
    const neg = pairs.filter((p) => !p.same).map((p) => fusedScore(p, cfg));
    const { eer } = equalErrorRate(pos, neg);
    const tar = tarAtFar(pos, neg, 1e-3).tar;
    if (eer < best.eer || (eer === best.eer && tar > best.tar)) best = { eer, tar, weights };
  }
  const cfg = { weights: best.weights, norm, threshold: 0 };
  const pos = pairs.filter((p) => p.same).map((p) => fusedScore(p, cfg));
  const neg = pairs.filter((p) => !p.same).map((p) => fusedScore(p, cfg));
  return { ...cfg, threshold: tarAtFar(pos, neg, 1e-3).threshold };
}

/** Weighted mean of z-normalised cosines (the matcher's formula), REJECT when the pair had no face. */
export function fusedScore(p: ScoredPair, cfg: Pick<FusionConfig, 'weights' | 'norm'>): number {
  if (!p.scores) return REJECT;
  let s = 0;
  let w = 0;
  for (const [e, we] of Object.entries(cfg.weights)) {
    if (we <= 0) continue;
    const n = cfg.norm?.[e];
    const c = p.scores[e];
    s += we * (n ? (c - n.mean) / n.std : c);
    w += we;
  }
  return w > 0 ? s / w : REJECT;
}

/** Weight vectors on a 0.05 grid summing to 1 (one or two embedders; equal weights beyond two). */
function weightGrid(embedders: readonly string[]): Record<string, number>[] {
  if (embedders.length === 1) return [{ [embedders[0]]: 1 }];
  if (embedders.length > 2) return [Object.fromEntries(embedders.map((e) => [e, 1 / embedders.length]))];
  const out: Record<string, number>[] = [];
  for (let i = 0; i <= 20; i++) out.push({ [embedders[0]]: 1 - i / 20, [embedders[1]]: i / 20 });
  return out;
}
