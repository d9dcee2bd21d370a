/**
 * Per-layer int8 sensitivity of one model, for choosing QUANT_OPTS float_nodes in scripts/build-models.ts:
 *
 *   node --import tsx scripts/models/sweep.ts MODEL WORKDIR [FLOAT_NODES_JSON]
 *
 * WORKDIR is a `scripts/build-models --only MODEL --work WORKDIR` directory (its fp32 rewrite and calibrated
 * ranges). For every op the build quantizes, the model is quantized with that op (and FLOAT_NODES) kept float and
 * measured against the source on the calibration inputs (mean |output difference|); one line per op, most sensitive first. Ranges are
 * statistics of the float model, so keeping ops float needs no new calibration.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImageFile } from '../../src/vision/image-file.ts';
import { DEFAULT_MANIFEST_PATH, loadManifest } from '../../src/vision/manifest.ts';
import { ModelRegistry } from '../../src/vision/model-registry.ts';
import { engineOn, manifestWith, tapInputs } from './engines.ts';
import { type Outputs, agreement, openSession, runAll } from './measure.ts';
import { calibrationImages } from './sets.ts';

const GRAPH = join(dirname(fileURLToPath(import.meta.url)), 'graph.py');
const PYTHON = process.env.REGTERM_PYTHON ?? '/usr/bin/python3';
const BASE: Record<string, unknown> = { float_depthwise: true, float_first: 3, float_heads: true };

function python(...args: string[]): string {
  const r = spawnSync(PYTHON, [GRAPH, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`graph.py ${args[0]} failed: ${r.stderr}`);
  return r.stdout.trim();
}

const [name, work, floatJson] = process.argv.slice(2);
const floatNodes = JSON.parse(floatJson ?? '[]') as string[];
const { manifest } = await loadManifest(DEFAULT_MANIFEST_PATH);
const registry = new ModelRegistry({ manifest, manifestDir: dirname(DEFAULT_MANIFEST_PATH) });
const src = registry.sourcePathOf(name);
const stem = resolve(work, registry.sourcePathOf(name).split('/').pop()?.replace(/\.onnx$/, '') ?? name);
const fp32 = `${stem}.fp32.onnx`;
const { engine, close } = await engineOn(await manifestWith());
let inputs: Float32Array[];
try {
  const taps = await tapInputs(engine, [name]);
  // sensitivities are measured on the calibration images (choosing float ops on the evaluation set would fit the
  // gate to it); the evaluation set only checks the chosen build
  for (const f of calibrationImages()) {
    const img = await readImageFile(f);
    const faces = await engine.analyzeFrame(img);
    for (const face of faces) await engine.embed(img, face);
  }
  inputs = taps.get(name) ?? [];
} finally {
  await close();
}
const entry = registry.entry(name);
const { name: inputName, shape } = entry.input;
const live = manifest.thresholds.antispoof?.value ?? 0.5;
const s0 = await openSession(src);
const ref = await runAll(s0, inputName, shape, inputs);
await s0.release();
async function measure(nodes: string[]): Promise<Record<string, number>> {
  const out = join(work, 'sweep.int8.onnx');
  python('quantize', fp32, `${stem}.ranges.json`, out, JSON.stringify({ ...BASE, float_nodes: nodes }));
  const s = await openSession(out);
  const r = await runAll(s, inputName, shape, inputs);
  await s.release();
  return { ...agreement(name, ref, r, live), meanAbsDiff: meanAbsDiff(ref, r) };
}
/** Mean |difference| over every output value of every input: a continuous sensitivity, unlike flipped decisions. */
function meanAbsDiff(a: Outputs[], b: Outputs[]): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    for (const k of Object.keys(a[i])) {
      for (let j = 0; j < a[i][k].length; j++) sum += Math.abs(a[i][k][j] - b[i][k][j]);
      n += a[i][k].length;
    }
  }
  return sum / n;
}
const all = JSON.parse(python('nodes', fp32, JSON.stringify({ ...BASE, float_nodes: floatNodes }))) as string[];
process.stdout.write(`base (float ${JSON.stringify(floatNodes)}): ${JSON.stringify(await measure(floatNodes))}\n`);
for (const n of all) process.stdout.write(`${n}\t${JSON.stringify(await measure([...floatNodes, n]))}\n`);
