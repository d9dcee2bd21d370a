/**
 * Runs every model the engine loads (the deployed build, or the source file where the manifest deploys none) on fixed
 * synthetic inputs and prints the outputs as JSON (run mode), or
 * compares this machine's outputs with another machine's (compare mode). scripts/arm64-check runs it once on
 * linux-arm64 under qemu-user and once here, so the arm64 build of onnxruntime-node is checked against x86.
 *
 *   node scripts/arm64-check.mjs run [--inputs N] > arm64.json
 *   node scripts/arm64-check.mjs compare arm64.json [--inputs N]      exit 1 when a tolerance is exceeded
 *
 * Plain JavaScript on purpose: under qemu there is no esbuild/tsx binary for arm64. Inputs are synthetic (seeded
 * noise over smooth gradients, in each model's pixel range 0-255 normalised by the manifest's mean/std): no face
 * data is written anywhere. Tolerances: fp32 builds must match to float rounding (max |diff| <= 1e-3 of the output's
 * range). int8 builds: the arm64 and x86 (AVX512-VNNI here) integer kernels requantize each layer's int32 sums
 * differently (1 LSB per layer, accumulating over ~50 layers), so arm64 passes if it is within max |diff| <= 6% of
 * the range and cosine >= 0.99 of x86, or if its cosine to the SOURCE fp32 model (run here) is within 0.005 of what
 * x86 int8 achieves -- the accuracy gates are int8 vs fp32, so that is what must carry over. Measured 2026-11-28,
 * 8 inputs, fr_feature int8: arm64 vs x86 8.6% / cosine 0.987; vs source fp32 both 0.9891 (fp32 builds <= 2e-6).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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

/** Planar NCHW, or NHWC where the last axis is the channel one (the iris model keeps its tfjs signature). */
function syntheticInput(spec, k) {
  const nhwc = spec.shape[3] === spec.mean.length && spec.shape[1] !== spec.mean.length;
  const [c, h, w] = nhwc ? [spec.shape[3], spec.shape[1], spec.shape[2]] : spec.shape.slice(1);
  const at = (ch, y, xx) => (nhwc ? (y * w + xx) * c + ch : ch * h * w + y * w + xx);
  const rand = prng(1000 + k);
  const x = new Float32Array(c * h * w);
  const fx = 1 + (k % 5);
  const fy = 1 + (k % 3);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        const smooth = 128 + 90 * Math.sin((fx * xx) / w * Math.PI + ch) * Math.cos((fy * y) / h * Math.PI);
        const px = Math.min(255, Math.max(0, smooth + (rand() - 0.5) * 60));
        x[at(ch, y, xx)] = (px - spec.mean[ch]) / spec.std[ch];
      }
    }
  }
  return x;
}

/** A package's source model sits next to the manifest (scripts/model-packages.ts puts it there). */
function sourcePath(entry) {
  return join(ROOT, 'models', 'file' in entry.source ? entry.source.file : basename(entry.source.path));
}

async function runFile(path, sha256, entry, inputs) {
  const bytes = readFileSync(path);
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== sha256) throw new Error(`${path} does not match the manifest`);
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
  return results;
}

/**
 * Every model's outputs as the engine runs it (a source model is fp32); with `withSource`, int8 models' source fp32
 * outputs too (the reference).
 */
async function runAll(inputs, withSource) {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'models', 'manifest.json'), 'utf8'));
  const out = { arch: process.arch, node: process.version, models: {} };
  for (const [name, entry] of Object.entries(manifest.models)) {
    if (!entry.deployed) {
      out.models[name] = { variant: 'fp32', results: await runFile(sourcePath(entry), entry.sha256, entry, inputs) };
      continue;
    }
    const results = await runFile(join(ROOT, 'models', entry.deployed.file), entry.deployed.sha256, entry, inputs);
    out.models[name] = { variant: entry.deployed.variant, results };
    if (withSource && entry.deployed.variant === 'int8') {
      out.models[name].source = await runFile(sourcePath(entry), entry.sha256, entry, inputs);
    }
  }
  return out;
}

/** Worst relative max |diff| (to the output's range in `a`) and worst cosine over all inputs and outputs. */
function diff(aResults, bResults) {
  let worstRel = 0;
  let worstCos = 1;
  aResults.forEach((res, i) => {
    for (const [key, a] of Object.entries(res)) {
      const b = bResults[i][key];
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
  return { maxAbsDiffRelative: worstRel, cosineMin: worstCos };
}

/**
 * fp32 builds: arm64 must equal x86 within float rounding. int8 builds: arm64 vs x86 within the int8 tolerance, OR
 * (the criterion that matters for accuracy) arm64 int8 no further from the x86 source fp32 than x86 int8 is, give or
 * take 0.005 of cosine.
 */
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
    const archs = diff(m.results, other.results);
    let pass = archs.maxAbsDiffRelative <= tol.maxAbs && archs.cosineMin >= tol.cosine;
    const r = { variant: m.variant, inputs: m.results.length, ...archs };
    if (m.source) {
      r.x86VsSourceCosineMin = diff(m.source, m.results).cosineMin;
      r.arm64VsSourceCosineMin = diff(m.source, other.results).cosineMin;
      pass ||= r.arm64VsSourceCosineMin >= r.x86VsSourceCosineMin - 0.005;
    }
    r.pass = pass;
    ok &&= pass;
    report[name] = r;
  }
  return { ok, archs: [here.arch, there.arch], nodes: [here.node, there.node], tolerance: TOLERANCE, models: report };
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { inputs: { type: 'string', default: '24' } } });
const inputs = Number(values.inputs);
if (positionals[0] === 'run') {
  process.stdout.write(JSON.stringify(await runAll(inputs, false)));
} else if (positionals[0] === 'compare' && positionals[1]) {
  const there = JSON.parse(readFileSync(positionals[1], 'utf8'));
  const result = compare(await runAll(inputs, true), there);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = result.ok ? 0 : 1;
} else {
  process.stderr.write('usage: node scripts/arm64-check.mjs run [--inputs N] | compare OTHER.json [--inputs N]\n');
  process.exitCode = 2;
}
