/**
 * The TensorFlow.js graph-model file format as scripts/tfjs-graph-to-onnx.ts reads it: the model.json types and the
 * weight shards decoded into named constants. Weights: float32 and int32, and tfjs's quantised storage (uint8/uint16
 * affine codes, float16), dequantised to float32; anything else is refused by name.
 */

/** The parts of a tfjs graph-model model.json this converter reads. */
export interface TfjsGraphModel {
  readonly format?: string;
  readonly modelTopology: { readonly node: readonly TfNode[] };
  readonly weightsManifest: readonly { readonly paths: readonly string[]; readonly weights: readonly WeightSpec[] }[];
  readonly userDefinedMetadata?: {
    readonly signature?: { readonly outputs?: Record<string, { readonly name: string }> };
  };
}

export interface TfNode {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
  readonly attr?: Record<string, TfAttr>;
}

export interface TfAttr {
  readonly s?: string;
  readonly i?: string | number;
  readonly f?: number;
  readonly b?: boolean;
  readonly list?: { readonly s?: readonly string[]; readonly i?: readonly (string | number)[] };
  readonly shape?: { readonly dim?: readonly { readonly size?: string | number }[] };
  readonly type?: string;
}

export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly quantization?: { readonly dtype: string; readonly scale?: number; readonly min?: number };
}

/** A decoded weight: float32 (dequantised if stored quantised) or int32, row-major in its tfjs shape. */
export interface Const {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/** IEEE 754 binary16 → number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Bytes per stored value: tfjs quantisation stores uint8/uint16 affine codes or float16 halves. */
function storedBytes(spec: WeightSpec): number {
  const q = spec.quantization?.dtype;
  if (q === undefined) return 4;
  if (spec.dtype !== 'float32') throw new Error(`weight ${spec.name}: unsupported quantization ${q} of ${spec.dtype}`);
  if (q === 'uint8') return 1;
  if (q === 'uint16' || q === 'float16') return 2;
  throw new Error(`weight ${spec.name}: unsupported quantization ${q}`);
}

/** Decode the weight shards (concatenated in manifest order) into named float32/int32 constants. */
export function readWeights(model: TfjsGraphModel, shards: readonly Buffer[]): Map<string, Const> {
  const specs = model.weightsManifest.flatMap((g) => g.weights);
  const buf = Buffer.concat(shards);
  const expected = specs.reduce((s, w) => s + w.shape.reduce((x, y) => x * y, 1) * storedBytes(w), 0);
  if (expected !== buf.length) throw new Error(`weights: manifest describes ${expected} bytes, shards hold ${buf.length}`);
  const out = new Map<string, Const>();
  let offset = 0;
  for (const spec of specs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    const at = offset;
    let data: Float32Array | Int32Array;
    if (q?.dtype === 'float16') data = Float32Array.from({ length: n }, (_, k) => halfToFloat(buf.readUInt16LE(at + 2 * k)));
    else if (q !== undefined) {
      // tfjs affine quantisation: value = code * scale + min
      const { scale, min } = q;
      if (scale === undefined || min === undefined) throw new Error(`weight ${spec.name}: ${q.dtype} quantization without scale/min`);
      const code = q.dtype === 'uint8' ? (k: number): number => buf.readUInt8(at + k) : (k: number): number => buf.readUInt16LE(at + 2 * k);
      data = Float32Array.from({ length: n }, (_, k) => code(k) * scale + min);
    } else if (spec.dtype === 'float32') data = Float32Array.from({ length: n }, (_, k) => buf.readFloatLE(at + 4 * k));
    else if (spec.dtype === 'int32') data = Int32Array.from({ length: n }, (_, k) => buf.readInt32LE(at + 4 * k));
    else throw new Error(`weight ${spec.name}: unsupported dtype ${spec.dtype}`);
    out.set(spec.name, { shape: spec.shape, data });
    offset += n * storedBytes(spec);
  }
  return out;
}
