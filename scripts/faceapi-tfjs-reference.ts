/**
 * Reference descriptors from face-api itself (its bundled tfjs, pure-JS "cpu" backend), for verifying the ONNX
 * build. Reads 150x150 RGB chips (HWC uint8, back to back) from stdin, writes one JSON array of 128-d descriptors to
 * stdout. Chips travel over a pipe so the face data never touches disk.
 *
 *   node --import tsx scripts/faceapi-tfjs-reference.ts < chips.rgb
 *
 * Run it as its own process: face-api's ESM bundle was built for browsers and stubs node:util, so its Node platform
 * setup throws; declaring WorkerGlobalScope makes tfjs pick its browser platform (fetch/performance/TextEncoder, all
 * present in Node 20). That global must not leak into anything else, hence the separate process.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FACEAPI_DIR, INPUT_SIZE } from './build-faceapi-resnet.ts';

const CHIP_BYTES = INPUT_SIZE * INPUT_SIZE * 3;

async function readStdin(): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function main(): Promise<void> {
  const input = await readStdin();
  if (input.length === 0 || input.length % CHIP_BYTES !== 0) throw new Error(`stdin must hold whole ${INPUT_SIZE}x${INPUT_SIZE} RGB chips`);
  Object.assign(globalThis, { WorkerGlobalScope: class WorkerGlobalScope {} });
  const faceapi = await import('@vladmandic/face-api/dist/face-api.esm.js');
  const tf = faceapi.tf;
  // The bundle exports all of tfjs but its typings list only the ops face-api uses; the backend calls exist at run time.
  const engine = tf as unknown as { setBackend(name: string): Promise<boolean>; ready(): Promise<void> };
  if (!(await engine.setBackend('cpu'))) throw new Error('tfjs cpu backend unavailable');
  await engine.ready();
  const dir = join(FACEAPI_DIR, 'model');
  const manifest = JSON.parse(readFileSync(join(dir, 'face_recognition_model-weights_manifest.json'), 'utf8')) as {
    weights: Parameters<typeof tf.io.decodeWeights>[1];
  }[];
  const bin = readFileSync(join(dir, 'face_recognition_model.bin'));
  const weightMap = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), manifest[0].weights);
  await faceapi.nets.faceRecognitionNet.loadFromWeightMap(weightMap);

  const out: number[][] = [];
  for (let off = 0; off < input.length; off += CHIP_BYTES) {
    const chip = tf.tensor3d(new Int32Array(input.subarray(off, off + CHIP_BYTES)), [INPUT_SIZE, INPUT_SIZE, 3], 'int32');
    const d = (await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(chip)) as Float32Array;
    chip.dispose();
    out.push(Array.from(d));
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
