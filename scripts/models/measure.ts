/**
 * Measurements of the model build on raw model inputs: latency of one ONNX file at one thread, and per-model
 * agreement of a candidate's outputs with the source model's outputs on the same inputs.
 */
import ort from 'onnxruntime-node';
import { cosine } from '../../src/session/face-template.ts';
import { softmax } from '../../src/vision/run-model.ts';

export type Outputs = Record<string, Float32Array>;

export async function openSession(path: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
}

export async function runAll(
  session: ort.InferenceSession,
  inputName: string,
  shape: number[],
  inputs: Float32Array[],
): Promise<Outputs[]> {
  const out: Outputs[] = [];
  for (const x of inputs) {
    const r = await session.run({ [inputName]: new ort.Tensor('float32', x, shape) });
    const o: Outputs = {};
    for (const [k, v] of Object.entries(r)) o[k] = Float32Array.from(v.data as Float32Array);
    out.push(o);
  }
  return out;
}

/**
 * Median latency in ms per session of `runs` calls on `input` after 3 warm-ups. The sessions take turns call by
 * call, so load from other processes on a shared machine falls on all of them alike.
 */
export async function medianMs(sessions: Record<string, ort.InferenceSession>, inputName: string, shape: number[], input: Float32Array, runs: number): Promise<Record<string, number>> {
  const feeds = { [inputName]: new ort.Tensor('float32', input, shape) };
  const t: Record<string, number[]> = {};
  for (const [k, s] of Object.entries(sessions)) {
    t[k] = [];
    for (let i = 0; i < 3; i++) await s.run(feeds);
  }
  for (let i = 0; i < runs; i++) {
    for (const [k, s] of Object.entries(sessions)) {
      const t0 = performance.now();
      await s.run(feeds);
      t[k].push(performance.now() - t0);
    }
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(t)) out[k] = Math.round(quantile(v, 0.5) * 1000) / 1000;
  return out;
}

export function maxAbsDiff(a: Outputs[], b: Outputs[]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    for (const k of Object.keys(a[i])) {
      const x = a[i][k];
      const y = b[i][k];
      for (let j = 0; j < x.length; j++) m = Math.max(m, Math.abs(x[j] - y[j]));
    }
  }
  return m;
}


export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))];
}

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

/** Hopenet angle from 66 bin logits: softmax expectation * 3 - 99 degrees. */
function angle(logits: Float32Array): number {
  const p = softmax(logits);
  let e = 0;
  for (let i = 0; i < p.length; i++) e += p[i] * i;
  return e * 3 - 99;
}

export type Agreement = Record<string, number>;

/**
 * How a candidate's outputs agree with the source's, in each model's own terms (what its consumer decides from).
 * `liveThreshold` is the manifest's per-frame anti-spoof threshold on p[live].
 */
export function agreement(model: string, src: Outputs[], cand: Outputs[], liveThreshold: number): Agreement {
  const n = src.length;
  const r: Agreement = { inputs: n, maxAbsDiff: maxAbsDiff(src, cand) };
  if (model === 'feature' || model === 'faceapi-resnet') {
    const key = Object.keys(src[0])[0];
    const c = src.map((s, i) => cosine(s[key], cand[i][key]));
    r.cosineMin = Math.min(...c);
    r.cosineMedian = quantile(c, 0.5);
    r.cosineP01 = quantile(c, 0.01);
    r.cosineP05 = quantile(c, 0.05);
  } else if (model === 'eye') {
    r.decisionAgreement = src.filter((s, i) => argmax(s.output) === argmax(cand[i].output)).length / n;
  } else if (model === 'liveness') {
    const live = (o: Outputs): boolean => softmax(o.output)[0] >= liveThreshold;
    r.decisionAgreement = src.filter((s, i) => live(s) === live(cand[i])).length / n;
  } else if (model === 'pose') {
    const d: number[] = [];
    for (let i = 0; i < n; i++) for (const k of Object.keys(src[i])) d.push(Math.abs(angle(src[i][k]) - angle(cand[i][k])));
    r.angleDiffMedianDeg = quantile(d, 0.5);
    r.angleDiffP99Deg = quantile(d, 0.99);
  } else if (model === 'landmark') {
    const d: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < src[i].output.length; j++) d.push(Math.abs(src[i].output[j] - cand[i].output[j]));
    r.pointDiffMedian = quantile(d, 0.5);
    r.pointDiffP99 = quantile(d, 0.99);
  } else if (model === 'detect') {
    let score = 0;
    let box = 0;
    for (let i = 0; i < n; i++) {
      const s = src[i];
      const c = cand[i];
      for (let p = 0; p < s.scores.length / 2; p++) {
        score = Math.max(score, Math.abs(s.scores[2 * p + 1] - c.scores[2 * p + 1]));
        if (s.scores[2 * p + 1] < 0.5) continue;
        for (let j = 0; j < 4; j++) box = Math.max(box, Math.abs(s.boxes[4 * p + j] - c.boxes[4 * p + j]));
      }
    }
    r.faceScoreMaxDiff = score;
    r.faceBoxMaxDiff = box;
  }
  return r;
}

/** The int8 acceptance rule per model (model-level; the engine-level gates are test/hil/models). */
export function int8Acceptable(model: string, a: Agreement): boolean {
  switch (model) {
    case 'feature':
    case 'faceapi-resnet':
      return a.cosineMin >= 0.97 && a.cosineMedian >= 0.985;
    case 'eye':
    case 'liveness':
      return a.decisionAgreement >= 0.99;
    case 'pose':
      return a.angleDiffMedianDeg <= 1 && a.angleDiffP99Deg <= 4;
    case 'landmark':
      return a.pointDiffMedian <= 0.004 && a.pointDiffP99 <= 0.015;
    case 'detect':
      return a.faceScoreMaxDiff <= 0.1 && a.faceBoxMaxDiff <= 0.02;
    default:
      return false;
  }
}
