/**
 * Distributions for the prompted turn rule (docs/turns.md), from `regterm eval events --cache DIR` caches:
 *   npx tsx research/turn-rule.ts CACHE_DIR DIR...        (DIR: the annotated clip folders, as for eval events)
 * 1. Per prompt, the features a prompted rule can read: for each high/medium annotated turn (prompt placed as in
 *    prompted mode) and for each incidental prompt (random times, no turn annotated): the baseline the challenge takes
 *    (promptBaselineYaw), the peak yaw from it in the asked direction within the deadline, when it is reached, and
 *    the longest stretch at or past 6/8/10 degrees; and the same peak measured from the clip's frontal instead.
 * 2. The rule grid: prompted recall per direction and the incidental pass rate for rule variants, through the
 *    session's own challenge (runPrompt); and a leave-one-clip-out check of choosing from that grid (the variant with
 *    the most answered turns at incidental <= 5 % on the other clips, scored on the held-out clip).
 */
import { INCIDENTAL_SEED } from '../src/cli/eval-events.ts';
import { cachedClips, type CachedClip } from './cached-clips.ts';
import { clipFrontalYaw } from '../src/session/detectors/events-only.ts';
import { promptBaselineYaw } from '../src/session/detectors/turn.ts';
import { resolvePolicy, type PolicyInput, type SessionPolicy } from '../src/session/policy.ts';
import { incidentalPrompts, promptsForEvents, runPrompt, type Prompt } from '../src/session/prompted.ts';
import { subjectYawDeg } from '../src/session/signals.ts';

const [cacheDir, ...dirs] = process.argv.slice(2);
interface Clip extends CachedClip { frontal: number; ms: number }
const base = resolvePolicy();
const clips: Clip[] = cachedClips(cacheDir, dirs).map((c) => ({
  ...c, frontal: clipFrontalYaw(c.signals, base), ms: c.signals.at(-1)!.tsMs - c.signals[0].tsMs,
}));
const isTurn = (p: Prompt): boolean => p.type !== 'blink';
const positives = (c: Clip): Prompt[] => promptsForEvents(c.truth, base).prompts.filter(isTurn);
const negatives = (c: Clip, p: SessionPolicy): Prompt[] => (['turn_left', 'turn_right'] as const)
  .flatMap((t) => incidentalPrompts(c.truth, t, c.ms, p, `${INCIDENTAL_SEED}:${c.name}`));

/** Features of one prompt (FEATURES in the header). */
function features(c: Clip, p: Prompt, policy: SessionPolicy) {
  const at = c.t0Ms + p.promptMs;
  const readings = c.signals.filter((f) => f.tsMs < at && f.face).map((f) => ({ tsMs: f.tsMs, yawDeg: f.face!.yawDeg }));
  const baseline = promptBaselineYaw(readings, at, policy.turn, c.frontal);
  const sign = p.type === 'turn_left' ? 1 : -1;
  let peak = -Infinity;
  let peakFrontal = -Infinity;
  let peakMs = 0;
  let startMs: number | undefined;
  const hold: Record<number, number> = { 6: 0, 8: 0, 10: 0 };
  const since: Record<number, number | undefined> = {};
  for (const f of c.signals) {
    const t = f.tsMs - at;
    if (t < policy.challenges.minReactionMs || t > policy.challenges.timeoutMs) continue;
    const d = f.face ? sign * subjectYawDeg(f.face.yawDeg - baseline, policy.mirrored) : -Infinity;
    if (d > peak) [peak, peakMs] = [d, t];
    if (d >= policy.turn.prompted.exitDeg) startMs ??= t;
    if (f.face) peakFrontal = Math.max(peakFrontal, sign * subjectYawDeg(f.face.yawDeg - c.frontal, policy.mirrored));
    for (const k of [6, 8, 10]) {
      if (d >= k) hold[k] = Math.max(hold[k], t - (since[k] ??= t));
      else since[k] = undefined;
    }
  }
  return { clip: c.name, type: p.type, promptS: p.promptMs / 1000, baseline: baseline - c.frontal, peak, peakFrontal, peakMs, startMs, hold };
}

const f1 = (x: number): string => x.toFixed(1);
process.stdout.write('## Annotated turns (prompted)\n\n| clip | turn | prompt s | baseline − frontal | peak from baseline | peak from frontal | starts after ms | peak after ms | ≥ 6° ms | ≥ 8° ms | ≥ 10° ms |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n');
const pos = clips.flatMap((c) => positives(c).map((p) => features(c, p, base)));
for (const r of pos) {
  process.stdout.write(`| ${r.clip} | ${r.type} | ${r.promptS.toFixed(2)} | ${f1(r.baseline)} | ${f1(r.peak)} | ${f1(r.peakFrontal)} | ${r.startMs ?? '–'} | ${r.peakMs} | ${r.hold[6]} | ${r.hold[8]} | ${r.hold[10]} |\n`);
}
const neg = clips.flatMap((c) => negatives(c, base).map((p) => features(c, p, base)));
const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
process.stdout.write(`\n## Incidental prompts (${neg.length}, no turn annotated in the window)\n\n| feature | p50 | p90 | p95 | p99 | max |\n| --- | --- | --- | --- | --- | --- |\n`);
for (const [label, xs] of [
  ['peak from baseline', neg.map((r) => r.peak)], ['peak from frontal', neg.map((r) => r.peakFrontal)],
  ['starts after ms (those that start)', neg.flatMap((r) => (r.startMs === undefined ? [] : [r.startMs]))],
  ['≥ 6° ms', neg.map((r) => r.hold[6])], ['≥ 8° ms', neg.map((r) => r.hold[8])], ['≥ 10° ms', neg.map((r) => r.hold[10])],
] as const) {
  process.stdout.write(`| ${label} | ${[0.5, 0.9, 0.95, 0.99].map((p) => f1(q([...xs], p))).join(' | ')} | ${f1(Math.max(...xs))} |\n`);
}
process.stdout.write('\nper clip: incidental prompts, and how many peak ≥ 8° / ≥ 10° from the baseline\n\n');
for (const c of clips) {
  const rows = neg.filter((r) => r.clip === c.name);
  if (rows.length) process.stdout.write(`- ${c.name}: ${rows.length}, ${rows.filter((r) => r.peak >= 8).length} / ${rows.filter((r) => r.peak >= 10).length}\n`);
}

/** Prompted recall per direction and incidental pass rate of a rule variant, over `use` clips. */
function score(variant: PolicyInput, use: readonly Clip[]) {
  const policy = resolvePolicy(variant);
  const out = { turn_left: [0, 0], turn_right: [0, 0], incidental: [0, 0] };
  for (const c of use) {
    for (const p of positives(c)) {
      const cell = out[p.type as 'turn_left' | 'turn_right'];
      cell[1]++;
      if (runPrompt(c.signals, c.t0Ms, p, policy, c.frontal).passed) cell[0]++;
    }
    for (const p of negatives(c, policy)) {
      out.incidental[1]++;
      if (runPrompt(c.signals, c.t0Ms, p, policy, c.frontal).passed) out.incidental[0]++;
    }
  }
  return out;
}
const cell = ([a, n]: number[]): string => `${a}/${n}`;
const rate = ([a, n]: number[]): string => `${((100 * a) / Math.max(1, n)).toFixed(1)} %`;
process.stdout.write('\n## Rule grid (session challenge, runPrompt)\n\n| enterDeg | exitDeg | holdMs | baselineMs | startWithinMs | turn_left | turn_right | incidental passes | rate |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n');
const variants: PolicyInput[] = [];
for (const enterDeg of [8, 9, 10, 12]) {
  for (const holdMs of [150, 200, 300, 400]) {
    for (const baselineMs of [0, 500]) {
      for (const startWithinMs of [1500, 2000, 2500, 7000]) {
        const exitDeg = Math.min(5, enterDeg - 1);
        const v = { turn: { prompted: { enterDeg, exitDeg, holdMs, baselineMs, startWithinMs } } };
        variants.push(v);
        const s = score(v, clips);
        process.stdout.write(`| ${enterDeg} | ${exitDeg} | ${holdMs} | ${baselineMs} | ${startWithinMs} | ${cell(s.turn_left)} | ${cell(s.turn_right)} | ${cell(s.incidental)} | ${rate(s.incidental)} |\n`);
      }
    }
  }
}

// Leave one clip out: choose the variant on the other clips (most answered turns with incidental <= 5 %, then the
// fewest incidental passes), score it on the held-out clip.
const held = { answered: 0, prompts: 0, incidental: 0, incidentalPrompts: 0 };
const chosen = new Map<string, number>();
for (const out of clips) {
  const rest = clips.filter((c) => c !== out);
  let best: { v: PolicyInput; answered: number; rate: number } | undefined;
  for (const v of variants) {
    const s = score(v, rest);
    const answered = s.turn_left[0] + s.turn_right[0];
    const r = s.incidental[0] / Math.max(1, s.incidental[1]);
    if (r > 0.05) continue;
    if (!best || answered > best.answered || (answered === best.answered && r < best.rate)) best = { v, answered, rate: r };
  }
  if (!best) continue;
  const key = JSON.stringify(best.v.turn?.prompted);
  chosen.set(key, (chosen.get(key) ?? 0) + 1);
  const s = score(best.v, [out]);
  held.answered += s.turn_left[0] + s.turn_right[0];
  held.prompts += s.turn_left[1] + s.turn_right[1];
  held.incidental += s.incidental[0];
  held.incidentalPrompts += s.incidental[1];
}
process.stdout.write(`\n## Leave one clip out\n\nheld-out turns answered ${held.answered}/${held.prompts}, incidental passes ${held.incidental}/${held.incidentalPrompts} (${rate([held.incidental, held.incidentalPrompts])})\n\nrules chosen (times):\n`);
for (const [k, n] of chosen) process.stdout.write(`- ${k}: ${n}\n`);
