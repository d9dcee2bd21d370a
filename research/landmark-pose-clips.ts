/**
 * Study (issue #3): would the turn detector and the quality gate's pose limits decide the same if yaw/pitch/roll came
 * from the 68 landmarks (src/vision/landmark-pose.ts) instead of fr_pose? Every annotated clip (the 13 of
 * test/hil/session/score-events.ts, same order and A/B halves) through the SAME path as `regterm replay --events-only`
 * (recordingSignals: replay source, I420 -> RGB, face engine, vision adapter); per frame both poses.
 *   node --import tsx research/landmark-pose-clips.ts [--cache DIR]
 * --cache keeps per clip the frame signals and the landmark angles (angles only: no pixels, no coordinates, no
 * embeddings) as JSON in DIR (a tmp dir, never the repo) so the analysis re-runs in seconds. Loading the clips and
 * the hybrid's gate agreement are test/hil/vision/pose-clips.ts, shared with the CI check of that agreement
 * (test/hil/vision/hybrid-gate.spec.ts).
 *
 * Pose sources compared, each as the frame's yawDeg/pitchDeg/rollDeg fed to the unchanged detectors:
 *   fr_pose  the deployed model (what ships);
 *   lm raw   the landmark fit as is;
 *   lm cal   the landmark fit after a per-axis line (fr_pose = a * lm + b) fitted on half A's frames (held out: B);
 *   lm yaw   landmark yaw (raw), fr_pose pitch and roll (the "yaw only" option);
 *   hybrid 1/N  fr_pose on every N-th tracked frame, landmark angles offset by the recent fr_pose difference between
 *            (test/hil/vision/hybrid-poses.ts): what an engine running fr_pose at a fraction of the frames would feed the session.
 * Per clip: yaw agreement with fr_pose (median / p90 |diff|, r), turn events scored against the clip's events.csv
 * with each source (and how many turn events each finds), the pose part of the quality gate (|yaw|, |pitch|, |roll|
 * <= policy limits) per frame: pass rate per source and per-frame agreement with fr_pose; and jitter: the frame-to-frame
 * sd of each angle over the annotated frontal_still stretches.
 */
import { parseArgs } from 'node:util';
import { parseEventsCsv } from '../src/camera/events-csv.ts';
import { createLogger } from '../src/lib/logger.ts';
import { scoreEvents } from '../src/session/detectors/event-score.ts';
import { clipFrontalYaw, detectClipEvents } from '../src/session/detectors/events-only.ts';
import { resolvePolicy } from '../src/session/policy.ts';
import { deploymentPolicyBase } from '../src/session/deployment-policy.ts';
import type { FrameSignals } from '../src/session/signals.ts';
import { pearson } from '../src/session/light.ts';
import { FaceEngine } from '../src/vision/engine.ts';
import { type PoseClip as Clip, clipFiles, clipHybridPoses, frPose, loadPoseClip, poseGate } from '../test/hil/vision/pose-clips.ts';
import { AXES, type Angles, type Line, absDiff, applyLine, axisReport, fitLine, jitterSd, reportHeader, reportRows } from './landmark-pose-stats.ts';
import { quantile } from '../scripts/models/measure.ts';

const { values } = parseArgs({ options: { cache: { type: 'string' } } });
const logger = createLogger({ level: 'warn' });
const engine = new FaceEngine();
await engine.start();
const policy = resolvePolicy({}, deploymentPolicyBase(engine));
const clips: Clip[] = [];
try {
  for (const file of clipFiles()) clips.push(await loadPoseClip(engine, logger, file, values.cache));
} finally {
  await engine.stop();
}

/** frames with one face and a landmark fit: the paired readings */
const paired = (c: Clip): number[] => c.signals.flatMap((f, i) => (f.faceCount === 1 && f.face && c.landmark[i] ? [i] : []));

// calibration on half A's paired frames
const calibration = {} as Record<keyof Angles, Line>;
for (const axis of AXES) {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const c of clips.filter((x) => x.half === 'A')) {
    for (const i of paired(c)) {
      xs.push(c.landmark[i]![axis]);
      ys.push(frPose(c.signals[i])[axis]);
    }
  }
  calibration[axis] = fitLine(xs, ys);
}
const calibrated = (a: Angles): Angles => ({ yaw: applyLine(calibration.yaw, a.yaw), pitch: applyLine(calibration.pitch, a.pitch), roll: applyLine(calibration.roll, a.roll) });

type Source = 'fr_pose' | 'lm raw' | 'lm cal' | 'lm yaw' | 'hybrid 1/5' | 'hybrid 1/10';
const SOURCES: Source[] = ['fr_pose', 'lm raw', 'lm cal', 'lm yaw', 'hybrid 1/5', 'hybrid 1/10'];
const HYBRID_EVERY: Partial<Record<Source, number>> = { 'hybrid 1/5': 5, 'hybrid 1/10': 10 };
const hybridCache = new Map<string, Array<Angles | undefined>>();

/** The pose a source gives frame i (undefined: the frame has no usable face for that source). */
function poseOf(c: Clip, i: number, src: Source): Angles | undefined {
  const f = c.signals[i];
  if (!f.face) return undefined;
  if (src === 'fr_pose') return frPose(f);
  const every = HYBRID_EVERY[src];
  if (every !== undefined) {
    const key = `${c.name} ${src}`;
    if (!hybridCache.has(key)) hybridCache.set(key, clipHybridPoses(c, every));
    return hybridCache.get(key)![i];
  }
  const lm = c.landmark[i];
  if (!lm) return undefined;
  if (src === 'lm raw') return lm;
  if (src === 'lm cal') return calibrated(lm);
  return { ...frPose(f), yaw: lm.yaw };
}
function signalsOf(c: Clip, src: Source): FrameSignals[] {
  return c.signals.map((f, i) => {
    const p = poseOf(c, i, src);
    if (!f.face || !p) return { ...f, faceCount: 0, face: undefined };
    return { ...f, face: { ...f.face, yawDeg: p.yaw, pitchDeg: p.pitch, rollDeg: p.roll } };
  });
}
const q = policy.quality;
const inGate = poseGate(q);
const f1 = (x: number): string => x.toFixed(1);

/**
 * When the pose part of the quality gate would first pass (seconds from the clip start): the first moment the
 * source's angles have stayed inside the limits for quality.holdMs without a gap > quality.maxGapMs; '-' = never.
 */
function gateHeldAt(c: Clip, src: Source): string {
  let runStart: number | undefined;
  let lastTs: number | undefined;
  for (let i = 0; i < c.signals.length; i++) {
    const ts = c.signals[i].tsMs;
    if (!inGate(poseOf(c, i, src)) || (lastTs !== undefined && ts - lastTs > q.maxGapMs)) runStart = undefined;
    lastTs = ts;
    if (!inGate(poseOf(c, i, src))) continue;
    runStart ??= ts;
    if (ts - runStart >= q.holdMs) return ((ts - c.t0Ms) / 1000).toFixed(2);
  }
  return '-';
}
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

const out: string[] = [];
out.push(`calibration fitted on half A (fr_pose = a * lm + b): ${AXES.map((a) => `${a} ${calibration[a].slope.toFixed(3)} x ${calibration[a].intercept >= 0 ? '+' : '-'} ${Math.abs(calibration[a].intercept).toFixed(2)}`).join(', ')}\n`);
out.push(`| half | clip | frames (paired) | yaw abs(fr_pose - lm raw) median / p90, r | turns: truth | found ${SOURCES.join(' / ')} | TP (FP) ${SOURCES.join(' / ')} | gate pass ${SOURCES.join(' / ')} | gate agreement with fr_pose: ${SOURCES.slice(1).join(' / ')} |`);
out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const totals = { frames: 0, agree: Object.fromEntries(SOURCES.map((s) => [s, 0])) as Record<Source, number>, tp: {} as Record<string, number>, fp: {} as Record<string, number>, truth: { A: 0, B: 0 } };
const allDiff: Record<'A' | 'B', { fr: number[]; lm: number[] }> = { A: { fr: [], lm: [] }, B: { fr: [], lm: [] } };
const jitter: Record<Source, Record<keyof Angles, number[]>> = Object.fromEntries(SOURCES.map((s) => [s, { yaw: [], pitch: [], roll: [] }])) as never;
for (const c of clips) {
  const idx = paired(c);
  const fr = idx.map((i) => c.signals[i].face!.yawDeg);
  const lm = idx.map((i) => c.landmark[i]!.yaw);
  allDiff[c.half].fr.push(...fr);
  allDiff[c.half].lm.push(...lm);
  const d = absDiff(fr, lm);
  const truth = parseEventsCsv(c.csv).map((e) => ({ startS: e.startMs / 1000, endS: e.endMs / 1000, event: e.event, confidence: e.extra?.confidence }));
  const turnTruth = truth.filter((t) => t.event === 'turn_left' || t.event === 'turn_right').length;
  totals.truth[c.half] += turnTruth;
  const found: string[] = [];
  const scored: string[] = [];
  const pass: string[] = [];
  const agree: string[] = [];
  const gateFr = c.signals.map((_, i) => inGate(poseOf(c, i, 'fr_pose')));
  for (const src of SOURCES) {
    const sig = signalsOf(c, src);
    const ev = detectClipEvents(sig, policy, c.t0Ms);
    const turns = ev.filter((e) => e.type !== 'blink');
    found.push(turns.map((e) => `${e.type === 'turn_left' ? 'L' : 'R'}`).join('') || '-');
    const sc = scoreEvents(turns, truth).filter((s) => s.type !== 'blink');
    const tp = sc.reduce((s, x) => s + x.truePositives, 0);
    const fp = sc.reduce((s, x) => s + x.falsePositives, 0);
    totals.tp[`${c.half} ${src}`] = (totals.tp[`${c.half} ${src}`] ?? 0) + tp;
    totals.fp[`${c.half} ${src}`] = (totals.fp[`${c.half} ${src}`] ?? 0) + fp;
    scored.push(`${tp} (${fp})`);
    const gate = c.signals.map((_, i) => inGate(poseOf(c, i, src)));
    pass.push(pct(gate.filter(Boolean).length / gate.length));
    const same = gate.filter((g, i) => g === gateFr[i]).length;
    totals.agree[src] += same;
    if (src !== 'fr_pose') agree.push(pct(same / gate.length));
    // jitter over frontal_still stretches: successive paired frames inside the stretch
    for (const t of truth.filter((x) => x.event === 'frontal_still')) {
      const inside = c.signals.flatMap((f, i) => (f.tsMs - c.t0Ms >= t.startS * 1000 && f.tsMs - c.t0Ms < t.endS * 1000 && idx.includes(i) ? [i] : []));
      for (const axis of AXES) jitter[src][axis].push(jitterSd(inside.map((i) => poseOf(c, i, src)![axis])));
    }
  }
  totals.frames += c.signals.length;
  out.push(`| ${c.half} | ${c.name.slice(0, 26)} | ${c.signals.length} (${idx.length}) | ${f1(d.median)} / ${f1(d.p90)}, ${pearson(fr, lm).toFixed(2)} | ${turnTruth} | ${found.join(' / ')} | ${scored.join(' / ')} | ${pass.join(' / ')} | ${agree.join(' / ')} |`);
}
out.push(`\n| half | turn events in truth | TP (FP) ${SOURCES.join(' | ')} |\n| --- | --- | ${SOURCES.map(() => '---').join(' | ')} |`);
for (const h of ['A', 'B'] as const) {
  out.push(`| ${h} | ${totals.truth[h]} | ${SOURCES.map((s) => `${totals.tp[`${h} ${s}`]} (${totals.fp[`${h} ${s}`]})`).join(' | ')} |`);
}
out.push(`\nper-frame gate (pose part) agreement with fr_pose over all ${totals.frames} frames: ${SOURCES.slice(1).map((s) => `${s} ${pct(totals.agree[s] / totals.frames)}`).join(', ')}`);
for (const h of ['A', 'B'] as const) {
  const d = absDiff(allDiff[h].fr, allDiff[h].lm);
  out.push(`yaw abs(fr_pose - lm raw) on half ${h} (${d.n} frames): median ${d.median}, p90 ${d.p90}, p99 ${d.p99}; r ${pearson(allDiff[h].fr, allDiff[h].lm).toFixed(3)}`);
}
// all three axes over every paired frame: calibration fitted on half A, reported on half B
const modelAll: Angles[] = [];
const lmAll: Angles[] = [];
const halfAll: Array<'A' | 'B'> = [];
for (const c of clips) {
  for (const i of paired(c)) {
    modelAll.push(frPose(c.signals[i]));
    lmAll.push(c.landmark[i]!);
    halfAll.push(c.half);
  }
}
out.push(`\n${reportHeader('clip frames', 'half A', 'half B')}`);
out.push(reportRows('all 13 clips', axisReport(modelAll, lmAll, (i) => halfAll[i] === 'A')));

// which axis makes the gate decisions differ: per axis, frames where |angle| <= limit differs from fr_pose's
const limit: Angles = { yaw: q.maxYawDeg, pitch: q.maxPitchDeg, roll: q.maxRollDeg };
const diffRows: string[] = [];
out.push('\nPer-axis gate decision (|angle| <= limit) agreement with fr_pose, paired frames:\n\n| source | yaw | pitch | roll | fr_pose fails (yaw / pitch / roll) | source fails (yaw / pitch / roll) |\n| --- | --- | --- | --- | --- | --- |');
for (const src of SOURCES.slice(1)) {
  const same = { yaw: 0, pitch: 0, roll: 0 };
  const fails = { fr: { yaw: 0, pitch: 0, roll: 0 }, src: { yaw: 0, pitch: 0, roll: 0 } };
  let n = 0;
  const d: Record<keyof Angles, { m: number[]; l: number[] }> = { yaw: { m: [], l: [] }, pitch: { m: [], l: [] }, roll: { m: [], l: [] } };
  for (const c of clips) {
    for (const i of paired(c)) {
      const m = frPose(c.signals[i]);
      const l = poseOf(c, i, src)!;
      n++;
      for (const axis of AXES) {
        d[axis].m.push(m[axis]);
        d[axis].l.push(l[axis]);
      }
      for (const axis of AXES) {
        const mOk = Math.abs(m[axis]) <= limit[axis];
        const lOk = Math.abs(l[axis]) <= limit[axis];
        if (mOk === lOk) same[axis]++;
        if (!mOk) fails.fr[axis]++;
        if (!lOk) fails.src[axis]++;
      }
    }
  }
  diffRows.push(`| ${src} | ${AXES.map((a) => {
    const x = absDiff(d[a].m, d[a].l);
    return `${x.median} / ${x.p90} / ${x.p99}`;
  }).join(' | ')} |`);
  out.push(`| ${src} | ${AXES.map((a) => pct(same[a] / n)).join(' | ')} | ${AXES.map((a) => fails.fr[a]).join(' / ')} | ${AXES.map((a) => fails.src[a]).join(' / ')} |`);
}

out.push(`\nQuality gate (pose part) first held for ${q.holdMs} ms, seconds from the clip start:\n\n| clip | ${SOURCES.join(' | ')} |\n| --- | ${SOURCES.map(() => '---').join(' | ')} |`);
for (const c of clips) out.push(`| ${c.name.slice(0, 26)} | ${SOURCES.map((src) => gateHeldAt(c, src)).join(' | ')} |`);

out.push(`\nPer-frame abs(source - fr_pose), paired frames, median / p90 / p99 (deg):\n\n| source | yaw | pitch | roll |\n| --- | --- | --- | --- |\n${diffRows.join('\n')}`);

// every annotated turn: the largest |yaw - clip frontal| inside it, per source (enterDeg is what a turn must reach)
out.push(`\nAnnotated turns: peak |yaw - clip frontal| inside the event per source (turn.enterDeg ${policy.turn.enterDeg}, exitDeg ${policy.turn.exitDeg}); clip frontal per source in brackets:\n`);
out.push(`| clip | event | confidence | ${SOURCES.join(' | ')} |\n| --- | --- | --- | ${SOURCES.map(() => '---').join(' | ')} |`);
for (const c of clips) {
  const turns = parseEventsCsv(c.csv).filter((e) => e.event === 'turn_left' || e.event === 'turn_right');
  if (turns.length === 0) continue;
  const frontal = Object.fromEntries(SOURCES.map((s) => [s, clipFrontalYaw(signalsOf(c, s), policy)])) as Record<Source, number>;
  for (const t of turns) {
    const cells = SOURCES.map((src) => {
      let peak = 0;
      c.signals.forEach((f, i) => {
        const p = poseOf(c, i, src);
        if (p && f.tsMs - c.t0Ms >= t.startMs && f.tsMs - c.t0Ms < t.endMs) peak = Math.max(peak, Math.abs(p.yaw - frontal[src]));
      });
      return `${f1(peak)} [${f1(frontal[src])}]`;
    });
    out.push(`| ${c.name.slice(0, 26)} | ${t.event} ${(t.startMs / 1000).toFixed(2)}-${(t.endMs / 1000).toFixed(2)} | ${t.extra?.confidence ?? ''} | ${cells.join(' | ')} |`);
  }
}

out.push('\nJitter on frontal_still stretches (frame-to-frame sd, deg; median over stretches / max):\n\n| source | yaw | pitch | roll |\n| --- | --- | --- | --- |');
for (const src of SOURCES) {
  const cell = (xs: number[]): string => {
    const v = xs.filter(Number.isFinite);
    return `${quantile(v, 0.5).toFixed(2)} / ${Math.max(...v).toFixed(2)} (n ${v.length})`;
  };
  out.push(`| ${src} | ${AXES.map((a) => cell(jitter[src][a])).join(' | ')} |`);
}
process.stdout.write(`${out.join('\n')}\n`);
