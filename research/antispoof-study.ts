/**
 * Issue 13 item 4: where must the passive anti-spoof threshold sit so that no genuine clip is decided `spoof` while
 * no print sequence reaches `match`? Measurements only.
 *   REGTERM_FACE_DATA=../shared/data npx tsx research/antispoof-study.ts --cache /tmp/DIR [--json]
 * Live clips: every *.mp4 of the annotated sets and extra_turn_clips, through the path of `regterm replay
 * --events-only` (recordingSignals + eventsTrack), per-frame signals cached as JSON in DIR (same files as
 * `score-events.ts --cache`; scalars only, no pixels). NUAA (dev part = labels.csv): each photo's live score as
 * `regterm eval antispoof` reads it; a subject's print photos in frame order form one print sequence.
 * Prints: per-frame distributions, APCER/BPCER on a threshold grid, the session rule's windows
 * (src/session/antispoof-windows.ts) on the live clips, and trimmed means of every run of k consecutive print frames.
 * Print sequences as a session sees them: each NUAA dev subject's photos (print, and real for comparison) looped for
 * 10 s at 10 fps on a 480x480 grey canvas (test/hil/session/session-clips.ts printAttackVideo, a tmp file removed at
 * once) through the same path as the live clips and the same window rule.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/lib/logger.ts';
import { faceDataRoot } from '../test/face-data.ts';
import { antispoofWindows, sessionWindowFrames, windowDecisions } from '../src/session/antispoof-windows.ts';
import { trimmedMean } from '../src/session/evidence.ts';
import { resolvePolicy, type SessionPolicy } from '../src/session/policy.ts';
import { eventsTrack, recordingSignals } from '../src/session/recording-signals.ts';
import { deploymentPolicyBase } from '../src/session/deployment-policy.ts';
import type { FrameSignals } from '../src/session/signals.ts';
import { readCsv } from '../src/vision/csv.ts';
import { FaceEngine } from '../src/vision/engine.ts';
import { readImageFile } from '../src/vision/image-file.ts';
import { printAttackVideo } from '../test/hil/session/session-clips.ts';

const SETS = ['extra_turn_clips', 'liveportrait_driving_videos', 'sadtalker_hdtf_ref_videos', 'pcavs_pose_source', 'dagan_driving_video'];
const { values } = parseArgs({ options: { cache: { type: 'string' }, json: { type: 'boolean', default: false } } });
if (!values.cache) throw new Error('--cache DIR is required');
const cache = values.cache;
mkdirSync(cache, { recursive: true });
const DATA = faceDataRoot();
const logger = createLogger({ level: 'warn' });
const engine = new FaceEngine();
await engine.start();
const policy = resolvePolicy({}, deploymentPolicyBase(engine));
const deployed = policy.antispoof.threshold;

interface Clip { name: string; signals: FrameSignals[] }
interface NuaaRow { file: string; live: boolean; subject: string; frame: number; score: number }

const clips: Clip[] = [];
const sequences: Array<Clip & { live: boolean }> = [];
let nuaa: NuaaRow[];
try {
  const nuaaFile = join(cache, 'nuaa-dev.json');
  if (existsSync(nuaaFile)) nuaa = JSON.parse(readFileSync(nuaaFile, 'utf8'));
  else {
    const root = join(DATA, 'nuaa_imposter_subset');
    nuaa = [];
    for (const row of await readCsv(join(root, 'labels.csv'), ['file', 'label', 'attack_type', 'subject'])) {
      const [face] = await engine.analyzeFrame(await readImageFile(join(root, row.file)), { maxFaces: 1 });
      nuaa.push({ file: row.file, live: row.label === 'real', subject: row.subject, frame: Number(/_(\d+)\.jpg$/.exec(row.file)?.[1]), score: face?.antispoof ?? 0 });
    }
    writeFileSync(nuaaFile, JSON.stringify(nuaa));
  }
  const tmp = mkdtempSync(join(tmpdir(), 'antispoof-study-'));
  try {
    for (const label of ['spoof', 'real']) {
      for (const subject of [...new Set(nuaa.map((r) => r.subject))].sort()) {
        const file = join(cache, `nuaa-seq-${label}-${subject}.json`);
        const files = nuaa.filter((r) => r.subject === subject && r.live === (label === 'real')).sort((a, b) => a.frame - b.frame)
          .map((r) => join(DATA, 'nuaa_imposter_subset', r.file));
        if (files.length === 0) continue;
        let signals: FrameSignals[];
        if (existsSync(file)) signals = JSON.parse(readFileSync(file, 'utf8')).signals;
        else {
          const video = await printAttackVideo(tmp, files, 10);
          const r = await recordingSignals(engine, video, logger, undefined, eventsTrack(policy));
          rmSync(video);
          writeFileSync(file, JSON.stringify(r));
          signals = r.signals;
        }
        sequences.push({ name: `${label}/${subject}`, live: label === 'real', signals });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  for (const set of SETS) {
    for (const mp4 of readdirSync(join(DATA, set)).filter((f) => f.endsWith('.mp4')).sort()) {
      const name = mp4.replace('.mp4', '');
      const file = join(cache, `${set}--${name}.json`);
      let signals: FrameSignals[];
      if (existsSync(file)) signals = JSON.parse(readFileSync(file, 'utf8')).signals;
      else {
        const r = await recordingSignals(engine, join(DATA, set, mp4), logger, undefined, eventsTrack(policy));
        writeFileSync(file, JSON.stringify(r));
        signals = r.signals;
      }
      clips.push({ name: `${set}/${name}`, signals });
      process.stderr.write(`${set}/${name}: ${signals.length} frames\n`);
    }
  }
} finally {
  await engine.stop();
}

const q = (v: number[], p: number): number => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const f3 = (x: number): string => x.toFixed(3);
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const below = (v: number[], t: number): number => v.filter((s) => s < t).length / v.length;

/** Frames a session would count, per clip, with the effective crop scale (2.7x clipped to the frame). */
const liveFrames = clips.map((c) => {
  const counted = sessionWindowFrames(c.signals, policy.quality).flatMap((f) => (f.score === undefined ? [] : [f.score]));
  const crops = c.signals.flatMap((f) => {
    if (!f.face) return [];
    const w = f.face.box.x2 - f.face.box.x1;
    const h = f.face.box.y2 - f.face.box.y1;
    const side = Math.max(w, h);
    return [Math.min((f.frameHeight - 1) / side, (f.frameWidth - 1) / side, 2.7)];
  });
  const widths = c.signals.flatMap((f) => (f.face ? [(f.face.box.x2 - f.face.box.x1) / f.frameWidth] : []));
  return { name: c.name, counted, crop: crops.length ? q(crops, 0.5) : Number.NaN, width: widths.length ? q(widths, 0.5) : Number.NaN };
});
const allLive = liveFrames.flatMap((c) => c.counted);
const nuaaReal = nuaa.filter((r) => r.live).map((r) => r.score);
const nuaaPrint = nuaa.filter((r) => !r.live).map((r) => r.score);

/** Every run of k consecutive print photos of one subject (frame order): the session statistic over it. */
function printRuns(k: number): number[] {
  const out: number[] = [];
  const subjects = [...new Set(nuaa.filter((r) => !r.live).map((r) => r.subject))];
  for (const s of subjects) {
    const seq = nuaa.filter((r) => !r.live && r.subject === s).sort((a, b) => a.frame - b.frame).map((r) => r.score);
    for (let i = 0; i + k <= seq.length; i++) out.push(trimmedMean(seq.slice(i, i + k), policy.antispoof.trimFraction));
  }
  return out;
}
const runs8 = printRuns(policy.antispoof.minFrames);
const runsAll = printRuns(20);

function liveWindows(threshold: number): { windows: number; spoof: number; perClip: { name: string; windows: number; spoof: number; lowest?: number }[] } {
  const p: SessionPolicy = { ...policy, antispoof: { ...policy.antispoof, threshold } };
  const perClip = clips.map((c) => {
    const w = antispoofWindows(c.signals, p);
    return { name: c.name, windows: w.windows, spoof: w.spoofWindows, lowest: w.lowest };
  });
  return { windows: perClip.reduce((a, c) => a + c.windows, 0), spoof: perClip.reduce((a, c) => a + c.spoof, 0), perClip };
}

/** The highest window aggregate of a clip: the lowest of the windows' negated scores. */
function sequenceHighest(signals: FrameSignals[]): number | undefined {
  const frames = sessionWindowFrames(signals, policy.quality).map((f) => ({ tsMs: f.tsMs, score: f.score === undefined ? undefined : -f.score }));
  const w = windowDecisions(frames, { ...policy.antispoof, threshold: -Infinity });
  return w.lowest === undefined ? undefined : -w.lowest;
}

const out: string[] = [];
out.push(`deployed threshold ${deployed}; rule: trimmed mean (trim ${policy.antispoof.trimFraction}) of >= ${policy.antispoof.minFrames} scored quality-passing frames, 5 s windows 1 s apart\n`);
out.push('| frames | n | min | p1 | p5 | p10 | p25 | median | below deployed |');
out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const row = (name: string, v: number[]): string => `| ${name} | ${v.length} | ${f3(Math.min(...v))} | ${f3(q(v, 0.01))} | ${f3(q(v, 0.05))} | ${f3(q(v, 0.1))} | ${f3(q(v, 0.25))} | ${f3(q(v, 0.5))} | ${pct(below(v, deployed))} |`;
out.push(row('live clips (session-counted)', allLive));
out.push(row('NUAA dev real', nuaaReal));
out.push(row('NUAA dev print', nuaaPrint));
out.push(row(`NUAA print runs of ${policy.antispoof.minFrames} (trimmed mean)`, runs8));
out.push(row('NUAA print runs of 20 (trimmed mean)', runsAll));
out.push('\n| clip | counted frames | median score | below deployed | median face width / frame | median effective crop | lowest 5 s window |');
out.push('| --- | --- | --- | --- | --- | --- | --- |');
const at = liveWindows(deployed);
for (const [i, c] of liveFrames.entries()) {
  const w = at.perClip[i];
  out.push(`| ${c.name} | ${c.counted.length} | ${c.counted.length ? f3(q(c.counted, 0.5)) : '–'} | ${c.counted.length ? pct(below(c.counted, deployed)) : '–'} | ${f3(c.width)} | ${c.crop.toFixed(2)} | ${w.lowest === undefined ? '–' : f3(w.lowest)} (${w.spoof}/${w.windows} spoof) |`);
}
out.push('\n| threshold | live clip windows spoof | NUAA print sequence windows live | NUAA real sequence windows spoof | print runs of 8 >= t | print runs of 20 >= t | per-frame APCER NUAA dev | per-frame BPCER NUAA dev real | per-frame BPCER live clips |');
out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const seqWindows = (live: boolean, t: number): { windows: number; spoof: number } => {
  const p: SessionPolicy = { ...policy, antispoof: { ...policy.antispoof, threshold: t } };
  const ws = sequences.filter((q) => q.live === live).map((q) => antispoofWindows(q.signals, p));
  return { windows: ws.reduce((a, w) => a + w.windows, 0), spoof: ws.reduce((a, w) => a + w.spoofWindows, 0) };
};
const maxRun = Math.max(...runs8);
const grid = [...new Set([0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.18, 0.2, 0.22, 0.25, 0.2859, deployed, 0.3, 0.35, Number(maxRun.toFixed(4))])].sort((a, b) => a - b);
for (const t of grid) {
  const w = liveWindows(t);
  const ge = (v: number[]): number => v.filter((s) => s >= t).length;
  const pw = seqWindows(false, t);
  const rw = seqWindows(true, t);
  out.push(`| ${t} | ${w.spoof}/${w.windows} | ${pw.windows - pw.spoof}/${pw.windows} | ${rw.spoof}/${rw.windows} | ${ge(runs8)}/${runs8.length} | ${ge(runsAll)}/${runsAll.length} | ${pct(1 - below(nuaaPrint, t))} | ${pct(below(nuaaReal, t))} | ${pct(below(allLive, t))} |`);
}
out.push('\n| NUAA dev sequence (10 s on a 480x480 canvas) | counted frames | windows | lowest window | highest window | spoof windows at deployed |');
out.push('| --- | --- | --- | --- | --- | --- |');
for (const seq of sequences) {
  const frames = sessionWindowFrames(seq.signals, policy.quality);
  const counted = frames.filter((f) => f.score !== undefined).length;
  const w = antispoofWindows(seq.signals, policy);
  const hi = sequenceHighest(seq.signals);
  out.push(`| ${seq.name} | ${counted} | ${w.windows} | ${w.lowest === undefined ? '–' : f3(w.lowest)} | ${hi === undefined ? '–' : f3(hi)} | ${w.spoofWindows}/${w.windows} |`);
}
const lowestLive = Math.min(...at.perClip.flatMap((c) => (c.lowest === undefined ? [] : [c.lowest])));
out.push(`\nlowest live window ${f3(lowestLive)}; highest print run of ${policy.antispoof.minFrames} ${f3(maxRun)}, of 20 ${f3(Math.max(...runsAll))}`);
process.stdout.write(`${out.join('\n')}\n`);
