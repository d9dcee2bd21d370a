/** One inference call on a verified model: a float tensor in, named float outputs back. */
import type { LoadedModel } from './model-registry.ts';
import ort from './onnxruntime.ts';

export type ModelOutputs = Record<string, Float32Array>;

/** Run `model` on `input` (laid out as the manifest's input shape). Outputs are copied out of ORT's buffers. */
export async function runModel(model: LoadedModel, input: Float32Array): Promise<ModelOutputs> {
  const spec = model.entry.input;
  const tensor = new ort.Tensor('float32', input, spec.shape);
  const result = await model.session.run({ [spec.name]: tensor });
  const out: ModelOutputs = {};
  for (const [name, value] of Object.entries(result)) {
    out[name] = value.data as Float32Array;
  }
  return out;
}

/** Numerically stable softmax of a logit vector slice. */
export function softmax(logits: ArrayLike<number>, start = 0, length = logits.length - start): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < length; i++) max = Math.max(max, logits[start + i]);
  const p = new Float64Array(length);
  let sum = 0;
  for (let i = 0; i < length; i++) {
    p[i] = Math.exp(logits[start + i] - max);
    sum += p[i];
  }
  for (let i = 0; i < length; i++) p[i] /= sum;
  return p;
}
