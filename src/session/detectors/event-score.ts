import type { ClipEvent, ClipEventType } from './events-only.ts';

/** A ground-truth interval as in the face data sets' <set>/<clip>.events.csv (seconds, [start, end)). */
export interface TruthEvent {
  startS: number;
  endS: number;
  event: string;
  confidence?: string;
}

export interface EventScore {
  type: ClipEventType;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** ground-truth events of this type with high/medium confidence */
  positives: number;
  precision: number;
  recall: number;
  /** detected start − annotated start (s) of each matched detection: how late the detector sees an event begin */
  delaysS: number[];
}

/**
 * Score detections against hand-made ground truth, following the data set's rules (events_README.md):
 * - clean positives are high+medium confidence events; a low-confidence event is neither required nor an error,
 *   so a detection overlapping only a low event is ignored;
 * - a detection matches a ground-truth event of the same type when the intervals overlap, widened by `toleranceS`
 *   on each side (frame-level boundary disagreement); each ground-truth event matches at most one detection.
 */
export function scoreEvents(detected: readonly ClipEvent[], truth: readonly TruthEvent[], toleranceS = 0.1): EventScore[] {
  const types: ClipEventType[] = ['blink', 'turn_left', 'turn_right'];
  return types.map((type) => {
    const gt = truth.filter((t) => t.event === type);
    const det = detected.filter((d) => d.type === type);
    const overlaps = (d: ClipEvent, t: TruthEvent): boolean =>
      d.startS < t.endS + toleranceS && t.startS - toleranceS < d.endS;
    const used = new Set<TruthEvent>();
    let tp = 0;
    let fp = 0;
    const delaysS: number[] = [];
    for (const d of det) {
      const hit = gt.find((t) => !used.has(t) && t.confidence !== 'low' && overlaps(d, t));
      if (hit) {
        used.add(hit);
        tp++;
        delaysS.push(Math.round((d.startS - hit.startS) * 1000) / 1000);
      } else if (!gt.some((t) => t.confidence === 'low' && overlaps(d, t))) fp++;
    }
    const positives = gt.filter((t) => t.confidence !== 'low').length;
    const fn = positives - tp;
    return {
      type,
      truePositives: tp,
      falsePositives: fp,
      falseNegatives: fn,
      positives,
      precision: tp + fp > 0 ? tp / (tp + fp) : 1,
      recall: positives > 0 ? tp / positives : 1,
      delaysS,
    };
  });
}
