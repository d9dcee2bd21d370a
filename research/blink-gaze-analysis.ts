/**
 * Study (issue #5, the last false blinks): reads research/blink-gaze-study.ts's per-frame eye geometry and asks
 * whether a downward glance or a wink differs from a blink in it. The detector is the shipped one (detectClipEvents
 * with the default policy, on the study's own frame signals: it reproduces `score:events`).
 *   node --import tsx research/blink-gaze-analysis.ts events [DIR]     one row per detected or missed blink
 *   node --import tsx research/blink-gaze-analysis.ts trace CLIP FROM_S TO_S [DIR]   the frames of a stretch
 *   node --import tsx research/blink-gaze-analysis.ts cues [DIR]       each closure's candidate cues, per half
 *   node --import tsx research/blink-gaze-analysis.ts compare CLIP FROM TO REF_FROM REF_TO [DIR]   two stretches
 *   node --import tsx research/blink-gaze-analysis.ts coupling [DIR]   iris height vs upper lid on open eyes
 * Per eye, a reading is relative to the eye's own recent open state: over the 3 s before the frame (the frames
 * where fr_eye reads both eyes above the policy's openAbove), lidRel = lid / median open lid, dIy = iris centre's
 * drop below its median open position, irRel = iris radius / median open radius (corner distances, study's frame).
 * Halves A/B as in test/hil/session/score-events.ts. Scalars only; prints to stdout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventsCsv } from '../src/camera/events-csv.ts';
import { faceDataRoot } from '../test/face-data.ts';
import { type ClipEvent, detectClipEvents } from '../src/session/detectors/events-only.ts';
import type { TruthEvent } from '../src/session/detectors/event-score.ts';
import { resolvePolicy } from '../src/session/policy.ts';
import type { FrameSignals } from '../src/session/signals.ts';
import type { GazeGeometry as Geometry, IrisDarkness } from './blink-gaze-geometry.ts';
import { clipFiles } from '../test/hil/vision/pose-clips.ts';

/** one eye's stored reading (the study writes NaN as null) */
type GazeGeometry = Geometry & { [K in keyof IrisDarkness]?: number | null };

type Side = 'L' | 'R';
interface Clip {
  name: string;
  half: 'A' | 'B';
  t0Ms: number;
  signals: FrameSignals[];
  eyes: Array<Record<Side, GazeGeometry> | null>;
  truth: TruthEvent[];
}
interface Rel { lidRel: number; dIy: number; irRel: number; vis: number; pos: number; mrd: number; mrdRel: number; disk: number; gap: number; share: number }

const policy = resolvePolicy({});
const BASE_MS = 3000;

function loadClips(dir: string): Clip[] {
  return clipFiles().map(({ set, name, half }) => {
    const d = JSON.parse(readFileSync(join(dir, `${set}--${name}.json`), 'utf8'));
    const truth = parseEventsCsv(readFileSync(join(faceDataRoot(), set, `${name}.events.csv`), 'utf8'))
      .map((e) => ({ startS: e.startMs / 1000, endS: e.endMs / 1000, event: e.event, confidence: e.extra?.confidence }));
    return { name, half, t0Ms: d.t0Ms, signals: d.signals, eyes: d.eyes, truth };
  });
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)];
};

/** The eye's reading at frame i relative to its open frames over the BASE_MS before it (undefined: none). */
function relative(c: Clip, i: number, side: Side): Rel | undefined {
  const e = c.eyes[i]?.[side];
  if (!e || e.lid === undefined) return undefined;
  const ts = c.signals[i].tsMs;
  const open: GazeGeometry[] = [];
  for (let j = i - 1; j >= 0 && ts - c.signals[j].tsMs <= BASE_MS; j--) {
    const f = c.signals[j].face;
    const g = c.eyes[j]?.[side];
    if (f && g && g.lid !== undefined && Math.min(f.leftEyeOpen, f.rightEyeOpen) > policy.blink.openAbove) open.push(g);
  }
  if (open.length < 5) return undefined;
  const span = e.loAt - e.upAt;
  const mrd = (g: GazeGeometry): number => (g.iy - g.upAt) / g.ir;
  const num = (x: number | null | undefined): number => (typeof x === 'number' ? x : Number.NaN);
  const openOf = (k: 'disk' | 'gap'): number => median(open.map((g) => num(g[k])).filter((x) => !Number.isNaN(x)));
  return {
    disk: num(e.disk) / openOf('disk'),
    gap: num(e.gap) / openOf('gap'),
    share: num(e.gapShare),
    mrd: mrd(e),
    mrdRel: mrd(e) / median(open.map(mrd)),
    lidRel: e.lid / median(open.map((g) => g.lid)),
    dIy: e.iy - median(open.map((g) => g.iy)),
    irRel: e.ir / median(open.map((g) => g.ir)),
    vis: e.vis,
    pos: span > 0 ? (e.iy - e.upAt) / span : Number.NaN,
  };
}

const sec = (c: Clip, tsMs: number): number => (tsMs - c.t0Ms) / 1000;
const f2 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '  -  ' : x.toFixed(2).padStart(5));

/** Detected blinks labelled as the scorer would (tp / fp / ignored: overlaps only a low event) and the missed ones. */
function labelled(c: Clip): Array<{ kind: 'tp' | 'fp' | 'low' | 'fn'; startS: number; endS: number; truth?: TruthEvent }> {
  const det = detectClipEvents(c.signals, policy, c.t0Ms).filter((e: ClipEvent) => e.type === 'blink');
  const gt = c.truth.filter((t) => t.event === 'blink');
  const used = new Set<TruthEvent>();
  const overlaps = (d: ClipEvent, t: TruthEvent): boolean => d.startS < t.endS + 0.1 && t.startS - 0.1 < d.endS;
  const rows: ReturnType<typeof labelled> = [];
  for (const d of det) {
    const hit = gt.find((t) => !used.has(t) && t.confidence !== 'low' && overlaps(d, t));
    if (hit) used.add(hit);
    const kind = hit ? 'tp' : gt.some((t) => t.confidence === 'low' && overlaps(d, t)) ? 'low' : 'fp';
    rows.push({ kind, startS: d.startS, endS: d.endS, truth: hit ?? c.truth.find((t) => overlaps(d, t) && t.event !== 'frontal_still') });
  }
  for (const t of gt) if (t.confidence !== 'low' && !used.has(t)) rows.push({ kind: 'fn', startS: t.startS, endS: t.endS, truth: t });
  return rows.sort((a, b) => a.startS - b.startS);
}

/** Frame indices within [fromS, toS] of the clip. */
function framesIn(c: Clip, fromS: number, toS: number): number[] {
  return c.signals.flatMap((s, i) => (sec(c, s.tsMs) >= fromS - 1e-6 && sec(c, s.tsMs) <= toS + 1e-6 ? [i] : []));
}

function traceRow(c: Clip, i: number): string {
  const f = c.signals[i].face;
  const cells = (['L', 'R'] as const).map((side) => {
    const r = relative(c, i, side);
    const fr = side === 'L' ? f?.leftEyeOpen : f?.rightEyeOpen;
    const lidTrack = side === 'L' ? f?.leftLidOpen : f?.rightLidOpen;
    return `${side} fr ${f2(fr)} trk ${f2(lidTrack)} lid ${f2(r?.lidRel)} dIy ${f2(r?.dIy)} ir ${f2(r?.irRel)} vis ${f2(r?.vis)} pos ${f2(r?.pos)} mrd ${f2(r?.mrd)} ${f2(r?.mrdRel)}`;
  });
  return `${sec(c, c.signals[i].tsMs).toFixed(2).padStart(6)} p ${f2(f?.pitchDeg)} | ${cells.join(' | ')}`;
}

/** Per event: over the frames from its start to its end, each eye's deepest lid (min lidRel) and the values there. */
function eventRow(c: Clip, ev: ReturnType<typeof labelled>[number]): string {
  const idx = framesIn(c, ev.startS, Math.max(ev.endS - 0.001, ev.startS));
  const parts = (['L', 'R'] as const).map((side) => {
    let best: Rel | undefined;
    let maxDrop = Number.NEGATIVE_INFINITY;
    let minVis = Number.POSITIVE_INFINITY;
    let minMrd = Number.POSITIVE_INFINITY;
    for (const i of idx) {
      const r = relative(c, i, side);
      if (!r) continue;
      if (!best || r.lidRel < best.lidRel) best = r;
      maxDrop = Math.max(maxDrop, r.dIy);
      minVis = Math.min(minVis, r.vis);
      minMrd = Math.min(minMrd, r.mrd);
    }
    return `${side} lid ${f2(best?.lidRel)} dIy ${f2(best?.dIy)} vis ${f2(best?.vis)} mrd ${f2(best?.mrd)} ${f2(best?.mrdRel)} minMrd ${f2(minMrd)}`;
  });
  return `${c.half} ${c.name.slice(0, 10).padEnd(10)} ${ev.kind.padEnd(3)} ${ev.startS.toFixed(2).padStart(6)}-${ev.endS.toFixed(2).padEnd(6)} n${String(idx.length).padStart(2)} | ${parts.join(' | ')} | ${ev.truth?.event ?? ''} ${ev.truth?.confidence ?? ''}`;
}

const [mode = 'events', ...rest] = process.argv.slice(2);
if (mode === 'events') {
  for (const c of loadClips(rest[0] ?? '/tmp/blink-gaze')) {
    if (c.name === 'd20') continue;
    for (const ev of labelled(c)) process.stdout.write(`${eventRow(c, ev)}\n`);
  }
} else if (mode === 'trace') {
  const [clip, from, to, dir] = rest;
  const c = loadClips(dir ?? '/tmp/blink-gaze').find((x) => x.name === clip);
  if (!c) throw new Error(`no clip ${clip}`);
  for (const i of framesIn(c, Number(from), Number(to))) process.stdout.write(`${traceRow(c, i)}\n`);
}

/**
 * One closure's candidate cues, both eyes together (a blink is bilateral, so the MORE open eye decides): over the
 * frames of the closure, `lid` = min over frames of max(lidRel L, R) (depth), `vis` = min of max(vis), `mrd` = min
 * of max(mrd) (upper lid above the iris centre, iris radii), `drop` = max of min(dIy) (both irises lowered),
 * `ms` = closure duration, `frames` = frames with fr_eye's more open eye below closedBelow, `lead` = frames in the
 * bilateralMs before the closure where one eye already read closed (below closedBelow) while the other was open: a
 * wink's winking eye leads its partner's squint; `rec` = the share of the dip (1 − lid) the lids have recovered one
 * frame after the deepest frame: a blink reopens more slowly than it closes, a lid saccade snaps back; `disk` / `gap`
 * = the iris region's luma relative to the eye's open frames (irisDarkness; per frame the darker eye, then the
 * brightest frame: a covered iris is brighter), `share` = the iris circle's share between the lids (the more open eye,
 * then the most closed frame).
 */
interface Cues { lid: number; vis: number; mrd: number; drop: number; ms: number; frames: number; lead: number; rec: number; disk: number; gap: number; share: number }
const CUES = ['lid', 'vis', 'mrd', 'drop', 'ms', 'frames', 'lead', 'rec', 'disk', 'gap', 'share'] as const;

function cues(c: Clip, ev: { startS: number; endS: number }): Cues | undefined {
  const idx = framesIn(c, ev.startS, Math.max(ev.endS - 0.001, ev.startS));
  const out: Cues = { lid: Infinity, vis: Infinity, mrd: Infinity, drop: -Infinity, ms: (ev.endS - ev.startS) * 1000, frames: 0, lead: 0, rec: Number.NaN,
    disk: -Infinity, gap: -Infinity, share: Infinity };
  let deepest: number | undefined;
  for (const i of framesIn(c, ev.startS - policy.blink.bilateralMs / 1000, ev.startS - 0.001)) {
    const f = c.signals[i].face;
    if (f && Math.min(f.leftEyeOpen, f.rightEyeOpen) < policy.blink.closedBelow && Math.max(f.leftEyeOpen, f.rightEyeOpen) > policy.blink.openAbove) out.lead++;
  }
  let seen = false;
  for (const i of idx) {
    const f = c.signals[i].face;
    if (f && Math.max(f.leftEyeOpen, f.rightEyeOpen) < policy.blink.closedBelow) out.frames++;
    const l = relative(c, i, 'L');
    const r = relative(c, i, 'R');
    if (!l || !r) continue;
    seen = true;
    if (Math.max(l.lidRel, r.lidRel) < out.lid) deepest = i;
    out.lid = Math.min(out.lid, Math.max(l.lidRel, r.lidRel));
    out.vis = Math.min(out.vis, Math.max(l.vis, r.vis));
    out.mrd = Math.min(out.mrd, Math.max(l.mrd, r.mrd));
    out.drop = Math.max(out.drop, Math.min(l.dIy, r.dIy));
    // darkness: the darker (more iris-like) eye on each frame, the brightest such frame of the closure
    out.disk = Math.max(out.disk, Math.min(l.disk, r.disk));
    const gapL = Number.isNaN(l.gap) ? Infinity : l.gap;
    const gapR = Number.isNaN(r.gap) ? Infinity : r.gap;
    out.gap = Math.max(out.gap, Math.min(gapL, gapR));
    out.share = Math.min(out.share, Math.max(l.share, r.share));
  }
  if (deepest !== undefined && deepest + 1 < c.signals.length) {
    const l = relative(c, deepest + 1, 'L');
    const r = relative(c, deepest + 1, 'R');
    if (l && r) out.rec = (Math.max(l.lidRel, r.lidRel) - out.lid) / (1 - out.lid);
  }
  return seen ? out : undefined;
}

if (mode === 'cues') {
  const rows: Array<{ half: string; kind: string; label: string; cues: Cues }> = [];
  for (const c of loadClips(rest[0] ?? '/tmp/blink-gaze')) {
    if (c.name === 'd20') continue;
    for (const ev of labelled(c)) {
      const q = cues(c, ev);
      const label = `${c.name.slice(0, 9)}@${ev.startS.toFixed(2)}`;
      if (!q) process.stdout.write(`no baseline: ${c.half} ${ev.kind} ${label}\n`);
      else if (ev.kind !== 'low') rows.push({ half: c.half, kind: ev.kind, label, cues: q });
    }
  }
  const range = (v: number[]): string => (v.length ? `${f2(Math.min(...v))}..${f2(Math.max(...v))}` : '-');
  const fin = (v: number[]): number[] => v.filter((x) => !Number.isNaN(x));
  process.stdout.write('| cue | blinks A (detected + missed) | blinks B | false A | false B | cut from half A (max A blink) | false removed | blinks lost |\n|---|---|---|---|---|---|---|---|\n');
  for (const k of CUES) {
    const v = (half: string, blink: boolean): number[] =>
      fin(rows.filter((r) => r.half === half && (r.kind !== 'fp') === blink).map((r) => r.cues[k]));
    // an event with a value ABOVE every half-A blink's is "not a blink" (drop: BELOW, a blink lowers the irises least)
    const sign = k === 'drop' || k === 'frames' || k === 'disk' || k === 'gap' ? -1 : 1; // lead: a wink leads, so ABOVE is "not a blink" too
    const cut = Math.max(...v('A', true).map((x) => sign * x));
    const removed = rows.filter((r) => r.kind === 'fp' && sign * r.cues[k] > cut).map((r) => r.label);
    const lost = rows.filter((r) => r.kind !== 'fp' && sign * r.cues[k] > cut).map((r) => r.label);
    process.stdout.write(`| ${k} | ${range(v('A', true))} | ${range(v('B', true))} | ${range(v('A', false))} | ${range(v('B', false))} | ${sign > 0 ? '>' : '<'} ${f2(sign * cut)} | ${removed.length} ${removed.join(' ')} | ${lost.length} ${lost.join(' ')} |\n`);
  }
  process.stdout.write('\nper event:\n');
  for (const r of rows) process.stdout.write(`${r.half} ${r.kind.padEnd(3)} ${r.label.padEnd(16)} ${CUES.map((k) => `${k} ${f2(r.cues[k])}`).join(' ')}\n`);
}

/**
 * `compare CLIP FROM TO REF_FROM REF_TO`: per eye, the medians of the raw geometry over an annotated stretch against a
 * reference stretch of the same clip (e.g. look_down vs frontal): does the iris model see the gaze move at all?
 */
if (mode === 'compare') {
  const [clip, from, to, refFrom, refTo, dir] = rest;
  const c = loadClips(dir ?? '/tmp/blink-gaze').find((x) => x.name === clip);
  if (!c) throw new Error(`no clip ${clip}`);
  const keys = ['lid', 'up', 'lo', 'ix', 'iy', 'ir', 'vis'] as const;
  for (const side of ['L', 'R'] as const) {
    const med = (a: string, b: string, k: (typeof keys)[number]): number =>
      median(framesIn(c, Number(a), Number(b)).flatMap((i) => (c.eyes[i]?.[side] ? [c.eyes[i]![side][k]] : [])));
    const cells = keys.map((k) => `${k} ${f2(med(from, to, k))} (ref ${f2(med(refFrom, refTo, k))})`);
    process.stdout.write(`${side} ${cells.join(' ')}\n`);
  }
}

/**
 * `coupling`: on open frames (fr_eye reads both eyes above openAbove), per clip and eye, how the iris centre's height
 * (iy) goes with the upper lid's (up): Pearson r and the least-squares slope d(up)/d(iy). Lid-gaze coupling says the
 * upper lid follows vertical gaze about one to one; a model that reads the iris from the lid gives the same picture,
 * so this checks only that the two move together, and how much iy varies on open eyes (sd).
 */
if (mode === 'coupling') {
  for (const c of loadClips(rest[0] ?? '/tmp/blink-gaze')) {
    const cells = (['L', 'R'] as const).map((side) => {
      const xs: number[] = [];
      const ys: number[] = [];
      c.signals.forEach((s, i) => {
        const g = c.eyes[i]?.[side];
        if (s.face && g && Math.min(s.face.leftEyeOpen, s.face.rightEyeOpen) > policy.blink.openAbove) {
          xs.push(g.iy);
          ys.push(g.up);
        }
      });
      const mean = (a: number[]): number => a.reduce((p, q) => p + q, 0) / a.length;
      const mx = mean(xs);
      const my = mean(ys);
      const sxy = xs.reduce((p, x, k) => p + (x - mx) * (ys[k] - my), 0);
      const sxx = xs.reduce((p, x) => p + (x - mx) ** 2, 0);
      const syy = ys.reduce((p, y) => p + (y - my) ** 2, 0);
      return `${side} n ${String(xs.length).padStart(4)} r ${f2(sxy / Math.sqrt(sxx * syy))} slope ${f2(sxy / sxx)} sd(iy) ${(Math.sqrt(sxx / xs.length)).toFixed(3)}`;
    });
    process.stdout.write(`${c.half} ${c.name.slice(0, 10).padEnd(10)} ${cells.join(' | ')}\n`);
  }
}
