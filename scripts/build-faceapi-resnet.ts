/**
 * Builds models/faceapi-resnet.onnx from the tfjs weights of face-api's FaceRecognitionNet (the dlib 128-d metric
 * ResNet-29, dlib_face_recognition_resnet_model_v1) shipped in @vladmandic/face-api/model/.
 *
 *   node --import tsx scripts/build-faceapi-resnet.ts [--weights DIR] [--out FILE]
 *
 * The graph mirrors node_modules/@vladmandic/face-api/src/faceRecognitionNet/FaceRecognitionNet.ts op for op:
 *   input  [1,3,150,150] float32, RGB, raw 0..255 (NCHW)
 *   (x - [122.782, 117.001, 104.298]) / 255          ← face-api's normalisation, INSIDE the graph
 *   conv 7x7/2 valid + scale + relu, maxpool 3x3/2 valid
 *   residual x3 (32) | down + x3 (64) | down + x2 (128) | down + x2 (256) | down (256)
 *   global average pool, matmul fc [256,128]        → output "embedding" [1,128], NOT L2-normalised
 * Each conv's "scale layer" (per-channel mul + add) is folded into the conv weights and bias. uint8-quantised filters
 * stay uint8 in the file (6 MB instead of 22 MB) behind Cast/Mul/Add dequantisation nodes.
 * tfjs 'same' padding at stride 1 is symmetric (k-1)/2; 'valid' strided output sizes equal ONNX floor sizes. Where
 * a downsampling block's conv path is smaller than its average-pooled shortcut (8→3 vs 4, 4→1 vs 2), face-api pads
 * the conv path with zeros at the bottom/right; where the shortcut has fewer channels it is padded with zero channels
 * at the end. Both become ONNX Pad nodes.
 *
 * Deterministic: the same weight files give the same bytes (no timestamps, no host data, fixed node order).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readTfjsWeights, type NamedTensor } from './faceapi-weights.ts';
import { DataType, encodeModel, type Attribute, type Node, type Tensor } from './onnx-proto.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const FACEAPI_DIR = join(ROOT, 'node_modules', '@vladmandic', 'face-api');
export const DEFAULT_OUT = join(ROOT, 'models', 'faceapi-resnet.onnx');
const MANIFEST = 'face_recognition_model-weights_manifest.json';

/** face-api FaceRecognitionNet: `normalize(batchTensor, meanRgb).div(255)` */
export const FACEAPI_MEAN_RGB = [122.782, 117.001, 104.298] as const;
export const INPUT_SIZE = 150;

interface Value {
  readonly name: string;
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  constructor(private readonly weights: Map<string, NamedTensor>) {}

  param(name: string): NamedTensor {
    const t = this.weights.get(name);
    if (t === undefined) throw new Error(`missing weight ${name}`);
    return t;
  }

  init(name: string, dims: number[], data: Tensor['data']): string {
    this.initializers.push({ name, dims, data });
    return name;
  }

  op(opType: string, name: string, inputs: string[], attributes: Attribute[] = []): string {
    this.nodes.push({ opType, name, inputs, outputs: [name], attributes });
    return name;
  }

  /** conv + folded scale layer (+ relu): face-api convLayer(). `pad` is per side. */
  conv(x: Value, prefix: string, stride: number, pad: number, relu: boolean): Value {
    const f = this.param(`${prefix}/conv/filters`);
    const bias = this.param(`${prefix}/conv/bias`).data;
    const sw = this.param(`${prefix}/scale/weights`).data;
    const sb = this.param(`${prefix}/scale/biases`).data;
    const [kh, kw, ci, co] = f.shape;
    if (ci !== x.c) throw new Error(`${prefix}: expects ${ci} input channels, got ${x.c}`);
    // HWIO → OIHW, and the scale layer folded in: (conv(x, W) + b) * s + t = conv(x, W * s) + (b * s + t).
    const oihw = (o: number, i: number, y: number, z: number): number => ((y * kw + z) * ci + i) * co + o;
    const dims = [co, ci, kh, kw];
    let weight: string;
    if (f.quantized === undefined) {
      const w = new Float32Array(co * ci * kh * kw);
      for (let o = 0, k = 0; o < co; o++)
        for (let i = 0; i < ci; i++) for (let y = 0; y < kh; y++) for (let z = 0; z < kw; z++) w[k++] = f.data[oihw(o, i, y, z)] * sw[o];
      weight = this.init(`${prefix}/W`, dims, w);
    } else {
      // Keep the uint8 codes (a quarter of the size) and dequantise in the graph; onnxruntime constant-folds this
      // chain once at session start. Float32 arithmetic here vs double in tfjs moves weights by <= 1 ulp.
      const { codes, scale, min } = f.quantized;
      const q = new Uint8Array(co * ci * kh * kw);
      for (let o = 0, k = 0; o < co; o++)
        for (let i = 0; i < ci; i++) for (let y = 0; y < kh; y++) for (let z = 0; z < kw; z++) q[k++] = codes[oihw(o, i, y, z)];
      const cast = this.op('Cast', `${prefix}/W/cast`, [this.init(`${prefix}/Wq`, dims, q)], [{ name: 'to', i: DataType.FLOAT }]);
      const scaled = this.op('Mul', `${prefix}/W/scale`, [cast, this.init(`${prefix}/Wq_scale`, [], Float32Array.of(scale))]);
      const dequant = this.op('Add', `${prefix}/W/min`, [scaled, this.init(`${prefix}/Wq_min`, [], Float32Array.of(min))]);
      weight = this.op('Mul', `${prefix}/W/fold`, [dequant, this.init(`${prefix}/S`, [co, 1, 1, 1], Float32Array.from(sw))]);
    }
    const b = Float32Array.from(bias, (v, o) => v * sw[o] + sb[o]);
    const conv = this.op('Conv', `${prefix}/conv`, [x.name, weight, this.init(`${prefix}/B`, [co], b)], [
      { name: 'kernel_shape', ints: [kh, kw] },
      { name: 'pads', ints: [pad, pad, pad, pad] },
      { name: 'strides', ints: [stride, stride] },
    ]);
    const out = relu ? this.op('Relu', `${prefix}/relu`, [conv]) : conv;
    const size = (n: number, k: number): number => Math.floor((n + 2 * pad - k) / stride) + 1;
    return { name: out, c: co, h: size(x.h, kh), w: size(x.w, kw) };
  }

  /** face-api residual(): conv-relu, conv, + identity, relu. */
  residual(x: Value, prefix: string): Value {
    const a = this.conv(x, `${prefix}/conv1`, 1, 1, true);
    const b = this.conv(a, `${prefix}/conv2`, 1, 1, false);
    const sum = this.op('Add', `${prefix}/add`, [b.name, x.name]);
    return { ...b, name: this.op('Relu', `${prefix}/out`, [sum]) };
  }

  /** face-api residualDown(): strided conv path + 2x2/2 average-pooled shortcut, zero-padded to match. */
  residualDown(x: Value, prefix: string): Value {
    const a = this.conv(x, `${prefix}/conv1`, 2, 0, true);
    let b = this.conv(a, `${prefix}/conv2`, 1, 1, false);
    let pooled: Value = {
      name: this.op('AveragePool', `${prefix}/pool`, [x.name], [
        { name: 'kernel_shape', ints: [2, 2] },
        { name: 'strides', ints: [2, 2] },
      ]),
      c: x.c,
      h: Math.floor((x.h - 2) / 2) + 1,
      w: Math.floor((x.w - 2) / 2) + 1,
    };
    if (pooled.h !== b.h || pooled.w !== b.w) {
      const dh = pooled.h - b.h;
      const dw = pooled.w - b.w;
      // face-api concatenates ONE zero row and ONE zero column; anything else would be a different network.
      if (dh !== 1 || dw !== 1) throw new Error(`${prefix}: unexpected shape gap ${dh}x${dw}`);
      const pads = this.init(`${prefix}/pad_hw`, [8], BigInt64Array.from([0n, 0n, 0n, 0n, 0n, 0n, 1n, 1n]));
      b = { ...b, name: this.op('Pad', `${prefix}/conv2_padded`, [b.name, pads]), h: pooled.h, w: pooled.w };
    }
    if (pooled.c !== b.c) {
      const extra = BigInt(b.c - pooled.c);
      const pads = this.init(`${prefix}/pad_c`, [8], BigInt64Array.from([0n, 0n, 0n, 0n, 0n, extra, 0n, 0n]));
      pooled = { ...pooled, name: this.op('Pad', `${prefix}/pool_padded`, [pooled.name, pads]), c: b.c };
    }
    const sum = this.op('Add', `${prefix}/add`, [pooled.name, b.name]);
    return { ...b, name: this.op('Relu', `${prefix}/out`, [sum]) };
  }
}

/** Build the ONNX bytes from a face-api model directory (the one holding the weights manifest). */
export function buildFaceapiResnet(modelDir = join(FACEAPI_DIR, 'model')): Buffer {
  const g = new GraphBuilder(readTfjsWeights(modelDir, MANIFEST));
  const mean = g.init('mean_rgb', [1, 3, 1, 1], Float32Array.from(FACEAPI_MEAN_RGB));
  const centred = g.op('Sub', 'normalize/sub', ['input', mean]);
  const scaled = g.op('Div', 'normalize/div', [centred, g.init('div_255', [], Float32Array.of(255))]);

  let x: Value = { name: scaled, c: 3, h: INPUT_SIZE, w: INPUT_SIZE };
  x = g.conv(x, 'conv32_down', 2, 0, true);
  x = {
    ...x,
    name: g.op('MaxPool', 'conv32_down/maxpool', [x.name], [
      { name: 'kernel_shape', ints: [3, 3] },
      { name: 'strides', ints: [2, 2] },
    ]),
    h: Math.floor((x.h - 3) / 2) + 1,
    w: Math.floor((x.w - 3) / 2) + 1,
  };
  for (const p of ['conv32_1', 'conv32_2', 'conv32_3']) x = g.residual(x, p);
  x = g.residualDown(x, 'conv64_down');
  for (const p of ['conv64_1', 'conv64_2', 'conv64_3']) x = g.residual(x, p);
  x = g.residualDown(x, 'conv128_down');
  for (const p of ['conv128_1', 'conv128_2']) x = g.residual(x, p);
  x = g.residualDown(x, 'conv256_down');
  for (const p of ['conv256_1', 'conv256_2']) x = g.residual(x, p);
  x = g.residualDown(x, 'conv256_down_out');

  const pooled = g.op('GlobalAveragePool', 'global_avg', [x.name]);
  const flat = g.op('Flatten', 'flatten', [pooled], [{ name: 'axis', i: 1 }]);
  const fc = g.param('fc');
  g.nodes.push({ opType: 'MatMul', name: 'fc', inputs: [flat, g.init('fc/W', [...fc.shape], fc.data)], outputs: ['embedding'] });

  const faceapiVersion = (JSON.parse(readFileSync(join(FACEAPI_DIR, 'package.json'), 'utf8')) as { version: string }).version;
  return encodeModel({
    irVersion: 8,
    opset: 13,
    producerName: 'regterm scripts/build-faceapi-resnet.ts',
    producerVersion: `@vladmandic/face-api ${faceapiVersion}`,
    docString:
      'face-api FaceRecognitionNet (dlib ResNet-29 metric model). input: [1,3,150,150] float32 RGB 0..255 of a ' +
      'dlib-aligned 150x150 face chip; normalisation (x - mean_rgb) / 255 is in the graph. output "embedding": ' +
      '[1,128] float32, not normalised. Licence: MIT (@vladmandic/face-api).',
    graph: {
      name: 'faceapi_resnet',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: 'input', dims: [1, 3, INPUT_SIZE, INPUT_SIZE] }],
      outputs: [{ name: 'embedding', dims: [1, 128] }],
    },
  });
}

function main(): void {
  const { values } = parseArgs({
    options: { weights: { type: 'string' }, out: { type: 'string', default: DEFAULT_OUT } },
  });
  const bytes = buildFaceapiResnet(values.weights);
  writeFileSync(values.out, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  process.stdout.write(`${JSON.stringify({ out: values.out, bytes: bytes.length, sha256 })}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
