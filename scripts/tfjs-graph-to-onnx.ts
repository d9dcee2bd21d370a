/**
 * Converts a TensorFlow.js graph model (model.json topology + weightsManifest + .bin shards) into an ONNX model for
 * the small, static, NHWC conv-net op set of MediaPipe's iris model and human's antispoof/liveness classifiers:
 *   Placeholder, Const, Identity, _FusedConv2D (BiasAdd + none/Relu/Relu6/Prelu), DepthwiseConv2dNative, AddV2/Add and
 *   Mul (activation with activation of the same shape, or with a per-channel/per-feature constant), Prelu, Relu,
 *   Sigmoid, Softmax (last axis of a 2-D tensor), MaxPool, Pad, ConcatV2, Reshape (to [batch, features]) and
 *   _FusedMatMul (BiasAdd + none/Relu).
 * Weights: see scripts/tfjs-graph-model.ts (float32, int32, uint8/uint16/float16 storage).
 * Any other op, fused op, data format or weight dtype is refused with an error naming it.
 *
 *   node --import tsx scripts/tfjs-graph-to-onnx.ts MODEL.json OUT.onnx
 *
 * Layout: the ONNX graph is NCHW inside; the model keeps the tfjs signature (input NHWC, output NHWC) through one
 * Transpose after each 4-D input and before each 4-D output, so callers feed exactly what tfjs is fed.
 * Flatten: TF's Reshape of a 4-D activation to [batch, features] walks it in NHWC order (h, w, c), and the following
 * MatMul's weight rows are in that order; the converter transposes back to NHWC before the ONNX Reshape, so the
 * weights stay as trained (flattening NCHW would silently permute the features).
 * Padding: TF's SAME pads are computed from the static shapes as TF does (total = max((out-1)*s + (k-1)*d + 1 - in, 0),
 * the extra pixel of an odd total going to the bottom/right — asymmetric at stride 2) and written as explicit ONNX pads.
 * Batch: the placeholder's -1 batch is fixed to 1 (the writer only knows static shapes).
 * Deterministic: nodes are emitted in a stable topological order of the outputs' ancestors; same input → same bytes.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeModel, type Attribute, type Node, type Tensor, type ValueInfo } from './onnx-proto.ts';
import { readWeights, type Const, type TfAttr, type TfjsGraphModel, type TfNode } from './tfjs-graph-model.ts';

/** A converted activation: its ONNX name and its NCHW (or plain, if not 4-D) shape. */
interface Value {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface ConvertOptions {
  readonly graphName: string;
  readonly producerVersion: string;
  readonly docString: string;
}

/** NHWC axis → NCHW axis for 4-D tensors, and its inverse (the NHWC axis of each NCHW dim). */
const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1] as const;
const NCHW_FROM_NHWC_AXIS = [0, 3, 1, 2] as const;

const str = (a: TfAttr | undefined): string => (a?.s === undefined ? '' : Buffer.from(a.s, 'base64').toString('utf8'));
const ints = (a: TfAttr | undefined): number[] => (a?.list?.i ?? []).map(Number);
/** tfjs tensor names may carry an output index (`node:0`); every op here has one output. */
const nodeOf = (input: string): string => input.replace(/:0$/, '');

/** [before, after] pads of one spatial dim, exactly as TF computes SAME/VALID. */
export function tfPads(padding: string, size: number, k: number, stride: number, dilation: number): [number, number] {
  const effective = (k - 1) * dilation + 1;
  if (padding === 'VALID') return [0, 0];
  if (padding !== 'SAME') throw new Error(`unsupported padding ${padding}`);
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + effective - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

class Converter {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  private readonly values = new Map<string, Value>();
  readonly inputs: ValueInfo[] = [];

  constructor(
    private readonly byName: Map<string, TfNode>,
    private readonly consts: Map<string, Const>,
  ) {}

  private op(opType: string, name: string, inputs: string[], attributes: Attribute[] = []): string {
    this.nodes.push({ opType, name, inputs, outputs: [name], attributes });
    return name;
  }

  private init(name: string, dims: readonly number[], data: Tensor['data']): string {
    this.initializers.push({ name, dims, data });
    return name;
  }

  private constOf(input: string, user: string): Const {
    const n = this.byName.get(nodeOf(input));
    const c = n?.op === 'Const' ? this.consts.get(n.name) : undefined;
    if (c === undefined) throw new Error(`${user}: input ${input} must be a constant with weights`);
    return c;
  }

  private value(input: string): Value {
    const v = this.values.get(nodeOf(input));
    if (v === undefined) throw new Error(`input ${input} is not converted (constant used as activation?)`);
    return v;
  }

  private activation4d(input: string, user: string): Value {
    const v = this.value(input);
    if (v.shape.length !== 4) throw new Error(`${user}: expects a 4-D input, ${input} is ${v.shape.length}-D`);
    return v;
  }

  /** A constant that broadcasts against an NHWC activation, re-laid out for NCHW: [..., H, W, C] → [C, H, W]. */
  private chwBroadcast(c: Const, name: string): string {
    const shape = [...c.shape];
    if (shape.length > 3 && shape.slice(0, shape.length - 3).some((d) => d !== 1)) throw new Error(`${name}: cannot broadcast shape [${shape}]`);
    const [h, w, ch] = [1, 1, 1, ...shape].slice(-3);
    const out = new Float32Array(h * w * ch);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < ch; k++) out[(k * h + y) * w + x] = c.data[(y * w + x) * ch + k];
    return this.init(name, [ch, h, w], out);
  }

  convert(n: TfNode): void {
    const inputs = n.input ?? [];
    const set = (name: string, shape: readonly number[]): void => void this.values.set(n.name, { name, shape });
    switch (n.op) {
      case 'Const':
        return;
      case 'Placeholder': {
        const dims = (n.attr?.shape?.shape?.dim ?? []).map((d) => Number(d.size ?? -1));
        if (dims.slice(1).some((d) => d < 1)) throw new Error(`${n.name}: placeholder needs static non-batch dims, got [${dims}]`);
        const fixed = dims.map((d, i) => (i === 0 && d < 1 ? 1 : d));
        this.inputs.push({ name: n.name, dims: fixed });
        if (fixed.length !== 4) return set(n.name, fixed);
        const t = this.op('Transpose', `${n.name}/nchw`, [n.name], [{ name: 'perm', ints: [0, 3, 1, 2] }]);
        return set(t, [fixed[0], fixed[3], fixed[1], fixed[2]]);
      }
      case 'Identity':
        return set(this.value(inputs[0]).name, this.value(inputs[0]).shape);
      case 'AddV2':
      case 'Add':
      case 'Mul': {
        const onnxOp = n.op === 'Mul' ? 'Mul' : 'Add';
        const [a, b] = inputs.map((i) => this.values.get(nodeOf(i)));
        if (a !== undefined && b !== undefined) {
          if (a.shape.join() !== b.shape.join()) throw new Error(`${n.name}: ${n.op} of shapes [${a.shape}] and [${b.shape}] (broadcast) unsupported`);
          return set(this.op(onnxOp, n.name, [a.name, b.name]), a.shape);
        }
        const x = a ?? b;
        if (x === undefined) throw new Error(`${n.name}: ${n.op} needs an activation operand`);
        const c = this.broadcastConst(x, this.constOf(inputs[a === undefined ? 0 : 1], n.name), `${n.name}/const`);
        return set(this.op(onnxOp, n.name, [x.name, c]), x.shape);
      }
      case 'Relu':
      case 'Sigmoid': {
        const x = this.value(inputs[0]);
        return set(this.op(n.op, n.name, [x.name]), x.shape);
      }
      case 'Softmax': {
        const x = this.value(inputs[0]);
        if (x.shape.length !== 2) throw new Error(`${n.name}: Softmax of a ${x.shape.length}-D tensor unsupported (2-D only)`);
        return set(this.op('Softmax', n.name, [x.name], [{ name: 'axis', i: 1 }]), x.shape);
      }
      case 'Reshape':
        return set(...this.flatten(n));
      case '_FusedMatMul':
        return set(...this.matMul(n));
      case 'Prelu': {
        const x = this.activation4d(inputs[0], n.name);
        return set(this.op('PRelu', n.name, [x.name, this.chwBroadcast(this.constOf(inputs[1], n.name), `${n.name}/alpha`)]), x.shape);
      }
      case 'MaxPool': {
        const x = this.activation4d(inputs[0], n.name);
        this.requireNhwc(n);
        const [, kh, kw] = ints(n.attr?.ksize);
        const [, sh, sw] = ints(n.attr?.strides);
        const pad = str(n.attr?.padding);
        const [t, b] = tfPads(pad, x.shape[2], kh, sh, 1);
        const [l, r] = tfPads(pad, x.shape[3], kw, sw, 1);
        const y = this.op('MaxPool', n.name, [x.name], [
          { name: 'kernel_shape', ints: [kh, kw] },
          { name: 'pads', ints: [t, l, b, r] },
          { name: 'strides', ints: [sh, sw] },
        ]);
        const size = (s: number, k: number, st: number, p: number): number => Math.floor((s + p - k) / st) + 1;
        return set(y, [x.shape[0], x.shape[1], size(x.shape[2], kh, sh, t + b), size(x.shape[3], kw, sw, l + r)]);
      }
      case 'Pad': {
        const x = this.activation4d(inputs[0], n.name);
        const p = this.constOf(inputs[1], n.name);
        if (p.shape.join() !== '4,2') throw new Error(`${n.name}: paddings must be [4,2], got [${p.shape}]`);
        const before = NCHW_FROM_NHWC_AXIS.map((ax) => p.data[2 * ax]);
        const after = NCHW_FROM_NHWC_AXIS.map((ax) => p.data[2 * ax + 1]);
        if ([...before, ...after].some((v) => v < 0)) throw new Error(`${n.name}: negative padding`);
        const pads = this.init(`${n.name}/pads`, [8], BigInt64Array.from([...before, ...after].map((v) => BigInt(v))));
        return set(this.op('Pad', n.name, [x.name, pads]), x.shape.map((d, i) => d + before[i] + after[i]));
      }
      case 'ConcatV2': {
        const parts = inputs.slice(0, -1).map((i) => this.activation4d(i, n.name));
        const axisConst = this.constOf(inputs[inputs.length - 1], n.name);
        const nhwcAxis = (axisConst.data[0] + 4) % 4;
        const axis = NHWC_TO_NCHW_AXIS[nhwcAxis];
        const shape = [...parts[0].shape];
        shape[axis] = parts.reduce((s, v) => s + v.shape[axis], 0);
        return set(this.op('Concat', n.name, parts.map((v) => v.name), [{ name: 'axis', i: axis }]), shape);
      }
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
        return set(...this.conv(n));
      default:
        throw new Error(`unsupported tfjs op ${n.op} (node ${n.name})`);
    }
  }

  /**
   * A constant operand of an elementwise op, laid out to broadcast against `x` in ONNX: per-channel [..., H, W, C] for a
   * 4-D (NCHW) activation, or one value per feature ([n] or [1, n]) for a 2-D one.
   */
  private broadcastConst(x: Value, c: Const, name: string): string {
    if (x.shape.length === 4) return this.chwBroadcast(c, name);
    const n = x.shape[1];
    if (x.shape.length !== 2 || c.data.length !== n || c.shape.slice(0, -1).some((d) => d !== 1))
      throw new Error(`${name}: cannot broadcast shape [${c.shape}] against [${x.shape}]`);
    return this.init(name, [n], Float32Array.from(c.data));
  }

  /**
   * Reshape to [batch, features] (Keras Flatten). A 4-D input is transposed back to NHWC first: TF flattens in (h, w, c)
   * order, and the next MatMul's weight rows expect exactly that order.
   */
  private flatten(n: TfNode): [string, number[]] {
    const inputs = n.input ?? [];
    const x = this.value(inputs[0]);
    const target = Array.from(this.constOf(inputs[1], n.name).data);
    const count = x.shape.reduce((p, d) => p * d, 1);
    if (target.length !== 2) throw new Error(`${n.name}: Reshape to [${target}] unsupported (only [batch, features])`);
    const [batch, features] = [target[0] === -1 ? x.shape[0] : target[0], target[1] === -1 ? count / x.shape[0] : target[1]];
    if (batch !== x.shape[0] || batch * features !== count) throw new Error(`${n.name}: cannot reshape [${x.shape}] to [${target}]`);
    const src = x.shape.length === 4 ? this.op('Transpose', `${n.name}/nhwc`, [x.name], [{ name: 'perm', ints: [0, 2, 3, 1] }]) : x.name;
    const shape = this.init(`${n.name}/shape`, [2], BigInt64Array.of(BigInt(batch), BigInt(features)));
    return [this.op('Reshape', n.name, [src, shape]), [batch, features]];
  }

  /** _FusedMatMul: [batch, K] x constant [K, N] (or [N, K] with transpose_b) + BiasAdd, then none or Relu → Gemm (+ Relu). */
  private matMul(n: TfNode): [string, number[]] {
    const inputs = n.input ?? [];
    const x = this.value(inputs[0]);
    const w = this.constOf(inputs[1], n.name);
    if (n.attr?.transpose_a?.b === true) throw new Error(`${n.name}: transpose_a unsupported`);
    const transB = n.attr?.transpose_b?.b === true;
    if (x.shape.length !== 2 || w.shape.length !== 2) throw new Error(`${n.name}: MatMul needs a 2-D activation and a 2-D constant`);
    const [k, units] = transB ? [w.shape[1], w.shape[0]] : [w.shape[0], w.shape[1]];
    if (k !== x.shape[1]) throw new Error(`${n.name}: weight expects ${k} inputs, got ${x.shape[1]}`);
    const fused = (n.attr?.fused_ops?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
    const args = inputs.slice(2);
    if (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused.length === 2 && fused[1] !== 'Relu') || args.length !== 1)
      throw new Error(`${n.name}: unsupported fused_ops [${fused.join(', ')}] with ${args.length} extra inputs`);
    const b = this.constOf(args[0], n.name);
    if (b.data.length !== units) throw new Error(`${n.name}: bias has ${b.data.length} values, expected ${units}`);
    const gemmName = fused.length === 2 ? `${n.name}/gemm` : n.name;
    const gemm = this.op('Gemm', gemmName, [x.name, this.init(`${n.name}/W`, w.shape, Float32Array.from(w.data)), this.init(`${n.name}/B`, [units], Float32Array.from(b.data))], transB ? [{ name: 'transB', i: 1 }] : []);
    const shape = [x.shape[0], units];
    return fused.length === 2 ? [this.op('Relu', n.name, [gemm]), shape] : [gemm, shape];
  }

  private requireNhwc(n: TfNode): void {
    const format = str(n.attr?.data_format) || 'NHWC';
    if (format !== 'NHWC') throw new Error(`${n.name}: unsupported data_format ${format}`);
  }

  private conv(n: TfNode): [string, number[]] {
    this.requireNhwc(n);
    const inputs = n.input ?? [];
    const x = this.activation4d(inputs[0], n.name);
    const f = this.constOf(inputs[1], n.name);
    if (f.shape.length !== 4) throw new Error(`${n.name}: filter must be 4-D`);
    const [kh, kw, ci, m] = f.shape;
    if (ci !== x.shape[1]) throw new Error(`${n.name}: filter expects ${ci} input channels, got ${x.shape[1]}`);
    const depthwise = n.op === 'DepthwiseConv2dNative';
    // Conv2D HWIO → OIHW; depthwise [kh,kw,C,mult] → [C*mult,1,kh,kw] with group C (output channel c*mult + k, as TF).
    const co = depthwise ? ci * m : m;
    const w = new Float32Array(co * (depthwise ? 1 : ci) * kh * kw);
    let k = 0;
    if (depthwise) {
      for (let c = 0; c < ci; c++) for (let j = 0; j < m; j++) for (let y = 0; y < kh; y++) for (let z = 0; z < kw; z++) w[k++] = f.data[((y * kw + z) * ci + c) * m + j];
    } else {
      for (let o = 0; o < co; o++) for (let i = 0; i < ci; i++) for (let y = 0; y < kh; y++) for (let z = 0; z < kw; z++) w[k++] = f.data[((y * kw + z) * ci + i) * co + o];
    }
    const weight = this.init(`${n.name}/W`, [co, depthwise ? 1 : ci, kh, kw], w);
    const [, sh, sw] = ints(n.attr?.strides);
    const dil = ints(n.attr?.dilations);
    const [dh, dw] = dil.length === 4 ? [dil[1], dil[2]] : [1, 1];
    const padding = str(n.attr?.padding);
    let pads: number[];
    if (padding === 'EXPLICIT') {
      const e = ints(n.attr?.explicit_paddings);
      if (e.length !== 8) throw new Error(`${n.name}: explicit_paddings must have 8 values`);
      pads = [e[2], e[4], e[3], e[5]];
    } else {
      const [t, b] = tfPads(padding, x.shape[2], kh, sh, dh);
      const [l, r] = tfPads(padding, x.shape[3], kw, sw, dw);
      pads = [t, l, b, r];
    }

    const fused = n.op === '_FusedConv2D' ? (n.attr?.fused_ops?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8')) : [];
    const hasBias = fused[0] === 'BiasAdd';
    const activation = hasBias ? fused.slice(1) : fused;
    if (activation.length > 1 || (activation.length === 1 && !['Relu', 'Relu6', 'Prelu'].includes(activation[0])))
      throw new Error(`${n.name}: unsupported fused_ops [${fused.join(', ')}]`);
    const args = inputs.slice(2);
    const numArgs = Number(n.attr?.num_args?.i ?? args.length);
    if (args.length !== numArgs || numArgs !== (hasBias ? 1 : 0) + (activation[0] === 'Prelu' ? 1 : 0))
      throw new Error(`${n.name}: fused_ops [${fused.join(', ')}] with ${args.length} extra inputs`);
    const convInputs = [x.name, weight];
    if (hasBias) {
      const b = this.constOf(args[0], n.name);
      if (b.data.length !== co) throw new Error(`${n.name}: bias has ${b.data.length} values, expected ${co}`);
      convInputs.push(this.init(`${n.name}/B`, [co], Float32Array.from(b.data)));
    }
    const outH = Math.floor((x.shape[2] + pads[0] + pads[2] - ((kh - 1) * dh + 1)) / sh) + 1;
    const outW = Math.floor((x.shape[3] + pads[1] + pads[3] - ((kw - 1) * dw + 1)) / sw) + 1;
    const shape = [x.shape[0], co, outH, outW];
    const convName = activation.length === 0 ? n.name : `${n.name}/conv`;
    const conv = this.op('Conv', convName, convInputs, [
      { name: 'dilations', ints: [dh, dw] },
      ...(depthwise ? [{ name: 'group', i: ci }] : []),
      { name: 'kernel_shape', ints: [kh, kw] },
      { name: 'pads', ints: pads },
      { name: 'strides', ints: [sh, sw] },
    ]);
    if (activation[0] === 'Relu') return [this.op('Relu', n.name, [conv]), shape];
    if (activation[0] === 'Relu6') {
      const lo = this.init(`${n.name}/min`, [], Float32Array.of(0));
      const hi = this.init(`${n.name}/max`, [], Float32Array.of(6));
      return [this.op('Clip', n.name, [conv, lo, hi]), shape];
    }
    if (activation[0] === 'Prelu') return [this.op('PRelu', n.name, [conv, this.chwBroadcast(this.constOf(args[hasBias ? 1 : 0], n.name), `${n.name}/alpha`)]), shape];
    return [conv, shape];
  }

  /** Final name and NHWC dims of an output; 4-D outputs get transposed back to NHWC under the tfjs node's name. */
  output(tfName: string): ValueInfo {
    const v = this.value(tfName);
    if (v.name === tfName) throw new Error(`output ${tfName}: an ONNX output cannot reuse its producer's name`);
    if (v.shape.length !== 4) {
      this.nodes.push({ opType: 'Identity', name: `${tfName}/out`, inputs: [v.name], outputs: [tfName] });
      return { name: tfName, dims: v.shape };
    }
    this.nodes.push({ opType: 'Transpose', name: `${tfName}/nhwc`, inputs: [v.name], outputs: [tfName], attributes: [{ name: 'perm', ints: [0, 2, 3, 1] }] });
    const [b, c, h, w] = v.shape;
    return { name: tfName, dims: [b, h, w, c] };
  }
}

/** Output node names: the signature's outputs if the model has one, else every node nothing consumes. */
function outputNames(model: TfjsGraphModel): string[] {
  const sig = model.userDefinedMetadata?.signature?.outputs;
  if (sig !== undefined) return Object.values(sig).map((o) => nodeOf(o.name));
  const used = new Set(model.modelTopology.node.flatMap((n) => (n.input ?? []).map(nodeOf)));
  return model.modelTopology.node.filter((n) => n.op !== 'Const' && !used.has(n.name)).map((n) => n.name);
}

/** Convert a parsed model.json plus its weight shards to ONNX bytes (opset 13, IR 8). */
export function convertTfjsGraph(model: TfjsGraphModel, shards: readonly Buffer[], options: ConvertOptions): Buffer {
  if (model.format !== undefined && model.format !== 'graph-model') throw new Error(`not a tfjs graph model (format ${model.format})`);
  const byName = new Map(model.modelTopology.node.map((n) => [n.name, n]));
  const c = new Converter(byName, readWeights(model, shards));
  const outputs = outputNames(model);

  // Stable post-order DFS from the outputs: a topological order that ignores dead nodes.
  const done = new Set<string>();
  const visit = (name: string, path: Set<string>): void => {
    if (done.has(name)) return;
    const n = byName.get(name);
    if (n === undefined) throw new Error(`graph references unknown node ${name}`);
    if (path.has(name)) throw new Error(`graph has a cycle through ${name}`);
    path.add(name);
    for (const i of n.input ?? []) visit(nodeOf(i), path);
    path.delete(name);
    done.add(name);
    c.convert(n);
  };
  for (const o of outputs) visit(o, new Set());
  const outputInfos = outputs.map((o) => c.output(o));

  return encodeModel({
    irVersion: 8,
    opset: 13,
    producerName: 'regterm scripts/tfjs-graph-to-onnx.ts',
    producerVersion: options.producerVersion,
    docString: options.docString,
    graph: { name: options.graphName, nodes: c.nodes, initializers: c.initializers, inputs: c.inputs, outputs: outputInfos },
  });
}

/** Read model.json and its shards from disk and convert. */
export function convertTfjsGraphFile(modelJsonPath: string, options: ConvertOptions): Buffer {
  const model = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as TfjsGraphModel;
  const shards = model.weightsManifest.flatMap((g) => g.paths).map((p) => readFileSync(join(dirname(modelJsonPath), p)));
  return convertTfjsGraph(model, shards, options);
}

function main(): void {
  const { positionals } = parseArgs({ allowPositionals: true, options: {} });
  if (positionals.length !== 2) throw new Error('usage: tfjs-graph-to-onnx.ts MODEL.json OUT.onnx');
  const [src, out] = positionals;
  const bytes = convertTfjsGraphFile(src, { graphName: 'tfjs_graph', producerVersion: '', docString: `converted from ${src.split('/').pop() ?? src}` });
  writeFileSync(out, bytes);
  process.stdout.write(`${JSON.stringify({ out, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') })}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
