/**
 * Verifies models/iris.onnx (scripts/build-human-models.ts) against the ORIGINAL tfjs graph (iris.json run by tfjs's
 * cpu backend in a child process, scripts/tfjs-graph-reference.ts) on real eye crops: the first --photos photos of
 * face_recognition_examples and deepface_unit_tests with a detected face, both eyes each. Prints the largest absolute
 * difference of the 228 outputs (crop pixels) and the ONNX latency (onnxruntime-node, 1 thread, median).
 *
 *   node --import tsx research/verify-iris.ts [--model FILE] [--cache DIR] [--photos 10] [--tolerance 5e-4]
 *
 * Eye crops are the engine's (src/vision/iris.ts eyeCrop, MediaPipe's getEyeBox on the 68 landmarks' eye corners) and
 * live in memory only. Exit code 1 if any difference exceeds the tolerance.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { FaceEngine } from '../src/vision/engine.ts';
import { readImageFile } from '../src/vision/image-file.ts';
import { EYE_CROP_FLOATS, IRIS_INPUT_SHAPE, eyeCrop, lidOpening } from '../src/vision/iris.ts';
import { DEFAULT_CACHE, DEFAULT_IRIS_OUT, HUMAN_MODELS_VERSION, cachedTarball } from '../scripts/build-human-models.ts';
import { readLabels } from '../scripts/faceapi-chips.ts';
import { tfjsReference } from '../scripts/tfjs-child.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Iris centre (point 71) in crop pixels: a plausibility read beside the lid opening. */
const irisCentre = (out: Float32Array): [number, number] => [out[213], out[214]];

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
    for (const eye of ['right', 'left'] as const) {
      crops.push(eyeCrop(img, face.landmarks68, eye, new Float32Array(EYE_CROP_FLOATS), new Float32Array(EYE_CROP_FLOATS)));
    }
  }
  await engine.stop();

  const modelBytes = readFileSync(values.model);
  const session = await ort.InferenceSession.create(modelBytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const run = async (x: Float32Array): Promise<Float32Array> =>
    Float32Array.from((await session.run({ input_1: new ort.Tensor('float32', x, [...IRIS_INPUT_SHAPE]) })).Identity.data as Float32Array);
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
    lidOpening: median(onnx.map((o) => lidOpening(o))),
    irisCentreMedian: [median(onnx.map((o) => irisCentre(o)[0])), median(onnx.map((o) => irisCentre(o)[1]))],
    onnxMsMedian1Thread: times[times.length >> 1],
    onnxMsP90: times[Math.floor(times.length * 0.9)],
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return maxAbs <= tolerance ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main();
