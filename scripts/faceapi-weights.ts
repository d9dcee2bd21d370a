/**
 * Reads a tfjs "weights manifest" (JSON) plus its binary shards into named float32 tensors, exactly as tfjs
 * `io.decodeWeights` does: shards are concatenated in manifest order, each weight takes prod(shape) elements of its
 * stored dtype, and uint8/uint16-quantised weights are dequantised as `q * scale + min` (computed in double, stored
 * as float32 — the same rounding tfjs applies, so the ONNX build starts from bit-identical parameters).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NamedTensor {
  /** tfjs shape, e.g. conv filters [kh, kw, in, out] (HWIO) */
  readonly shape: readonly number[];
  /** dequantised values, as tfjs holds them */
  readonly data: Float32Array;
  /** the stored uint8 codes and their affine map (value = code * scale + min), when the weight is quantised */
  readonly quantized?: { readonly codes: Uint8Array; readonly scale: number; readonly min: number };
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale: number; min: number };
}

interface ManifestGroup {
  paths: string[];
  weights: WeightSpec[];
}

const BYTES: Record<string, number> = { float32: 4, uint8: 1, uint16: 2 };

export function readTfjsWeights(dir: string, manifestFile: string): Map<string, NamedTensor> {
  const groups = JSON.parse(readFileSync(join(dir, manifestFile), 'utf8')) as ManifestGroup[];
  const out = new Map<string, NamedTensor>();
  for (const group of groups) {
    const buf = Buffer.concat(group.paths.map((p) => readFileSync(join(dir, p))));
    let offset = 0;
    for (const w of group.weights) {
      if (w.dtype !== 'float32') throw new Error(`${w.name}: unsupported dtype ${w.dtype}`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      const stored = w.quantization?.dtype ?? 'float32';
      const size = BYTES[stored];
      if (size === undefined) throw new Error(`${w.name}: unsupported quantisation ${stored}`);
      if (offset + n * size > buf.length) throw new Error(`${w.name}: weight data ends before the manifest does`);
      const data = new Float32Array(n);
      const q = w.quantization;
      for (let i = 0; i < n; i++) {
        const at = offset + i * size;
        if (q === undefined) data[i] = buf.readFloatLE(at);
        else data[i] = (size === 1 ? buf[at] : buf.readUInt16LE(at)) * q.scale + q.min;
      }
      const quantized = q !== undefined && size === 1 ? { codes: Uint8Array.from(buf.subarray(offset, offset + n)), scale: q.scale, min: q.min } : undefined;
      out.set(w.name, { shape: w.shape, data, quantized });
      offset += n * size;
    }
    if (offset !== buf.length) throw new Error(`manifest covers ${offset} of ${buf.length} weight bytes`);
  }
  return out;
}
