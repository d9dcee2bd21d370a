/**
 * Verifies models/faceapi-resnet.onnx against face-api's tfjs forward pass on every chip of dlib_johns and
 * faceapi_bbt_characters (real faces, already 150x150), and prints the largest absolute difference of the raw
 * 128-d descriptors plus the smallest cosine between the two implementations.
 *
 *   node --import tsx scripts/verify-faceapi-resnet.ts [--model FILE] [--tolerance 1e-4]
 *
 * Exit code 1 if any difference exceeds the tolerance.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_FACEAPI_RESNET_PATH, FaceapiEmbedder } from './faceapi-embedder.ts';
import { readChip, readLabels, tfjsDescriptors } from './faceapi-chips.ts';
import { cosine } from '../src/session/face-template.ts';


async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { model: { type: 'string', default: DEFAULT_FACEAPI_RESNET_PATH }, tolerance: { type: 'string', default: '1e-4' } },
  });
  const tolerance = Number(values.tolerance);
  const sha256 = createHash('sha256').update(readFileSync(values.model)).digest('hex');
  const files = [...readLabels('dlib_johns'), ...readLabels('faceapi_bbt_characters')].map((l) => l.file);
  const chips = await Promise.all(files.map((f) => readChip(f)));

  const embedder = new FaceapiEmbedder({ modelPath: values.model, sha256 });
  await embedder.start();
  const onnx: Float32Array[] = [];
  const t0 = performance.now();
  for (const chip of chips) {
    const chw = new Float32Array(3 * 150 * 150);
    for (let p = 0; p < 150 * 150; p++) for (let c = 0; c < 3; c++) chw[c * 150 * 150 + p] = chip[p * 3 + c];
    onnx.push(await embedder.embedRaw(chw));
  }
  const onnxMs = (performance.now() - t0) / chips.length;
  await embedder.stop();

  const t1 = performance.now();
  const ref = await tfjsDescriptors(chips);
  const tfjsMs = (performance.now() - t1) / chips.length;

  let maxAbs = 0;
  let minCos = 1;
  for (let i = 0; i < chips.length; i++) {
    for (let k = 0; k < 128; k++) maxAbs = Math.max(maxAbs, Math.abs(onnx[i][k] - ref[i][k]));
    minCos = Math.min(minCos, cosine(onnx[i], ref[i]));
  }
  const report = { model: values.model, sha256, chips: chips.length, maxAbsDiff: maxAbs, minCosine: minCos, tolerance, onnxMsPerChip: onnxMs, tfjsMsPerChip: tfjsMs };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return maxAbs <= tolerance ? 0 : 1;
}

process.exitCode = await main();
