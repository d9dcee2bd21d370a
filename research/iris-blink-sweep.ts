/**
 * Study (issue #5): the blink detector on the per-frame eye signals of research/iris-blink-study.ts, for the
 * candidate ways of using the iris lid opening, scored against the clips' hand-made blinks per half (A/B as in
 * test/hil/session/score-events.ts; d20 excluded, its eyes are not annotated).
 *   node --import tsx research/iris-blink-sweep.ts DIR base          fr_eye alone (the shipped rules before the lids)
 *   node --import tsx research/iris-blink-sweep.ts DIR lid           the relative lid opening AS the eye signal
 *   node --import tsx research/iris-blink-sweep.ts DIR veto [EVERY]  fr_eye + the lid veto (what ships)
 * Relative openings come from the shipped FaceTrack (its lid schedule and open levels; window, quantile as swept; EVERY
 * = its `lidEvery`); `lid` mode measures every frame. The study has no face boxes, so the track's box-jump reset is
 * not exercised here, and every frame's landmark fit counts as good. Prints the 15
 * rules with the fewest half-B errors (misses + false blinks), with half A as the held-out check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventsCsv } from '../src/camera/events-csv.ts';
import { BlinkDetector } from '../src/session/detectors/blink.ts';
import { type TruthEvent, scoreEvents } from '../src/session/detectors/event-score.ts';
import type { ClipEvent } from '../src/session/detectors/events-only.ts';
import { type PolicyInput, resolvePolicy } from '../src/session/policy.ts';
import type { FaceSignals } from '../src/session/signals.ts';
import { faceDataRoot } from '../test/face-data.ts';
import { FaceTrack } from '../src/vision/face-track.ts';
import { clipFiles } from '../test/hil/vision/pose-clips.ts';

const BOX = { x1: 0, y1: 0, x2: 100, y2: 100 };

type Series = Array<number | null>;
interface Clip { name: string; half: 'A' | 'B'; ts: number[]; frL: Series; frR: Series; lidL: Series; lidR: Series; truth: TruthEvent[]; minutes: number }
interface Rule { windowMs: number; quantile: number; every: number; blink: NonNullable<PolicyInput['blink']> }
type Eyes = Pick<FaceSignals, 'leftEyeOpen' | 'rightEyeOpen' | 'leftLidOpen' | 'rightLidOpen'>;

/** The study's per-clip signals (DIR/<set>--<clip>.json, iris-blink-study.ts) with the clip's hand-made events. */
function loadClips(dir: string): Clip[] {
  return clipFiles().map(({ set, name, half }) => {
    const d = JSON.parse(readFileSync(join(dir, `${set}--${name}.json`), 'utf8'));
    const truth = parseEventsCsv(readFileSync(join(faceDataRoot(), set, `${name}.events.csv`), 'utf8'))
      .map((e) => ({ startS: e.startMs / 1000, endS: e.endMs / 1000, event: e.event, confidence: e.extra?.confidence }));
    return { name, half, ts: d.tsMs, frL: d.frL, frR: d.frR, lidL: d.lidL, lidR: d.lidR, truth, minutes: (d.tsMs.at(-1) - d.tsMs[0]) / 60000 };
  });
}

/** Per frame the detector's input: fr_eye, plus the lid readings a FaceTrack with `rule` would have produced. */
function eyeSignals(c: Clip, rule: Rule, measureBelow: number): Array<Eyes | undefined> {
  const track = new FaceTrack({ lidEvery: rule.every, lidMeasureBelow: measureBelow, lidLevels: { windowMs: rule.windowMs, quantile: rule.quantile } });
  const still = { yaw: 0, pitch: 0, roll: 0 };
  return c.ts.map((ts, i) => {
    const [frL, frR, lidL, lidR] = [c.frL[i], c.frR[i], c.lidL[i], c.lidR[i]];
    if (frL === null || frR === null || lidL === null || lidR === null) {
      track.lost();
      return undefined;
    }
    const plan = track.next(BOX, ts, true);
    if (plan.pose === 'model') track.fromModel(still, still);
    const eyes: Eyes = { leftEyeOpen: frL, rightEyeOpen: frR };
    for (const eye of track.lidEyes(plan, { left: frL, right: frR })) {
      const rel = track.lidReading(eye, ts, eye === 'left' ? lidL : lidR, plan);
      if (rel !== undefined) eyes[eye === 'left' ? 'leftLidOpen' : 'rightLidOpen'] = rel;
    }
    return eyes;
  });
}

function score(clips: Clip[], rule: Rule, mode: string): { line: string; perClip: string; errorsB: number } {
  const policy = resolvePolicy({ blink: rule.blink });
  const tot: Record<string, { tp: number; fn: number; fp: number; min: number }> = {};
  const per: string[] = [];
  for (const c of clips.filter((x) => x.name !== 'd20')) {
    const signals = eyeSignals(c, rule, mode === 'lid' ? 2 : policy.blink.closedBelow);
    const det = new BlinkDetector(policy.blink);
    const events: ClipEvent[] = [];
    for (const [i, e] of signals.entries()) {
      let face = e;
      if (e && mode === 'base') face = { leftEyeOpen: e.leftEyeOpen, rightEyeOpen: e.rightEyeOpen };
      if (e && mode === 'lid') face = { leftEyeOpen: e.leftLidOpen ?? 1, rightEyeOpen: e.rightLidOpen ?? 1 };
      const b = det.push(c.ts[i], face as FaceSignals | undefined);
      if (b) events.push({ type: 'blink', startS: (b.startMs - c.ts[0]) / 1000, endS: (b.endMs - c.ts[0]) / 1000 });
    }
    const s = scoreEvents(events, c.truth).find((x) => x.type === 'blink');
    if (!s) continue;
    per.push(`${c.name}:${s.truePositives}/${s.positives}+${s.falsePositives}`);
    for (const k of [c.half, 'all']) {
      const t = (tot[k] ??= { tp: 0, fn: 0, fp: 0, min: 0 });
      t.tp += s.truePositives;
      t.fn += s.falseNegatives;
      t.fp += s.falsePositives;
      t.min += c.minutes;
    }
  }
  const fmt = (k: string): string => {
    const t = tot[k];
    return `${k} ${t.tp}/${t.tp + t.fn} (${(t.tp / (t.tp + t.fn)).toFixed(2)}) fp ${t.fp} (${(t.fp / t.min).toFixed(2)}/min)`;
  };
  return { line: ['A', 'B', 'all'].map(fmt).join(' | '), perClip: per.join(' '), errorsB: tot.B.fn + tot.B.fp };
}

const [dir = '/tmp/iris-study', mode = 'veto', everyArg = '5'] = process.argv.slice(2);
const clips = loadClips(dir);
const every = Number(everyArg);
const rules: Rule[] = [];
if (mode === 'base') rules.push({ windowMs: 3000, quantile: 0.7, every, blink: {} });
for (const windowMs of mode === 'base' ? [] : [1500, 3000, 6000]) {
  for (const quantile of [0.5, 0.7, 0.9]) {
    if (mode === 'veto') {
      for (const lidOpenAbove of [0.7, 0.75, 0.8, 0.85, 0.9]) rules.push({ windowMs, quantile, every, blink: { lidOpenAbove } });
    } else {
      for (const closedBelow of [0.5, 0.6, 0.7]) {
        for (const openAbove of [0.75, 0.8, 0.9]) rules.push({ windowMs, quantile, every, blink: { closedBelow, openAbove, lidOpenAbove: 1e9 } });
      }
    }
  }
}
const results = rules.map((rule) => ({ rule, ...score(clips, rule, mode) })).sort((a, b) => a.errorsB - b.errorsB);
for (const r of results.slice(0, Number(process.env.TOP ?? 15))) {
  process.stdout.write(`${JSON.stringify({ windowMs: r.rule.windowMs, quantile: r.rule.quantile, every: r.rule.every, ...r.rule.blink })}\n   ${r.line}\n   ${r.perClip}\n`);
}
