/**
 * Study (issue #3): what the landmark pose costs and what per-frame tracking would cost without fr_pose.
 *   node --import tsx research/landmark-pose-bench.ts [--image FILE] [--iterations 200]
 * On the bench frame (`regterm bench`: the face-api demo photo sample1.jpg scaled and centre-cropped to 640x480):
 * 1. landmarkPose alone: median of `iterations` batches of 1000 calls on the frame's real landmarks, ms per call;
 * 2. the tracking stage three ways, taking turns call by call so load from other processes falls on all alike:
 *    FaceEngine.analyzeFrame (largest face; what ships), and the same steps rebuilt from the engine's own model
 *    classes (detect, landmarks, 5 points, eyes, quality, anti-spoof) with fr_pose (pose crop + model) or with
 *    landmarkPose in its place; plus the median of each step timed inside the rebuilt pipeline.
 * Prints JSON. The frame and landmarks live in memory only.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { fivePoints } from '../src/vision/align.ts';
import { AntispoofModel } from '../src/vision/antispoof.ts';
import { Detector, boxArea } from '../src/vision/detector.ts';
import { FaceEngine } from '../src/vision/engine.ts';
import { EyeModel } from '../src/vision/eyes.ts';
import type { RgbImage } from '../src/vision/image.ts';
import { readImageFile } from '../src/vision/image-file.ts';
import { LandmarkModel } from '../src/vision/landmarks.ts';
import { PoseModel } from '../src/vision/pose.ts';
import { measureQuality } from '../src/vision/quality.ts';
import { landmarkPose } from '../src/vision/landmark-pose.ts';
import { quantile } from '../scripts/models/measure.ts';

const { values } = parseArgs({ options: { image: { type: 'string' }, iterations: { type: 'string', default: '200' } } });
const iterations = Number(values.iterations);
const photo = values.image ?? join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo', 'sample1.jpg');
const src = await readImageFile(photo);
const buf = await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } }).resize(640, 480, { fit: 'cover' }).raw().toBuffer();
const frame: RgbImage = { width: 640, height: 480, data: new Uint8Array(buf.buffer, buf.byteOffset, buf.length) };

const engine = new FaceEngine();
await engine.start();
try {
  const reg = engine.registry;
  const detector = new Detector(await reg.load('detect'));
  const landmarks = new LandmarkModel(await reg.load('landmark'));
  const eyes = new EyeModel(await reg.load('eye'));
  const pose = new PoseModel(await reg.load('pose'));
  const antispoof = new AntispoofModel(await reg.load('liveness'));
  const steps: Record<string, number[]> = {};
  const timed = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    (steps[name] ??= []).push(performance.now() - t0);
    return r;
  };
  /** FaceEngine.analyzeFrame's steps for the largest face, with the chosen pose source. */
  const rebuilt = async (withModel: boolean): Promise<unknown> => {
    const dets = (await timed('detect', () => detector.detect(frame))).sort((a, b) => boxArea(b.box) - boxArea(a.box));
    const d = dets[0];
    const lm = await timed('landmark', () => landmarks.predict(frame, d.box));
    const p5 = fivePoints(lm);
    const angles = withModel ? await timed('fr_pose (crop + model)', () => pose.predict(frame, d.box)) : await timed('landmarkPose', () => landmarkPose(lm));
    const eye = await timed('eyes (2 crops + 2 runs)', () => eyes.predict(frame, lm));
    const quality = await timed('quality', () => measureQuality(frame, d.box, lm));
    const live = await timed('anti-spoof (crop + model)', () => antispoof.score(frame, d.box));
    return { p5, angles, eye, quality, live };
  };

  const [face] = await engine.analyzeFrame(frame, { maxFaces: 1 });
  if (!face) throw new Error(`no face in ${photo}`);
  const lm = Float32Array.from(face.landmarks68);
  const perCall: number[] = [];
  for (let i = 0; i < 3; i++) landmarkPose(lm);
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    for (let k = 0; k < 1000; k++) landmarkPose(lm);
    perCall.push((performance.now() - t0) / 1000);
  }
  lm.fill(0);

  const t = { analyzeFrame: [] as number[], withFrPose: [] as number[], withLandmarkPose: [] as number[] };
  for (let i = 0; i < iterations + 5; i++) {
    const t0 = performance.now();
    await engine.analyzeFrame(frame, { maxFaces: 1 });
    const t1 = performance.now();
    await rebuilt(true);
    const t2 = performance.now();
    await rebuilt(false);
    const t3 = performance.now();
    if (i < 5) {
      for (const k of Object.keys(steps)) steps[k].length = 0;
      continue;
    }
    t.analyzeFrame.push(t1 - t0);
    t.withFrPose.push(t2 - t1);
    t.withLandmarkPose.push(t3 - t2);
  }
  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  const med = (xs: number[]): number => r3(quantile(xs, 0.5));
  process.stdout.write(`${JSON.stringify({
    image: photo,
    iterations,
    landmarkPoseMsPerCall: { median: Number(quantile(perCall, 0.5).toPrecision(3)), p90: Number(quantile(perCall, 0.9).toPrecision(3)) },
    trackingMs: {
      analyzeFrame: med(t.analyzeFrame),
      rebuiltWithFrPose: med(t.withFrPose),
      rebuiltWithLandmarkPose: med(t.withLandmarkPose),
      medianPairedSaving: med(t.withFrPose.map((x, i) => x - t.withLandmarkPose[i])),
    },
    stepMedianMs: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, med(v)])),
  }, null, 2)}\n`);
} finally {
  frame.data.fill(0);
  await engine.stop();
}
