/**
 * Runs an ORIGINAL tfjs graph model (model.json + shards) on tfjs's pure-JS "cpu" backend — the tfjs bundled in
 * @vladmandic/face-api (tfjs 4.22 with the converter) — as the reference for scripts/tfjs-graph-to-onnx.ts.
 * Reads float32 inputs (little-endian, the model's input shape with batch 1, back to back) from stdin, writes one JSON
 * array of flattened outputs to stdout. Inputs travel over a pipe so face crops never touch disk.
 *
 *   node --import tsx scripts/tfjs-graph-reference.ts MODEL.json < inputs.f32
 *
 * Its own process: declaring WorkerGlobalScope makes the browser-built bundle pick its browser platform (see
 * scripts/faceapi-tfjs-reference.ts); that global must not leak into anything else.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TfjsGraphModel } from './tfjs-graph-model.ts';

interface GraphModel {
  readonly inputs: readonly { readonly shape?: number[] }[];
  predict(x: unknown): { dataSync(): Float32Array; dispose(): void };
}
interface Tf {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  tensor(data: Float32Array, shape: number[]): { dispose(): void };
  loadGraphModel(handler: unknown): Promise<GraphModel>;
  io: { fromMemory(artifacts: Record<string, unknown>): unknown };
}

async function readStdin(): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function main(): Promise<void> {
  const modelPath = process.argv[2];
  if (modelPath === undefined) throw new Error('usage: tfjs-graph-reference.ts MODEL.json < inputs.f32');
  const json = JSON.parse(readFileSync(modelPath, 'utf8')) as TfjsGraphModel & { modelTopology: unknown };
  const bin = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFileSync(join(dirname(modelPath), p))));
  Object.assign(globalThis, { WorkerGlobalScope: class WorkerGlobalScope {} });
  const faceapi = await import('@vladmandic/face-api/dist/face-api.esm.js');
  // The bundle exports all of tfjs (converter included) but its typings list only what face-api uses.
  const tf = faceapi.tf as unknown as Tf;
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs cpu backend unavailable');
  await tf.ready();
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      format: json.format,
      userDefinedMetadata: json.userDefinedMetadata,
    }),
  );
  const shape = (model.inputs[0].shape ?? []).map((d) => (d < 1 ? 1 : d));
  const size = shape.reduce((a, b) => a * b, 1);
  const input = await readStdin();
  if (input.length === 0 || input.length % (size * 4) !== 0) throw new Error(`stdin must hold whole float32 inputs of shape [${shape}]`);
  const out: number[][] = [];
  for (let off = 0; off < input.length; off += size * 4) {
    const x = tf.tensor(new Float32Array(input.buffer.slice(input.byteOffset + off, input.byteOffset + off + size * 4)), shape);
    const y = model.predict(x);
    out.push(Array.from(y.dataSync()));
    x.dispose();
    y.dispose();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
