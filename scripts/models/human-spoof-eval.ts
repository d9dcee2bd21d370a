/**
 * Issue #5 study: would human's two passive anti-spoof models (antispoof 128x128 sigmoid, liveness 32x32 softmax;
 * scripts/models/human-spoof-models.ts, cropped as human does: human-face-crop.ts) add a useful second cue to the
 * deployed fr_liveness? Not a test; nothing is written into the repo or the data.
 *
 *   node --import tsx scripts/models/human-spoof-eval.ts [--labels CSV] [--cache DIR] [--json]
 *                                   [--box-scale 1.2] [--inside] [--nuaa-only]
 *
 * a) NUAA per image (the rows and the no-face rule of `regterm eval antispoof`: largest face, score 0 when none):
 *    AUC and EER of fr_liveness (FaceEngine.analyzeFrame(...).antispoof) and of each new model.
 * b) The 13 annotated live clips (the sets of test/hil/session/score-events.ts, through recordingSignals as a session
 *    sees them): per clip the fraction of face frames each model calls spoof at ITS NUAA EER threshold from (a), and
 *    the session's 5 s window rule (spoof-metrics.ts spoofWindows); fr_liveness also at the deployed threshold.
 * c) Honest split by NUAA subject: half A = subjects 1st, 3rd, ... in sorted order, half B = the rest. On A only: each
 *    scorer's EER threshold, and the fusion (mean of live probabilities) over the subset of models (2 or 3) with the
 *    lowest EER; reported on B (AUC, APCER/BPCER at A's threshold) and on the clips at A's threshold. Caveats: the
 *    data's SOURCE.md says real and attack subject ids may not name the same people, and the deployed fr_liveness
 *    int8 build was calibrated on subject 0001 (half A).
 * --box-scale / --inside: the crop variant (human-face-crop.ts CropVariant; default human's own contract); compare
 * variants on half A only. --nuaa-only skips the clips (their tables are then empty).
 * --cache DIR (a tmp dir, never the repo) keeps per-image/per-frame SCORES and pose scalars (no pixels) as JSON, so
 * the report re-runs in seconds; a model or crop change makes it stale.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, type Logger } from '../../src/device/logger.ts';
import { isRegtermError } from '../../src/errors.ts';
import { faceDataRoot } from '../../test/face-data.ts';
import { resolvePolicy } from '../../src/session/policy.ts';
import { recordingSignals } from '../../src/session/recording-signals.ts';
import { deploymentPolicyBase } from '../../src/session/deployment-policy.ts';
import { readCsv } from '../../src/vision/csv.ts';
import { FaceEngine } from '../../src/vision/engine.ts';
import { readImageFile } from '../../src/vision/image-file.ts';
import { type CropVariant, HUMAN_CROP, humanSpoofInputs } from './human-face-crop.ts';
import { HumanSpoofModels } from './human-spoof-models.ts';
import { type ClipFrame, type LabelledScore, type PadReport, type WindowRule, padReport, spoofFrameFraction, spoofWindows } from './spoof-metrics.ts';

const MODELS = ['fr_liveness', 'antispoof', 'liveness'] as const;
type Model = (typeof MODELS)[number];
type Scores = Record<Model, number>;
/** test/hil/session/score-events.ts SETS */
const CLIP_SETS = ['liveportrait_driving_videos', 'sadtalker_hdtf_ref_videos', 'pcavs_pose_source', 'dagan_driving_video'];

interface NuaaRow { readonly subject: string; readonly live: boolean; readonly scores: Scores }
/** `scores[i]` is null for a frame without a face (null, not undefined: it survives the JSON cache). */
interface Clip { readonly name: string; readonly frames: ClipFrame[]; readonly scores: (Scores | null)[] }
/** A scorer: a name and how it reads one score set (a single model, or the mean of several). */
interface Scorer { readonly name: string; readonly of: (s: Scores) => number }

const single = (m: Model): Scorer => ({ name: m, of: (s) => s[m] });
const fusion = (ms: readonly Model[]): Scorer => ({ name: `mean(${ms.join('+')})`, of: (s) => ms.reduce((a, m) => a + s[m], 0) / ms.length });

async function scoreFace(models: HumanSpoofModels, x: { antispoof: Float32Array; liveness: Float32Array }, fr: number): Promise<Scores> {
  const scores = { fr_liveness: fr, antispoof: await models.score('antispoof', x.antispoof), liveness: await models.score('liveness', x.liveness) };
  x.antispoof.fill(0);
  x.liveness.fill(0);
  return scores;
}

async function scoreNuaa(engine: FaceEngine, models: HumanSpoofModels, csv: string, crop: CropVariant): Promise<NuaaRow[]> {
  const root = dirname(resolve(csv));
  const out: NuaaRow[] = [];
  for (const row of await readCsv(csv, ['file', 'label', 'attack_type', 'subject'])) {
    let scores: Scores = { fr_liveness: 0, antispoof: 0, liveness: 0 }; // no face = an attack, as eval antispoof
    try {
      const img = await readImageFile(resolve(root, row.file));
      const [face] = await engine.analyzeFrame(img, { maxFaces: 1 });
      if (face) scores = await scoreFace(models, humanSpoofInputs(img, face.box, crop), face.antispoof);
      img.data.fill(0);
    } catch (e: unknown) {
      if (!isRegtermError(e)) throw e;
    }
    out.push({ subject: row.subject, live: row.label === 'real', scores });
  }
  return out;
}

async function scoreClip(engine: FaceEngine, models: HumanSpoofModels, path: string, logger: Logger, crop: CropVariant): Promise<Omit<Clip, 'name'>> {
  // The frame callback is synchronous: crop there (the frame is zeroed right after), run the models after the clip.
  const crops: (ReturnType<typeof humanSpoofInputs> | undefined)[] = [];
  const { signals } = await recordingSignals(engine, path, logger, (f) => void crops.push(f.faces[0] ? humanSpoofInputs(f.image, f.faces[0].box, crop) : undefined));
  const scores: (Scores | null)[] = [];
  for (const [i, x] of crops.entries()) scores.push(x === undefined ? null : await scoreFace(models, x, signals[i].face?.antispoof ?? 0));
  const frames = signals.map((s) => ({ tsMs: s.tsMs, faceCount: s.faceCount, yawDeg: s.face?.yawDeg, pitchDeg: s.face?.pitchDeg }));
  return { frames, scores };
}

/** Read `file` from the cache dir if there, else compute it and store it there (scores and pose scalars only). */
async function cached<T>(dir: string | undefined, file: string, compute: () => Promise<T>): Promise<T> {
  const path = dir === undefined ? undefined : join(dir, file);
  if (path !== undefined && existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as T;
  const value = await compute();
  if (path !== undefined) writeFileSync(path, JSON.stringify(value));
  return value;
}

interface ClipResult { readonly clip: string; readonly spoofFrames: number; readonly windows: number; readonly spoofWindows: number }

function onClips(clips: readonly Clip[], scorer: Scorer, rule: WindowRule): { perClip: ClipResult[]; spoofWindows: number; windows: number } {
  const perClip = clips.map((c) => {
    const at = (s: Scores | null): number | undefined => (s === null ? undefined : scorer.of(s));
    const w = spoofWindows(c.frames, (i) => at(c.scores[i]) ?? 0, rule);
    return { clip: c.name, spoofFrames: spoofFrameFraction(c.scores.map(at), rule.threshold), windows: w.windows, spoofWindows: w.spoof };
  });
  return { perClip, spoofWindows: perClip.reduce((a, c) => a + c.spoofWindows, 0), windows: perClip.reduce((a, c) => a + c.windows, 0) };
}

const labelled = (rows: readonly NuaaRow[], scorer: Scorer): LabelledScore[] => rows.map((r) => ({ live: r.live, score: scorer.of(r.scores) }));

/** All subsets of 2 or 3 models. */
const FUSIONS: Model[][] = [['fr_liveness', 'antispoof'], ['fr_liveness', 'liveness'], ['antispoof', 'liveness'], [...MODELS]];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      labels: { type: 'string', default: join(faceDataRoot(), 'nuaa_imposter_subset', 'labels.csv') },
      cache: { type: 'string' },
      json: { type: 'boolean', default: false },
      'box-scale': { type: 'string', default: String(HUMAN_CROP.scale) },
      inside: { type: 'boolean', default: HUMAN_CROP.inside },
      'nuaa-only': { type: 'boolean', default: false },
    },
  });
  const crop: CropVariant = { scale: Number(values['box-scale']), inside: values.inside };
  if (!(crop.scale > 0)) throw new Error('--box-scale must be a positive number');
  const key = `${crop.scale}${crop.inside ? '-inside' : ''}`;
  if (values.cache) mkdirSync(values.cache, { recursive: true });
  const logger = createLogger({ level: 'warn' });
  const engine = new FaceEngine();
  await engine.start();
  const models = await HumanSpoofModels.open();
  let nuaa: NuaaRow[];
  const clips: Clip[] = [];
  const policy = resolvePolicy({}, deploymentPolicyBase(engine));
  try {
    nuaa = await cached(values.cache, `nuaa-${key}.json`, () => scoreNuaa(engine, models, values.labels, crop));
    for (const set of values['nuaa-only'] ? [] : CLIP_SETS)
      for (const file of readdirSync(join(faceDataRoot(), set)).filter((f) => f.endsWith('.events.csv')).sort()) {
        const clip = file.replace('.events.csv', '');
        process.stderr.write(`clip ${clip}\n`);
        const c = await cached(values.cache, `${set}--${clip}-${key}.json`, () => scoreClip(engine, models, join(faceDataRoot(), set, `${clip}.mp4`), logger, crop));
        clips.push({ name: clip, ...c });
      }
  } finally {
    await models.release();
    await engine.stop();
  }

  const rule = (threshold: number): WindowRule => ({
    maxYawDeg: policy.quality.maxYawDeg, maxPitchDeg: policy.quality.maxPitchDeg,
    minFrames: policy.antispoof.minFrames, trimFraction: policy.antispoof.trimFraction, threshold,
  });
  // a) + b): whole NUAA, each model at its own EER threshold; fr_liveness also at the deployed threshold.
  const whole = MODELS.map((m) => {
    const nuaaAll = padReport(labelled(nuaa, single(m)));
    return { scorer: m, nuaa: nuaaAll, clips: onClips(clips, single(m), rule(nuaaAll.eerThreshold)) };
  });
  const deployed = policy.antispoof.threshold;
  const deployedRow = { scorer: 'fr_liveness @ deployed', nuaa: padReport(labelled(nuaa, single('fr_liveness')), deployed), clips: onClips(clips, single('fr_liveness'), rule(deployed)) };

  // c) split by subject: choose on A, report on B.
  const subjects = [...new Set(nuaa.map((r) => r.subject))].sort();
  const halfA = new Set(subjects.filter((_, i) => i % 2 === 0));
  const a = nuaa.filter((r) => halfA.has(r.subject));
  const b = nuaa.filter((r) => !halfA.has(r.subject));
  const fusions = FUSIONS.map((ms) => ({ ms, eerA: padReport(labelled(a, fusion(ms))).eer }));
  const chosen = fusions.reduce((best, f) => (f.eerA < best.eerA ? f : best));
  const split = [...MODELS.map(single), fusion(chosen.ms)].map((s) => {
    const onA = padReport(labelled(a, s));
    return { scorer: s.name, a: onA, b: padReport(labelled(b, s), onA.eerThreshold), clips: onClips(clips, s, rule(onA.eerThreshold)) };
  });

  const report = {
    crop,
    nuaa: { images: nuaa.length, live: nuaa.filter((r) => r.live).length, halfA: [...halfA], halfB: subjects.filter((s) => !halfA.has(s)) },
    clips: clips.map((c) => ({ clip: c.name, frames: c.frames.length, faceFrames: c.scores.filter((s) => s !== null).length })),
    windowRule: {
      minFrames: policy.antispoof.minFrames, trimFraction: policy.antispoof.trimFraction, maxYawDeg: policy.quality.maxYawDeg,
      maxPitchDeg: policy.quality.maxPitchDeg, deployedThreshold: deployed,
    },
    wholeNuaa: [...whole, deployedRow],
    fusionCandidatesEerOnA: fusions.map((f) => ({ models: f.ms.join('+'), eerA: f.eerA })),
    split,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(markdown(report.wholeNuaa, split, clips.map((c) => c.name)));
}

const pct = (x: number): string => (Number.isNaN(x) ? '–' : `${(100 * x).toFixed(1)}%`);
const f3 = (x: number): string => x.toFixed(3);

function markdown(
  whole: readonly { scorer: string; nuaa: PadReport; clips: ReturnType<typeof onClips> }[],
  split: readonly { scorer: string; a: PadReport; b: PadReport; clips: ReturnType<typeof onClips> }[],
  clipNames: readonly string[],
): string {
  const lines: string[] = ['## a) NUAA per image (all subjects), each scorer at its own EER threshold', '',
    '| scorer | AUC | EER | threshold | APCER | BPCER | live-clip windows refused | d6 windows |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  const d6 = (c: ReturnType<typeof onClips>): string => {
    const r = c.perClip.find((p) => p.clip === 'd6');
    return r === undefined ? '–' : `${r.spoofWindows}/${r.windows}`;
  };
  for (const w of whole)
    lines.push(`| ${w.scorer} | ${f3(w.nuaa.auc)} | ${f3(w.nuaa.eer)} | ${w.nuaa.threshold.toFixed(4)} | ${pct(w.nuaa.apcer)} | ${pct(w.nuaa.bpcer)} | ${w.clips.spoofWindows}/${w.clips.windows} | ${d6(w.clips)} |`);
  lines.push('', '## b) live clips: frames called spoof / 5 s windows refused, at each scorer\'s NUAA EER threshold', '',
    `| clip | ${whole.map((w) => w.scorer).join(' | ')} |`, `| --- | ${whole.map(() => '---').join(' | ')} |`);
  for (const [k, name] of clipNames.entries())
    lines.push(`| ${name.slice(0, 24)} | ${whole.map((w) => `${pct(w.clips.perClip[k].spoofFrames)} · ${w.clips.perClip[k].spoofWindows}/${w.clips.perClip[k].windows}`).join(' | ')} |`);
  lines.push('', '## c) threshold chosen on NUAA half A, reported on half B and on the live clips', '',
    '| scorer | EER A | threshold (A) | AUC B | APCER B | BPCER B | live-clip windows refused | d6 windows | d6 frames |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const s of split) {
    const r = s.clips.perClip.find((p) => p.clip === 'd6');
    lines.push(`| ${s.scorer} | ${f3(s.a.eer)} | ${s.a.eerThreshold.toFixed(4)} | ${f3(s.b.auc)} | ${pct(s.b.apcer)} | ${pct(s.b.bpcer)} | ${s.clips.spoofWindows}/${s.clips.windows} | ${d6(s.clips)} | ${r === undefined ? '–' : pct(r.spoofFrames)} |`);
  }
  return `${lines.join('\n')}\n`;
}

await main();
