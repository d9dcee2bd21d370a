/**
 * Distributions for the blink detector's lid veto (docs/blinks.md), from `regterm eval events --cache DIR` caches:
 *   npx tsx research/blink-rule.ts CACHE_DIR DIR...        (DIR: the annotated clip folders, as for eval events)
 * 1. Every closure the blink detector accepts with the veto OFF, labelled by the annotations (true: overlaps a
 *    high/medium blink; excused: overlaps only a low annotation; false: neither), with the lid levels (iris model,
 *    relative to the eye's own open level) the veto reads: per eye, the lowest lid reading on the frames where the
 *    eye-state model calls that eye closed ('–': no lid measured on those frames, so the veto cannot act on that eye).
 *    The shipped veto drops a closure when BOTH eyes' lowest readings are at or above lidOpenAbove ('open' =
 *    the larger of the two); the alternative rules read the smaller one.
 * 2. Clip-scan and prompted blink scores of veto variants through the session's own code (evalClip), with d14 on its
 *    own line, and a leave-one-clip-out choice of the threshold.
 */
import { INCIDENTAL_SEED } from '../src/cli/eval-events.ts';
import { cachedClips, type CachedClip } from './cached-clips.ts';
import { evalClip } from '../src/session/event-eval.ts';
import type { TruthEvent } from '../src/session/detectors/event-score.ts';
import { detectClipEvents } from '../src/session/detectors/events-only.ts';
import { resolvePolicy, type PolicyInput } from '../src/session/policy.ts';

const [cacheDir, ...dirs] = process.argv.slice(2);
type Clip = CachedClip;
const clips: Clip[] = cachedClips(cacheDir, dirs);
const short = (name: string): string => name.split('/')[1];
const noVeto = resolvePolicy({ blink: { lidOpenAbove: 1e9 } });
const f2 = (x: number | undefined): string => (x === undefined ? '–' : x.toFixed(2));

process.stdout.write('## Closures accepted without the veto\n\n| clip | start s | label | lowest lid while closed, left | right | annotation |\n| --- | --- | --- | --- | --- | --- |\n');
const rows: { label: string; hi: number | undefined; lo: number | undefined; clip: string }[] = [];
for (const c of clips) {
  for (const b of detectClipEvents(c.signals, noVeto, c.t0Ms).filter((e) => e.type === 'blink')) {
    const near = (t: TruthEvent): boolean => b.startS < t.endS + 0.1 && t.startS - 0.1 < b.endS;
    const hit = c.truth.find((t) => t.event === 'blink' && t.confidence !== 'low' && near(t));
    const low = c.truth.find((t) => t.confidence === 'low' && near(t));
    const label = hit ? 'true' : low ? 'excused' : 'false';
    const lowest = (eye: 'left' | 'right'): number | undefined => {
      let m: number | undefined;
      for (const f of c.signals) {
        const t = (f.tsMs - c.t0Ms) / 1000;
        if (!f.face || t < b.startS || t >= b.endS) continue;
        const open = eye === 'left' ? f.face.leftEyeOpen : f.face.rightEyeOpen;
        const lid = eye === 'left' ? f.face.leftLidOpen : f.face.rightLidOpen;
        if (open >= noVeto.blink.closedBelow) continue;
        if (lid === undefined) return undefined;
        m = Math.min(m ?? Infinity, lid);
      }
      return m;
    };
    const [l, r] = [lowest('left'), lowest('right')];
    const note = (hit ?? low ?? c.truth.find((t) => t.event !== 'frontal_still' && near(t)))?.event ?? '';
    rows.push({
      label, clip: short(c.name),
      hi: l === undefined || r === undefined ? undefined : Math.max(l, r),
      lo: l === undefined ? r : r === undefined ? l : Math.min(l, r),
    });
    process.stdout.write(`| ${short(c.name)} | ${b.startS.toFixed(2)} | ${label} | ${f2(l)} | ${f2(r)} | ${note} |\n`);
  }
}
for (const label of ['true', 'false']) {
  for (const d14 of [false, true]) {
    const xs = rows.filter((r) => r.label === label && (r.clip === 'd14') === d14);
    const his = xs.flatMap((r) => (r.hi === undefined ? [] : [r.hi])).sort((a, b) => a - b);
    const los = xs.flatMap((r) => (r.lo === undefined ? [] : [r.lo])).sort((a, b) => a - b);
    process.stdout.write(`\n${label}${d14 ? ' (d14)' : ''}: ${xs.length} closures; larger of the two lowest readings: ${his.map(f2).join(' ')}`
      + ` (${xs.length - his.length} without a reading on both eyes); smaller: ${los.map(f2).join(' ')}\n`);
  }
}

/** Clip-scan and prompted blink scores of a policy variant (d14 apart). */
function score(variant: PolicyInput, use: readonly Clip[]) {
  const policy = resolvePolicy(variant);
  const out = { tp: 0, fn: 0, fp: 0, s: 0, answered: 0, prompts: 0, inc: 0, incPrompts: 0 };
  for (const c of use) {
    const e = evalClip({ folder: c.name.split('/')[0], clip: short(c.name) }, c.signals, c.t0Ms, c.truth, policy, INCIDENTAL_SEED);
    out.tp += e.scan.blink.tp;
    out.fn += e.scan.blink.fn;
    out.fp += e.scan.blink.fp;
    out.s += e.seconds;
    out.answered += e.prompted.blink.answered;
    out.prompts += e.prompted.blink.prompts;
    out.inc += e.prompted.blink.incidentalPasses;
    out.incPrompts += e.prompted.blink.incidentalPrompts;
  }
  return out;
}
const variants: [string, PolicyInput][] = [
  ...[0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 1e9].map((v): [string, PolicyInput] => [`lidOpenAbove ${v}`, { blink: { lidOpenAbove: v } }]),
];
const line = (s: ReturnType<typeof score>): string =>
  `${s.tp}/${s.tp + s.fn} | ${s.fp} (${((60 * s.fp) / s.s).toFixed(2)}/min) | ${s.answered}/${s.prompts} | ${s.inc}/${s.incPrompts}`;
process.stdout.write('\n## Veto variants\n\n| rule | clips | scan recall | scan false | prompted | incidental |\n| --- | --- | --- | --- | --- | --- |\n');
const dev = clips.filter((c) => short(c.name) !== 'd14');
const d14 = clips.filter((c) => short(c.name) === 'd14');
for (const [name, v] of variants) {
  process.stdout.write(`| ${name} | dev without d14 | ${line(score(v, dev))} |\n| ${name} | d14 | ${line(score(v, d14))} |\n`);
}

// Leave one clip out: choose lidOpenAbove on the other clips (most scan hits + answered prompts − scan false blinks;
// ties go to the larger value, which keeps more margin below real blinks' lid readings), score it on the clip left out.
const grid = [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];
const held = { tp: 0, fn: 0, fp: 0, answered: 0, prompts: 0 };
const chosen = new Map<number, number>();
for (const out of clips) {
  const rest = clips.filter((c) => c !== out);
  let best: { v: number; value: number } | undefined;
  for (const v of grid) {
    const s = score({ blink: { lidOpenAbove: v } }, rest);
    const value = s.tp + s.answered - s.fp;
    if (!best || value >= best.value) best = { v, value };
  }
  chosen.set(best!.v, (chosen.get(best!.v) ?? 0) + 1);
  const s = score({ blink: { lidOpenAbove: best!.v } }, [out]);
  held.tp += s.tp;
  held.fn += s.fn;
  held.fp += s.fp;
  held.answered += s.answered;
  held.prompts += s.prompts;
}
process.stdout.write(`\n## Leave one clip out\n\nheld out: scan ${held.tp}/${held.tp + held.fn}, ${held.fp} false; prompted ${held.answered}/${held.prompts}\n`
  + `chosen: ${[...chosen].map(([v, n]) => `${v} ×${n}`).join(', ')}\n`);
