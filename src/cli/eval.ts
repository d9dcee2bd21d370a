/**
 * regterm eval verify --pairs CSV [--root DIR] [--json]     (file_a,file_b,same)
 * regterm eval antispoof --labels CSV [--root DIR] [--json] (file,label real|spoof,attack_type)
 * regterm eval pose --labels CSV [--root DIR] [--boxes CSV] [--estimator track|model|landmarks] [--json]
 *                                                          (file,yaw_deg,pitch_deg,roll_deg: eval-pose.ts)
 * regterm eval events DIR... [--cache DIR] [--policy JSON] [--json]   (annotated clips: blinks and turns, clip scan and prompted;
 *                                                          eval-events.ts)
 * regterm eval replay-attack DIR|VIDEO... [--seeds N] [--first-seed K] [--json] (eval-replay-attack.ts)
 *
 * Threshold calibration on a carrier's own data. Paths in the CSV are relative to --root (default: the CSV's folder).
 * verify: every distinct image is embedded once (largest face; cached in memory by path). A pair with an image where
 * no face was found scores -1 (a reject), so accuracy and TAR are end to end. `threshold` is the calibrated threshold
 * for FAR 1e-3; `accuracy` is the best accuracy over thresholds (LFW convention) at `accuracyThreshold`.
 * antispoof: the largest face's live score per image; `threshold` is the EER threshold; APCER per attack type and
 * BPCER are at that threshold, and again at the manifest's configured threshold if it has one.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import pino from 'pino';
import { createLogger } from '../lib/logger.ts';
import { UsageError, isRegtermError } from '../lib/errors.ts';
import { resolvePolicy, type PolicyInput } from '../session/policy.ts';
import { deploymentPolicyBase } from '../session/deployment-policy.ts';
import { type ScoredPair, fitFusion } from '../vision/calibrate.ts';
import { readCsv } from '../vision/csv.ts';
import { EVENTS_COLUMNS } from '../camera/events-csv.ts';
import { FaceEngine } from '../vision/engine.ts';
import { readImageFile } from '../vision/image-file.ts';
import type { FaceTemplate } from '../vision/matcher.ts';
import { accuracyAt, bestAccuracy, equalErrorRate, pad, quantile, tarAtFar } from '../vision/metrics.ts';
import { type CommandContext, parseCommandArgs, writeJson } from './command.ts';
import { BOXES_COLUMNS, POSE_COLUMNS, POSE_ESTIMATORS, type PoseEstimator, boxesCsvFor, evalPose, poseSteps, readPoseLabels } from './eval-pose.ts';
import { evalEvents, eventsTable } from './eval-events.ts';
import { progress } from './progress.ts';

/** The columns of the pairs CSV (verify) and of the labels CSV (antispoof); further columns are ignored. */
export const PAIRS_COLUMNS = ['file_a', 'file_b', 'same'] as const;
export const ANTISPOOF_COLUMNS = ['file', 'label', 'attack_type'] as const;

export const USAGE = `usage: regterm eval verify --pairs CSV [--root DIR] [--scores-out CSV] [--fit-fusion] [--models-dir DIR] [--json]
       regterm eval antispoof --labels CSV [--root DIR] [--antispoof-crop S] [--models-dir DIR] [--json]
       regterm eval pose --labels CSV [--root DIR] [--boxes CSV] [--estimator ${POSE_ESTIMATORS.join('|')}] [--models-dir DIR] [--json]
       regterm eval events DIR... [--cache DIR] [--policy JSON] [--models-dir DIR] [--json]
       regterm eval replay-attack DIR|VIDEO... [--seeds N] [--first-seed K] [--models-dir DIR] [--json]
Threshold calibration and accuracy on a carrier's own data. CSVs have a header row (RFC 4180 quoting; further
columns are ignored); their paths are relative to --root (default: the CSV's folder).
  verify       --pairs CSV: ${PAIRS_COLUMNS.join(',')} (same: 1 or 0); 1:1 accuracy, EER, TAR and the threshold at FAR 1e-3
  antispoof    --labels CSV: ${ANTISPOOF_COLUMNS.join(',')} (label: real or spoof); EER, APCER per attack type, BPCER
  pose         --labels CSV: ${POSE_COLUMNS.join(',')}; --boxes CSV: ${BOXES_COLUMNS.join(',')}
               (default: face_boxes.csv beside the labels): head-pose error of --estimator
  events       every <clip>.mp4 with a <clip>.events.csv (${EVENTS_COLUMNS.join(',')}; seconds) under DIR: blinks and turns
               found (clip scan) and answered (prompted), prompts answered anyway (incidental, and by the clip looped)
  replay-attack  each clip (or DIR's *.mp4) looped in front of the camera for --seeds sessions: how many match
  --root DIR          where the CSV's paths are relative to
  --scores-out CSV    verify: write per-pair scores (fused and per embedder; no embeddings)
  --fit-fusion        verify: also fit the fusion weights and threshold (2-fold cross-validated)
  --antispoof-crop S  antispoof: the face crop scale fed to the anti-spoof model
  --cache DIR         events: keep each clip's per-frame signals here
  --policy JSON       events: a session policy to score (default: the deployment's)
  --seeds N           replay-attack: sessions per clip, each with its own challenges and pauses (default 5)
  --first-seed K      replay-attack: number the seeds from K (default 0), to add a run to an earlier one
  --models-dir DIR    load the model files from DIR
  --json              the report as indented JSON
On a terminal, progress with an ETA goes to stderr.`;

export async function run(ctx: CommandContext): Promise<number> {
  if (ctx.argv[0] === 'replay-attack') return (await import('./eval-replay-attack.ts')).run({ ...ctx, argv: ctx.argv.slice(1) });
  const parsed = parseCommandArgs('eval', {
    args: ctx.argv,
    allowPositionals: true,
    options: {
      pairs: { type: 'string' },
      labels: { type: 'string' },
      root: { type: 'string' },
      json: { type: 'boolean', default: false },
      'models-dir': { type: 'string' },
      'antispoof-crop': { type: 'string' },
      // verify: write per-pair scores (fused and per embedder; no embeddings) as CSV for fusion calibration
      'scores-out': { type: 'string' },
      // verify: also fit fusion weights, impostor normalisation and the FAR 1e-3 threshold (2-fold cross-validated)
      'fit-fusion': { type: 'boolean', default: false },
      // pose: the labelled faces' boxes (default: face_boxes.csv beside --labels) and what is measured
      boxes: { type: 'string' },
      estimator: { type: 'string', default: 'track' },
      // events: keep each clip's per-frame signals here (eval-events.ts), and a session policy to score (JSON)
      cache: { type: 'string' },
      policy: { type: 'string' },
    },
  });
  const [sub, ...dirs] = parsed.positionals;
  const v = parsed.values;
  if (sub === 'events') return events(ctx, dirs, v);
  const csv = sub === 'verify' ? v.pairs : sub === 'antispoof' || sub === 'pose' ? v.labels : undefined;
  if (!csv) throw new UsageError(USAGE);
  const estimator = POSE_ESTIMATORS.find((e) => e === v.estimator);
  if (!estimator) throw new UsageError(`--estimator must be one of ${POSE_ESTIMATORS.join(', ')}`);
  const root = v.root ?? dirname(resolve(csv));
  const crop = v['antispoof-crop'] === undefined ? undefined : Number(v['antispoof-crop']);
  if (crop !== undefined && !(crop > 0)) throw new UsageError('--antispoof-crop must be a positive number');
  const engine = new FaceEngine({ modelsDir: v['models-dir'], antispoofCropScale: crop });
  await engine.start();
  try {
    const report =
      sub === 'verify'
        ? await verify(engine, csv, root, ctx, { scoresOut: v['scores-out'], fitFusion: v['fit-fusion'] })
        : sub === 'pose'
          ? await pose(engine, csv, v.boxes, root, estimator, ctx)
          : await antispoof(engine, csv, root, ctx);
    if (v.json) writeJson(ctx.stdout, report);
    else ctx.stdout.write(`${JSON.stringify(report)}\n`);
    return 0;
  } finally {
    await engine.stop();
  }
}

async function events(
  ctx: CommandContext, dirs: string[], v: { json: boolean; cache?: string; policy?: string; 'models-dir'?: string },
): Promise<number> {
  if (dirs.length === 0) throw new UsageError(USAGE);
  let input: PolicyInput;
  try {
    input = v.policy === undefined ? {} : JSON.parse(v.policy);
  } catch (e: unknown) {
    throw new UsageError(`--policy: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const engine = new FaceEngine({ modelsDir: v['models-dir'] });
  await engine.start();
  try {
    const policy = resolvePolicy(input, deploymentPolicyBase(engine));
    const logger = createLogger({ level: ctx.env.LOG_LEVEL ?? 'warn', destination: pino.destination({ dest: 2, sync: true }) });
    const report = await evalEvents(engine, dirs, policy, logger, { cacheDir: v.cache, stderr: ctx.stderr });
    if (v.json) writeJson(ctx.stdout, report);
    else ctx.stdout.write(eventsTable(report));
    return 0;
  } finally {
    await engine.stop();
  }
}

async function verify(
  engine: FaceEngine,
  csv: string,
  root: string,
  ctx: CommandContext,
  opts: { scoresOut?: string; fitFusion?: boolean },
): Promise<object> {
  const rows = await readCsv(csv, PAIRS_COLUMNS);
  const cache = new Map<string, FaceTemplate | null>();
  const embedMs: number[] = [];
  const started = performance.now();
  const template = async (file: string): Promise<FaceTemplate | null> => {
    const hit = cache.get(file);
    if (hit !== undefined) return hit;
    const t0 = performance.now();
    const img = await readImageFile(resolve(root, file));
    const face = await engine.largestFace(img);
    const t = face ? await engine.embed(img, face) : null;
    embedMs.push(performance.now() - t0);
    cache.set(file, t);
    return t;
  };
  const pos: number[] = [];
  const neg: number[] = [];
  const failed = new Set<string>();
  let failedPairs = 0;
  const embedders = Object.keys(engine.fusion.weights);
  const lines = [['file_a', 'file_b', 'same', 'similarity', ...embedders].join(',')];
  const scored: ScoredPair[] = [];
  const bar = progress(ctx.stderr, 'eval verify', rows.length);
  for (const row of rows) {
    const a = await template(row.file_a);
    const b = await template(row.file_b);
    if (!a) failed.add(row.file_a);
    if (!b) failed.add(row.file_b);
    const m = a && b ? engine.compare(a, b) : { similarity: -1, perEmbedder: {} as Record<string, number> };
    if (!a || !b) failedPairs++;
    (row.same === '1' ? pos : neg).push(m.similarity);
    scored.push({ same: row.same === '1', scores: a && b ? m.perEmbedder : undefined });
    lines.push([row.file_a, row.file_b, row.same, m.similarity, ...embedders.map((e) => m.perEmbedder[e] ?? -1)].join(','));
    bar.tick();
  }
  bar.done();
  if (opts.scoresOut) await writeFile(opts.scoresOut, `${lines.join('\n')}\n`);
  const totalMs = performance.now() - started;
  const best = bestAccuracy(pos, neg);
  const at2 = tarAtFar(pos, neg, 1e-2);
  const at3 = tarAtFar(pos, neg, 1e-3);
  const configured = engine.fusion.threshold;
  return {
    pairs: rows.length,
    accuracy: best.accuracy,
    accuracyThreshold: best.threshold,
    eer: equalErrorRate(pos, neg).eer,
    threshold: at3.threshold,
    tarAtFar: { '1e-2': at2.tar, '1e-3': at3.tar },
    thresholdAtFar: { '1e-2': at2.threshold, '1e-3': at3.threshold },
    failedToDetect: failed.size,
    failedPairs,
    configured: { threshold: configured, accuracy: accuracyAt(pos, neg, configured) },
    ...(opts.fitFusion ? { fusionFit: fitFusion(scored, embedders) } : {}),
    timing: {
      images: cache.size,
      embedMedianMs: quantile(embedMs, 0.5),
      embedP90Ms: quantile(embedMs, 0.9),
      perPairMs: totalMs / Math.max(1, rows.length),
      totalMs,
    },
  };
}

async function pose(
  engine: FaceEngine, csv: string, boxes: string | undefined, root: string, estimator: PoseEstimator, ctx: CommandContext,
): Promise<object> {
  const labels = await readPoseLabels(csv, boxesCsvFor(csv, boxes));
  const bar = progress(ctx.stderr, 'eval pose', poseSteps(labels.length, estimator));
  try {
    return await evalPose(engine, labels, root, estimator, bar);
  } finally {
    bar.done();
  }
}

async function antispoof(engine: FaceEngine, csv: string, root: string, ctx: CommandContext): Promise<object> {
  const rows = await readCsv(csv, ANTISPOOF_COLUMNS);
  const real: number[] = [];
  const attacks: Record<string, number[]> = {};
  let failedToDetect = 0;
  const bar = progress(ctx.stderr, 'eval antispoof', rows.length);
  for (const [i, row] of rows.entries()) {
    if (row.label !== 'real' && row.label !== 'spoof') throw new UsageError(`${csv}: row ${i + 2}: label must be real|spoof`);
    let score = 0;
    try {
      const img = await readImageFile(resolve(root, row.file));
      const [face] = await engine.analyzeFrame(img, { maxFaces: 1 });
      if (face) score = face.antispoof;
      else failedToDetect++;
    } catch (e: unknown) {
      if (!isRegtermError(e)) throw e;
      bar.note(`eval: ${e.message}`);
      failedToDetect++;
    }
    // no face = treated as an attack (score 0): a rejected bona fide counts against BPCER, honestly
    if (row.label === 'real') real.push(score);
    else (attacks[row.attack_type || 'unknown'] ??= []).push(score);
    bar.tick();
  }
  bar.done();
  const allAttacks = Object.values(attacks).flat();
  const { eer, threshold } = equalErrorRate(real, allAttacks);
  const at = pad(real, attacks, threshold);
  const configured = engine.antispoofThreshold;
  return {
    images: rows.length,
    ...at,
    threshold,
    eer,
    failedToDetect,
    ...(configured === undefined ? {} : { configured: { threshold: configured, ...pad(real, attacks, configured) } }),
  };
}

