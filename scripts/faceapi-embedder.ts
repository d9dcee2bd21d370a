/**
 * face-api's 128-d ResNet (dlib_face_recognition_resnet_model_v1, ResNet-29 metric learning, 99.38% on LFW as
 * published by dlib) as ONNX: models/faceapi-resnet.onnx, built by scripts/build-faceapi-resnet.ts from the tfjs
 * weights in @vladmandic/face-api (MIT) and verified against face-api's own tfjs forward pass.
 *
 * Build and verification tooling: the agent runs this model through the manifest (src/vision/embedder.ts); this
 * standalone embedder takes ready-made chips so the tfjs parity check and the chip evaluations need no detector.
 *
 * Input contract: a 150x150 RGB chip aligned like dlib's `extract_image_chip(img, get_face_chip_details(shape, 150,
 * 0.25))`. The model takes raw 0..255 values (NCHW float32); face-api's normalisation ((x - mean) / 255) is inside
 * the graph, so the tensor spec for a warper is colour rgb, mean [0,0,0], std [1,1,1]. Output: L2-normalised 128-d.
 *
 * INVARIANTS: a session exists only for file bytes whose sha256 matched the expected digest (checked on the same
 * bytes the session is created from); embeddings are returned to the caller and never logged.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import type { Logger } from 'pino';
import { ModelIntegrityError } from '../src/lib/errors.ts';
import { l2normalise } from '../src/vision/embedder.ts';

export const FACEAPI_RESNET = {
  name: 'faceapi-resnet',
  sha256: '34710e2223e3d1a6c57f43d3a0b2fac5c38248931628dd28902a0b367dc26e0e',
  bytes: 6_581_237,
  chipSize: 150,
  inputName: 'input',
  outputName: 'embedding',
  dims: 128,
  licence: 'MIT (@vladmandic/face-api 1.7.15; weights from dlib_face_recognition_resnet_model_v1)',
} as const;

export const DEFAULT_FACEAPI_RESNET_PATH = new URL('../models/faceapi-resnet.onnx', import.meta.url).pathname;

/** Pixel-to-tensor spec for a generic warper (same shape as warp.ts TensorSpec): raw RGB, normalised in-graph. */
export const FACEAPI_TENSOR_SPEC = { colour: 'rgb', mean: [0, 0, 0], std: [1, 1, 1] } as const;

/**
 * dlib's mean face shape for 68-point landmarks 17..67 (image_transforms/interpolation.h, get_face_chip_details),
 * in units of the face box: index i holds landmark 17 + i.
 */
const MEAN_FACE_X = [
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127,
  0.490127, 0.490127, 0.490127, 0.36688, 0.426036, 0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825,
  0.334606, 0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149, 0.340985,
  0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379,
  0.428096, 0.490127, 0.552157, 0.689874, 0.553364, 0.490127, 0.42689,
];
const MEAN_FACE_Y = [
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454, 0.203352,
  0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852,
  0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099, 0.780233, 0.745405,
  0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792,
  0.778746, 0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182,
];

/** Where dlib puts 68-point landmark `i` (17..67) in a `size` chip with `padding`: (padding + mean) / (1 + 2·padding) · size. */
function chipPoint(i: number, size: number, padding: number): [number, number] {
  const k = size / (1 + 2 * padding);
  return [(padding + MEAN_FACE_X[i - 17]) * k, (padding + MEAN_FACE_Y[i - 17]) * k];
}

/**
 * dlib's own alignment: the 33 landmarks get_face_chip_details fits (68-point indices 27..54 and 60..64 — no jaw,
 * eyebrows or lower lip) and their chip coordinates (pixel centres at integers, as dlib and cv.warpAffine).
 * A least-squares similarity from these landmarks onto `points` reproduces dlib's chip.
 */
export function dlibChipTemplate68(size = 150, padding = 0.25): { landmarks: number[]; points: [number, number][] } {
  const landmarks: number[] = [];
  for (let i = 27; i < 68; i++) if (!(i >= 55 && i <= 59) && !(i >= 65 && i <= 67)) landmarks.push(i);
  return { landmarks, points: landmarks.map((i) => chipPoint(i, size, padding)) };
}

/**
 * The same chip as 5 points in align.ts fivePoints order — image-left eye centre (mean of 36..41), image-right eye
 * centre (42..47), nose tip (30), mouth corners 48 and 54 — each the same average of dlib's mean-shape points.
 * For size 150, padding 0.25: (47.55, 46.60) (100.48, 46.60) (74.01, 76.56) (50.41, 103.02) (97.61, 103.02).
 */
export function dlibChipTemplate5(size = 150, padding = 0.25): [number, number][] {
  const mean = (idx: number[]): [number, number] => {
    const pts = idx.map((i) => chipPoint(i, size, padding));
    return [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];
  };
  return [mean([36, 37, 38, 39, 40, 41]), mean([42, 43, 44, 45, 46, 47]), mean([30]), mean([48]), mean([54])];
}

export interface FaceapiEmbedderOptions {
  /** the .onnx file; default models/faceapi-resnet.onnx */
  modelPath?: string;
  /** expected sha256 (hex) of the file; default FACEAPI_RESNET.sha256 */
  sha256?: string;
  /**
   * Test-time flip: embed the chip and its mirror image and return the normalised sum (two inferences). On LFW
   * View 1 this raised TAR@FAR 1e-3 from 94.3% to 95.2% (research/eval-faceapi-lfw.ts). Default false.
   */
  flip?: boolean;
  logger?: Logger;
}

export class FaceapiEmbedder {
  readonly name = FACEAPI_RESNET.name;
  private readonly opts: FaceapiEmbedderOptions;
  private session: ort.InferenceSession | undefined;

  constructor(opts: FaceapiEmbedderOptions = {}) {
    this.opts = opts;
  }

  /** Verify the model file and open one single-threaded, non-spinning session. Throws ModelIntegrityError. */
  async start(): Promise<void> {
    if (this.session) return;
    const path = this.opts.modelPath ?? DEFAULT_FACEAPI_RESNET_PATH;
    const expected = this.opts.sha256 ?? FACEAPI_RESNET.sha256;
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e: unknown) {
      throw new ModelIntegrityError(`model ${this.name}: ${path} cannot be read`, { cause: e });
    }
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== expected) {
      throw new ModelIntegrityError(`model ${this.name}: ${path} has sha256 ${digest}, expected ${expected}; refusing to load`);
    }
    this.session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
    this.opts.logger?.debug({ model: this.name, sha256: digest, bytes: bytes.length }, 'model loaded');
  }

  /** Embed a 150x150 RGB chip, interleaved HWC uint8 (stride = 450). Returns a unit-length Float32Array(128). */
  async embedChip(chip: Uint8Array): Promise<Float32Array> {
    const size = FACEAPI_RESNET.chipSize;
    const plane = size * size;
    if (chip.length !== plane * 3) throw new RangeError(`expected a ${size}x${size} RGB chip (${plane * 3} bytes), got ${chip.length}`);
    // A tensor per call: concurrent calls must not share pixels; it is zeroed once inference is done.
    const input = new Float32Array(3 * plane);
    for (let p = 0, s = 0; p < plane; p++, s += 3) {
      input[p] = chip[s];
      input[p + plane] = chip[s + 1];
      input[p + 2 * plane] = chip[s + 2];
    }
    try {
      return await this.embedTensor(input);
    } finally {
      input.fill(0);
    }
  }

  /** Embed a planar [3,150,150] RGB tensor of raw 0..255 values (FACEAPI_TENSOR_SPEC). Unit-length result. */
  async embedTensor(chw: Float32Array): Promise<Float32Array> {
    const v = l2normalise(await this.embedRaw(chw));
    if (!this.opts.flip) return v;
    const mirrored = mirrorPlanar(chw, FACEAPI_RESNET.chipSize);
    const m = l2normalise(await this.embedRaw(mirrored));
    mirrored.fill(0);
    for (let i = 0; i < v.length; i++) v[i] += m[i];
    return l2normalise(v);
  }

  /** The model's descriptor before normalisation: what face-api's computeFaceDescriptor returns. */
  async embedRaw(chw: Float32Array): Promise<Float32Array> {
    const session = this.session;
    if (!session) throw new Error(`${this.name}: start() has not completed`);
    const size = FACEAPI_RESNET.chipSize;
    if (chw.length !== 3 * size * size) throw new RangeError(`expected a [3,${size},${size}] tensor, got ${chw.length} values`);
    const feeds = { [FACEAPI_RESNET.inputName]: new ort.Tensor('float32', chw, [1, 3, size, size]) };
    const result = await session.run(feeds);
    const out = result[FACEAPI_RESNET.outputName];
    const copy = Float32Array.from(out.data as Float32Array);
    out.dispose();
    return copy;
  }

  async stop(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.release();
  }
}


/** Left-right mirror of a planar C×H×W tensor with rows of `width`. */
export function mirrorPlanar(t: Float32Array, width: number): Float32Array {
  const out = new Float32Array(t.length);
  for (let row = 0; row < t.length / width; row++) {
    const o = row * width;
    for (let x = 0; x < width; x++) out[o + x] = t[o + width - 1 - x];
  }
  return out;
}
