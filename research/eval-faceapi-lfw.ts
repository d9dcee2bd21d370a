/**
 * End-to-end 1:1 verification on a pairs CSV (default LFW View 1 pairsDevTrain, 1100 same / 1100 different) with
 * the face engine's detector + 68 landmarks, comparing:
 *   feature        fr_feature (faceplugin) through the engine's own alignment (manifest template)
 *   faceapi5       faceapi-resnet, least-squares similarity on the 5 points onto dlibChipTemplate5()
 *   faceapi33      faceapi-resnet, dlib's own 33-landmark fit onto dlibChipTemplate68() (get_face_chip_details)
 *   faceapi33flip  as faceapi33, embedding = normalised mean of the chip's and its mirror image's embeddings
 *   faceapi33raw   as faceapi33, score = -euclidean distance of the raw descriptors (dlib's native metric)
 *   fused*         score fusion of feature with FUSE_WITH (faceapi33flip; see below)
 *
 *   node --import tsx research/eval-faceapi-lfw.ts [--pairs CSV] [--root DIR] [--limit N]
 *
 * Fusion is chosen by measurement, never on the pairs it is scored on: 2-fold cross-validation over pairs (even /
 * odd rows). On the fitting fold each score is z-normalised with the mean/std of its DIFFERENT-pair scores and the
 * weight w of `w·z(FUSE_WITH) + (1-w)·z(feature)` is picked from 0, 0.05, …, 1 for the lowest EER; the other fold is
 * scored with those parameters. `fusedMean` is the untrained weighted mean of raw cosines (matcher.ts fuse, 1:1).
 * An image with no detected face scores -1e9 in every method (a reject), so rates are end to end.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fivePoints, similarityTransform, type Point } from '../src/vision/align.ts';
import { boxArea } from '../src/vision/detector.ts';
import { dlibChipTemplate5, dlibChipTemplate68, FaceapiEmbedder, FACEAPI_TENSOR_SPEC } from '../scripts/faceapi-embedder.ts';
import { FaceEngine } from '../src/vision/engine.ts';
import { decodeImage, type RgbImage } from '../src/vision/image.ts';
import { LandmarkModel } from '../src/vision/landmarks.ts';
import { cosine } from '../src/vision/matcher.ts';
import { bestAccuracy, equalErrorRate, tarAtFar } from '../src/vision/metrics.ts';
import { invertAffine, warpToTensor } from '../src/vision/warp.ts';
import { DATA_DIR } from '../scripts/faceapi-chips.ts';

interface Vectors {
  feature: Float32Array;
  faceapi5: Float32Array;
  faceapi33: Float32Array;
  faceapi33flip: Float32Array;
  faceapi33raw: Float32Array;
}
type Method = keyof Vectors;
const METHODS: Method[] = ['feature', 'faceapi5', 'faceapi33', 'faceapi33flip', 'faceapi33raw'];
const FUSE_WITH: Method = 'faceapi33flip';

interface Pair {
  same: boolean;
  scores: Record<Method, number>;
}

function summary(pos: number[], neg: number[]): Record<string, number> {
  const acc = bestAccuracy(pos, neg);
  const eer = equalErrorRate(pos, neg);
  const at = tarAtFar(pos, neg, 1e-3);
  return { accuracy: acc.accuracy, eer: eer.eer, eerThreshold: eer.threshold, tarAtFar1e3: at.tar, thresholdAtFar1e3: at.threshold };
}

function split(pairs: Pair[], score: (p: Pair) => number): [number[], number[]] {
  const pos: number[] = [];
  const neg: number[] = [];
  for (const p of pairs) (p.same ? pos : neg).push(score(p));
  return [pos, neg];
}

function impostorStats(pairs: Pair[], m: Method): { mean: number; std: number } {
  const s = pairs.filter((p) => !p.same && p.scores[m] > -1e9).map((p) => p.scores[m]);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const std = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length);
  return { mean, std };
}

interface FusionFit {
  w: number;
  a: { mean: number; std: number };
  b: { mean: number; std: number };
}

function fusedScore(f: FusionFit, p: Pair): number {
  if (p.scores.feature <= -1e9) return -1e9;
  return f.w * ((p.scores[FUSE_WITH] - f.a.mean) / f.a.std) + (1 - f.w) * ((p.scores.feature - f.b.mean) / f.b.std);
}

function fitFusion(pairs: Pair[]): FusionFit {
  const a = impostorStats(pairs, FUSE_WITH);
  const b = impostorStats(pairs, 'feature');
  let best: FusionFit = { w: 0, a, b };
  let bestEer = Infinity;
  for (let k = 0; k <= 20; k++) {
    const fit = { w: k / 20, a, b };
    const [pos, neg] = split(pairs, (p) => fusedScore(fit, p));
    const { eer } = equalErrorRate(pos, neg);
    if (eer < bestEer - 1e-12) {
      bestEer = eer;
      best = fit;
    }
  }
  return best;
}

async function embedAll(engine: FaceEngine, landmarks: LandmarkModel, faceapi: FaceapiEmbedder, faceapiFlip: FaceapiEmbedder, img: RgbImage): Promise<Vectors | null> {
  const dets = await engine.detect(img);
  if (dets.length === 0) return null;
  const det = dets.reduce((a, b) => (boxArea(b.box) > boxArea(a.box) ? b : a));
  const lm = await landmarks.predict(img, det.box);
  const p5 = fivePoints(lm);
  const chip = new Float32Array(3 * 150 * 150);
  const faceapiVia = async (src: readonly Point[], dst: readonly Point[]): Promise<Float32Array> => {
    warpToTensor(img, invertAffine(similarityTransform(src, dst)), 150, 150, FACEAPI_TENSOR_SPEC, chip);
    return faceapi.embedTensor(chip);
  };
  const t68 = dlibChipTemplate68();
  const src33 = t68.landmarks.map((i): Point => [lm[2 * i], lm[2 * i + 1]]);
  const feature = (await engine.embed(img, { points5: p5 })).feature;
  if (!feature) throw new Error('the engine has no "feature" embedder');
  const faceapi5 = await faceapiVia(p5, dlibChipTemplate5());
  const faceapi33 = await faceapiVia(src33, t68.points);
  const faceapi33raw = await faceapi.embedRaw(chip);
  const faceapi33flip = await faceapiFlip.embedTensor(chip);
  return { feature, faceapi5, faceapi33, faceapi33flip, faceapi33raw };
}

function score(m: Method, a: Float32Array, b: Float32Array): number {
  if (m === 'feature') return cosine(a, b);
  if (m === 'faceapi33raw') return -Math.hypot(...a.map((v, i) => v - b[i]));
  return cosine(a, b);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string', default: `${DATA_DIR}/lfw_view1/pairs.csv` },
      root: { type: 'string' },
      limit: { type: 'string' },
    },
  });
  const root = values.root ?? dirname(resolve(values.pairs));
  let rows = (await readFile(values.pairs, 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
  if (values.limit) rows = rows.slice(0, Number(values.limit));

  const engine = new FaceEngine();
  const faceapi = new FaceapiEmbedder();
  const faceapiFlip = new FaceapiEmbedder({ flip: true });
  await engine.start();
  await faceapi.start();
  await faceapiFlip.start();
  const landmarks = new LandmarkModel(await engine.registry.load('landmark'));
  const cache = new Map<string, Vectors | null>();
  const t0 = performance.now();
  const vectors = async (file: string): Promise<Vectors | null> => {
    if (!cache.has(file)) {
      cache.set(file, await embedAll(engine, landmarks, faceapi, faceapiFlip, await decodeImage(await readFile(resolve(root, file)), file)));
      if (cache.size % 500 === 0) process.stderr.write(`${cache.size} images\n`);
    }
    return cache.get(file) ?? null;
  };
  const pairs: Pair[] = [];
  try {
    for (const [a, b, same] of rows) {
      const va = await vectors(a);
      const vb = await vectors(b);
      const scores = {} as Record<Method, number>;
      for (const m of METHODS) scores[m] = va && vb ? score(m, va[m], vb[m]) : -1e9;
      pairs.push({ same: same === '1', scores });
    }
  } finally {
    await faceapi.stop();
    await faceapiFlip.stop();
    await engine.stop();
  }
  const msPerImage = (performance.now() - t0) / cache.size;

  const report: Record<string, unknown> = {
    pairs: pairs.length,
    images: cache.size,
    noFace: [...cache.values()].filter((v) => v === null).length,
    msPerImage,
  };
  for (const m of METHODS) report[m] = summary(...split(pairs, (p) => p.scores[m]));
  report.fusedMean = summary(...split(pairs, (p) => (p.scores.feature <= -1e9 ? -1e9 : (p.scores.feature + p.scores[FUSE_WITH]) / 2)));

  // 2-fold cross-validated z-score fusion: fit on one fold, score the other, pool the held-out scores.
  const folds = [pairs.filter((_, i) => i % 2 === 0), pairs.filter((_, i) => i % 2 === 1)];
  const fits = folds.map((f) => fitFusion(f));
  const heldOut: Pair[] = [];
  const heldScores: number[] = [];
  for (let k = 0; k < 2; k++) {
    for (const p of folds[1 - k]) {
      heldOut.push(p);
      heldScores.push(fusedScore(fits[k], p));
    }
  }
  const idx = new Map(heldOut.map((p, i) => [p, i]));
  report.fusedZ_crossValidated = {
    weightsFaceapiPerFold: fits.map((f) => f.w),
    ...summary(...split(heldOut, (p) => heldScores[idx.get(p) ?? 0])),
  };
  const all = fitFusion(pairs);
  report.fusedZ_fitOnAll = { weightFaceapi: all.w, faceapiImpostor: all.a, featureImpostor: all.b, ...summary(...split(pairs, (p) => fusedScore(all, p))) };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

await main();
