/**
 * Runs every model the manifest deploys on fixed synthetic inputs and prints the outputs as JSON (run mode), or
 * compares this machine's outputs with another machine's (compare mode). scripts/arm64-check runs it once on
 * linux-arm64 under qemu-user and once here, so the arm64 build of onnxruntime-node is checked against x86.
 *
 *   node scripts/arm64-check.mjs run [--inputs N] > arm64.json
 *   node scripts/arm64-check.mjs compare arm64.json [--inputs N]      exit 1 when a tolerance is exceeded
 *
 * Plain JavaScript on purpose: under qemu there is no esbuild/tsx binary for arm64. Inputs are synthetic (seeded
 * noise over smooth gradients, in each model's pixel range 0-255 normalised by the manifest's mean/std): no face
 * data is written anywhere. Tolerances: fp32 builds must match to float rounding (max |diff| <= 1e-3 relative to the
 * output's range); int8 builds differ where the arm64 and x86 (AVX512-VNNI here) integer kernels requantize each
 * layer's int32 sums differently (1 LSB per layer, accumulating over ~50 layers): max |diff| <= 6% of the output's
 * range and cosine >= 0.99 per output. Measured 2026-11-28 on 3 inputs, fr_feature int8: 4.8% and 0.9945 (fp32
 * builds: <= 2e-6 relative). The accuracy gates allow int8 vs fp32 cosine down to 0.97 and x86 int8 measures
 * 0.979 min on LFW, so arm64 can be ~0.005 below the x86 figure; the gates themselves should be run on a device.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TOLERANCE = { fp32: { maxAbs: 1e-3, cosine: 0.999999 }, int8: { maxAbs: 0.06, cosine: 0.99 } };

/** mulberry32: a small seeded PRNG, so both machines build the same inputs. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function syntheticInput(spec, k) {
  const [, c, h, w] = spec.shape;
  const rand = prng(1000 + k);
  const x = new Float32Array(c * h * w);
  const fx = 1 + (k % 5);
  const fy = 1 + (k % 3);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        const smooth = 128 + 90 * Math.sin((fx * xx) / w * Math.PI + ch) * Math.cos((fy * y) / h * Math.PI);
        const px = Math.min(255, Math.max(0, smooth + (rand() - 0.5) * 60));
        x[ch * h * w + y * w + xx] = (px - spec.mean[ch]) / spec.std[ch];
      }
    }
  }
  return x;
}

async function runAll(inputs) {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'models', 'manifest.json'), 'utf8'));
  const out = { arch: process.arch, node: process.version, models: {} };
  for (const [name, entry] of Object.entries(manifest.models)) {
    if (!entry.deployed) continue;
    const bytes = readFileSync(join(ROOT, 'models', entry.deployed.file));
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== entry.deployed.sha256) throw new Error(`${name}: ${entry.deployed.file} does not match the manifest`);
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const results = [];
    for (let k = 0; k < inputs; k++) {
      const x = syntheticInput(entry.input, k);
      const r = await session.run({ [entry.input.name]: new ort.Tensor('float32', x, entry.input.shape) });
      const o = {};
      for (const [key, v] of Object.entries(r)) o[key] = Array.from(v.data);
      results.push(o);
    }
    await session.release();
    out.models[name] = { variant: entry.deployed.variant, results };
  }
  return out;
}

function compare(here, there) {
  const report = {};
  let ok = true;
  for (const [name, m] of Object.entries(here.models)) {
    const other = there.models[name];
    if (!other) {
      ok = false;
      report[name] = { error: 'missing on the other machine' };
      continue;
    }
    const tol = TOLERANCE[m.variant];
    let worstRel = 0;
    let worstCos = 1;
    m.results.forEach((res, i) => {
      for (const [key, a] of Object.entries(res)) {
        const b = other.results[i][key];
        let lo = Infinity;
        let hi = -Infinity;
        let d = 0;
        let ab = 0;
        let aa = 0;
        let bb = 0;
        for (let j = 0; j < a.length; j++) {
          lo = Math.min(lo, a[j]);
          hi = Math.max(hi, a[j]);
          d = Math.max(d, Math.abs(a[j] - b[j]));
          ab += a[j] * b[j];
          aa += a[j] * a[j];
          bb += b[j] * b[j];
        }
        worstRel = Math.max(worstRel, d / Math.max(hi - lo, 1e-6));
        worstCos = Math.min(worstCos, aa === 0 && bb === 0 ? 1 : ab / Math.sqrt(aa * bb));
      }
    });
    const pass = worstRel <= tol.maxAbs && worstCos >= tol.cosine;
    ok &&= pass;
    report[name] = { variant: m.variant, inputs: m.results.length, maxAbsDiffRelative: worstRel, cosineMin: worstCos, pass };
  }
  return { ok, archs: [here.arch, there.arch], nodes: [here.node, there.node], tolerance: TOLERANCE, models: report };
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { inputs: { type: 'string', default: '24' } } });
const inputs = Number(values.inputs);
if (positionals[0] === 'run') {
  process.stdout.write(JSON.stringify(await runAll(inputs)));
} else if (positionals[0] === 'compare' && positionals[1]) {
  const there = JSON.parse(readFileSync(positionals[1], 'utf8'));
  const result = compare(await runAll(inputs), there);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = result.ok ? 0 : 1;
} else {
  process.stderr.write('usage: node scripts/arm64-check.mjs run [--inputs N] | compare OTHER.json [--inputs N]\n');
  process.exitCode = 2;
}
