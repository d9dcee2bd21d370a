/**
 * Verifies models/iris.onnx (scripts/build-human-models.ts) against the ORIGINAL tfjs graph (iris.json run by tfjs's
 * cpu backend in a child process, scripts/tfjs-graph-reference.ts) on real eye crops: the first --photos photos of
 * face_recognition_examples and deepface_unit_tests with a detected face, both eyes each. Prints the largest absolute
 * difference of the 228 outputs (crop pixels) and the ONNX latency (onnxruntime-node, 1 thread, median).
 *
 *   node --import tsx scripts/verify-iris.ts [--model FILE] [--cache DIR] [--photos 10] [--tolerance 5e-4]
 *
 * Eye crop (human's src/face/iris.ts getEyeBox): the box spanned by the eye's two corners (here iBUG 36/39 and 42/45
 * from the engine's 68 landmarks), enlarged 2.3x about its centre, made square on its longer side, resized to 64x64
 * RGB, pixel / 255; the eye on the image's right is flipped horizontally (the model's native eye is the image-left
 * one). Crops live in memory only. Exit code 1 if any difference exceeds the tolerance.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { FaceEngine } from '../src/vision/engine.ts';
import { readImageFile } from '../src/vision/image-file.ts';
import type { RgbImage } from '../src/vision/image.ts';
import { cropMap, warpToTensor } from '../src/vision/warp.ts';
import { DEFAULT_CACHE, DEFAULT_IRIS_OUT, HUMAN_MODELS_VERSION, cachedTarball } from './build-human-models.ts';
import { readLabels } from './faceapi-chips.ts';
import { tfjsReference } from './tfjs-child.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const IRIS_SIZE = 64;
/** human's irisEnlarge */
export const IRIS_ENLARGE = 2.3;

/** human getEyeBox: corners' bounding box, enlarged 2.3x, squared on the longer side, rounded. */
export function eyeBox(ax: number, ay: number, bx: number, by: number): { x1: number; y1: number; x2: number; y2: number } {
  const cx = (ax + bx) / 2;
  const cy = (ay + by) / 2;
  const half = (IRIS_ENLARGE * Math.max(Math.abs(bx - ax), Math.abs(by - ay))) / 2;
  return { x1: Math.round(cx - half), y1: Math.round(cy - half), x2: Math.round(cx + half), y2: Math.round(cy + half) };
}

/** A 64x64 NHWC float crop, RGB / 255, mirrored left-right if `flip`. */
export function eyeCrop(img: RgbImage, box: { x1: number; y1: number; x2: number; y2: number }, flip: boolean): Float32Array {
  const n = IRIS_SIZE * IRIS_SIZE;
  const chw = warpToTensor(img, cropMap(box, IRIS_SIZE, IRIS_SIZE), IRIS_SIZE, IRIS_SIZE, { colour: 'rgb', mean: [0, 0, 0], std: [255, 255, 255] }, new Float32Array(3 * n));
  const hwc = new Float32Array(3 * n);
  for (let y = 0; y < IRIS_SIZE; y++)
    for (let x = 0; x < IRIS_SIZE; x++) {
      const src = y * IRIS_SIZE + (flip ? IRIS_SIZE - 1 - x : x);
      for (let c = 0; c < 3; c++) hwc[(y * IRIS_SIZE + x) * 3 + c] = chw[c * n + src];
    }
  return hwc;
}

/**
 * A plausibility read of one output (not the blink cue itself): lid opening = mean vertical gap between the upper lid
 * (contour points 9-15, MediaPipe EyeUpper0) and the lower lid's inner points (1-7 of EyeLower0 0-8, corner to corner)
 * over the corner distance (points 0-8); and the iris centre (point 71) in crop pixels.
 */
export function eyeReading(out: Float32Array): { opening: number; irisX: number; irisY: number } {
  const y = (i: number): number => out[3 * i + 1];
  const mean = (from: number, to: number): number => {
    let s = 0;
    for (let i = from; i <= to; i++) s += y(i);
    return s / (to - from + 1);
  };
  const width = Math.hypot(out[24] - out[0], out[25] - out[1]);
  return { opening: (mean(1, 7) - mean(9, 15)) / width, irisX: out[213], irisY: out[214] };
}

function tfjsOutputs(modelJson: string, crops: readonly Float32Array[]): Promise<Float32Array[]> {
  return tfjsReference(ROOT, 'tfjs-graph-reference.ts', [modelJson], Buffer.concat(crops.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))));
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: DEFAULT_IRIS_OUT },
      cache: { type: 'string', default: DEFAULT_CACHE },
      photos: { type: 'string', default: '10' },
      tolerance: { type: 'string', default: '5e-4' },
    },
  });
  const tolerance = Number(values.tolerance);
  cachedTarball(values.cache); // verified; build-human-models.ts unpacked iris.json next to it
  const modelJson = join(values.cache, HUMAN_MODELS_VERSION, 'package', 'models', 'iris.json');

  const engine = new FaceEngine();
  await engine.start();
  const crops: Float32Array[] = [];
  const files = [...readLabels('face_recognition_examples'), ...readLabels('deepface_unit_tests')].map((l) => l.file);
  for (const file of files) {
    if (crops.length >= 2 * Number(values.photos)) break;
    const img = await readImageFile(file);
    const [face] = await engine.analyzeFrame(img, { maxFaces: 1 });
    if (face === undefined) continue;
    const lm = face.landmarks68;
    for (const [a, b, flip] of [[36, 39, false], [42, 45, true]] as const) crops.push(eyeCrop(img, eyeBox(lm[2 * a], lm[2 * a + 1], lm[2 * b], lm[2 * b + 1]), flip));
  }
  await engine.stop();

  const modelBytes = readFileSync(values.model);
  const session = await ort.InferenceSession.create(modelBytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const run = async (x: Float32Array): Promise<Float32Array> =>
    Float32Array.from((await session.run({ input_1: new ort.Tensor('float32', x, [1, IRIS_SIZE, IRIS_SIZE, 3]) })).Identity.data as Float32Array);
  const onnx: Float32Array[] = [];
  for (const c of crops) onnx.push(await run(c));
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t0 = performance.now();
    await run(crops[i % crops.length]);
    times.push(performance.now() - t0);
  }
  await session.release();
  times.sort((a, b) => a - b);

  const ref = await tfjsOutputs(modelJson, crops);
  let maxAbs = 0;
  let sumAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < crops.length; i++)
    for (let k = 0; k < 228; k++) {
      const d = Math.abs(onnx[i][k] - ref[i][k]);
      maxAbs = Math.max(maxAbs, d);
      sumAbs += d;
      maxRef = Math.max(maxRef, Math.abs(ref[i][k]));
    }
  const report = {
    model: values.model,
    bytes: modelBytes.length,
    sha256: createHash('sha256').update(modelBytes).digest('hex'),
    crops: crops.length,
    maxAbsDiff: maxAbs,
    meanAbsDiff: sumAbs / (crops.length * 228),
    maxAbsOutput: maxRef,
    tolerance,
    lidOpening: median(onnx.map((o) => eyeReading(o).opening)),
    irisCentreMedian: [median(onnx.map((o) => eyeReading(o).irisX)), median(onnx.map((o) => eyeReading(o).irisY))],
    onnxMsMedian1Thread: times[times.length >> 1],
    onnxMsP90: times[Math.floor(times.length * 0.9)],
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return maxAbs <= tolerance ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main();
