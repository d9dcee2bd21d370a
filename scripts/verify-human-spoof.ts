/**
 * Verifies the ONNX conversions of human's antispoof and liveness models (scripts/build-human-models.ts, converted in
 * memory) against the ORIGINAL tfjs graphs (tfjs cpu backend in a child process, scripts/tfjs-graph-reference.ts) on
 * real face crops: every --nuaa-every-th NUAA photo (printed attacks and real faces) and the first --photos photos of
 * face_recognition_examples with a detected face, cropped as human does (scripts/models/human-face-crop.ts). Prints
 * per model the largest absolute output difference and the ONNX latency (onnxruntime-node, 1 thread, median of 200).
 *
 *   node --import tsx scripts/verify-human-spoof.ts [--cache DIR] [--photos 12] [--nuaa-every 20] [--tolerance 1e-5]
 *
 * Crops live in memory only (they reach the tfjs child over a pipe). Exit code 1 if any difference exceeds the tolerance.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FaceEngine } from '../src/vision/engine.ts';
import { readImageFile } from '../src/vision/image-file.ts';
import { median } from '../src/vision/metrics.ts';
import { DEFAULT_CACHE, extractHumanModel } from './build-human-models.ts';
import { readLabels } from './faceapi-chips.ts';
import { humanSpoofInputs } from './models/human-face-crop.ts';
import { HUMAN_SPOOF_MODELS, HumanSpoofModels, type HumanSpoofModel } from './models/human-spoof-models.ts';
import { tfjsReference } from './tfjs-child.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cache: { type: 'string', default: DEFAULT_CACHE },
      photos: { type: 'string', default: '12' },
      'nuaa-every': { type: 'string', default: '20' },
      tolerance: { type: 'string', default: '1e-5' },
    },
  });
  const tolerance = Number(values.tolerance);
  const nuaa = readLabels('nuaa_imposter_subset').filter((_, i) => i % Number(values['nuaa-every']) === 0);
  const photos = readLabels('face_recognition_examples').slice(0, Number(values.photos));

  const engine = new FaceEngine();
  await engine.start();
  const inputs: Record<HumanSpoofModel, Float32Array[]> = { antispoof: [], liveness: [] };
  try {
    for (const { file } of [...nuaa, ...photos]) {
      const img = await readImageFile(file);
      const [face] = await engine.analyzeFrame(img, { maxFaces: 1 });
      const x = face === undefined ? undefined : humanSpoofInputs(img, face.box);
      img.data.fill(0);
      if (x === undefined) continue;
      inputs.antispoof.push(x.antispoof);
      inputs.liveness.push(x.liveness);
    }
  } finally {
    await engine.stop();
  }

  const models = await HumanSpoofModels.open(values.cache);
  const report: Record<string, unknown> = { crops: inputs.antispoof.length, tolerance };
  let worst = 0;
  try {
    for (const name of Object.keys(HUMAN_SPOOF_MODELS) as HumanSpoofModel[]) {
      const xs = inputs[name];
      const onnx: Float32Array[] = [];
      for (const x of xs) onnx.push(await models.run(name, x));
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        await models.run(name, xs[i % xs.length]);
        times.push(performance.now() - t0);
      }
      const ref = await tfjsReference(ROOT, 'tfjs-graph-reference.ts', [extractHumanModel(name, values.cache)], Buffer.concat(xs.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))));
      let maxAbs = 0;
      for (let i = 0; i < xs.length; i++) for (let k = 0; k < ref[i].length; k++) maxAbs = Math.max(maxAbs, Math.abs(onnx[i][k] - ref[i][k]));
      worst = Math.max(worst, maxAbs);
      const scores = onnx.map((o) => o[0]);
      times.sort((a, b) => a - b);
      report[name] = {
        outputs: ref[0].length,
        maxAbsDiff: maxAbs,
        scoreRange: [Math.min(...scores), Math.max(...scores)],
        onnxMsMedian1Thread: median(times),
        onnxMsP90: times[Math.floor(times.length * 0.9)],
      };
    }
  } finally {
    await models.release();
    for (const xs of Object.values(inputs)) for (const x of xs) x.fill(0);
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return worst <= tolerance ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main();
