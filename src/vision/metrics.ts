/**
 * Verification and presentation-attack metrics over scores (higher = more "same person" / more "live").
 * Pure functions; fractions are 0–1. A comparison counts as accept when score >= threshold.
 */

/** Median (mean of the two middle values for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The q-quantile (0–1) by rank: the value at index ⌊q·n⌋ of the sorted list (the last for q = 1); 0 for none. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export interface RateAt {
  threshold: number;
  /** fraction of negatives accepted */
  far: number;
  /** fraction of positives accepted */
  tar: number;
}

/** Candidate thresholds: every distinct score, plus one above the maximum (accept nothing). */
function thresholds(pos: readonly number[], neg: readonly number[]): number[] {
  const all = [...new Set([...pos, ...neg])].sort((a, b) => a - b);
  all.push(all.length ? all[all.length - 1] + 1e-6 : 0);
  return all;
}

function rate(scores: readonly number[], t: number): number {
  if (scores.length === 0) return 0;
  let n = 0;
  for (const s of scores) if (s >= t) n++;
  return n / scores.length;
}

/** The lowest threshold whose FAR is at most `far`, and the TAR there. */
export function tarAtFar(pos: readonly number[], neg: readonly number[], far: number): RateAt {
  for (const t of thresholds(pos, neg)) {
    const f = rate(neg, t);
    if (f <= far) return { threshold: t, far: f, tar: rate(pos, t) };
  }
  throw new RangeError('no threshold reached the FAR');
}

/** Equal error rate: where FAR (negatives accepted) meets FRR (positives rejected); mean of the two at the crossing. */
export function equalErrorRate(pos: readonly number[], neg: readonly number[]): { eer: number; threshold: number } {
  let best = { gap: Infinity, eer: 1, threshold: 0 };
  for (const t of thresholds(pos, neg)) {
    const far = rate(neg, t);
    const frr = 1 - rate(pos, t);
    const gap = Math.abs(far - frr);
    if (gap < best.gap) best = { gap, eer: (far + frr) / 2, threshold: t };
  }
  return { eer: best.eer, threshold: best.threshold };
}

/** Best achievable accuracy over thresholds (the LFW convention) and the threshold giving it. */
export function bestAccuracy(pos: readonly number[], neg: readonly number[]): { accuracy: number; threshold: number } {
  let best = { accuracy: 0, threshold: 0 };
  const total = pos.length + neg.length;
  for (const t of thresholds(pos, neg)) {
    const correct = rate(pos, t) * pos.length + (1 - rate(neg, t)) * neg.length;
    if (correct / total > best.accuracy) best = { accuracy: correct / total, threshold: t };
  }
  return best;
}

export function accuracyAt(pos: readonly number[], neg: readonly number[], t: number): number {
  return (rate(pos, t) * pos.length + (1 - rate(neg, t)) * neg.length) / (pos.length + neg.length);
}

/**
 * ISO/IEC 30107-3 rates at threshold `t` on a liveness score: APCER per attack type = attacks accepted as live,
 * BPCER = bona fide presentations rejected.
 */
export function pad(
  real: readonly number[],
  attacks: Record<string, readonly number[]>,
  t: number,
): { apcer: Record<string, number>; bpcer: number } {
  const apcer: Record<string, number> = {};
  for (const [type, scores] of Object.entries(attacks)) apcer[type] = rate(scores, t);
  return { apcer, bpcer: 1 - rate(real, t) };
}
