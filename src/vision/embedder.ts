/**
 * Embedders: aligned face chip → L2-normalised vector. The seam for more than one embedder: each is named after its
 * manifest model, declares its own 5-point template and chip size, and the matcher fuses per-embedder cosines.
 *
 * `TemplateEmbedder` covers any model whose input is a similarity-aligned chip described entirely by the manifest:
 * input shape, colour, mean/std, params.template = the 5 points (fivePoints order) in chip pixels, optional
 * params.outputName, and optionally params.alignLandmarks + params.alignPoints = 68-point indices and their chip
 * positions, for a model trained on a fit over more landmarks (dlib's chip: 33 points). A model needing something
 * else implements `Embedder` in its own file.
 */
import type { Point } from './align.ts';
import { similarityTransform } from './align.ts';
import type { RgbImage } from './image.ts';
import { param } from './manifest.ts';
import type { LoadedModel } from './model-registry.ts';
import { runModel } from './run-model.ts';
import { invertAffine, warpToTensor } from './warp.ts';

/** Where the face is, in `img` pixels: 5 points (fivePoints order) and, when known, all 68 landmarks. */
export interface FaceLocation {
  points5: readonly Point[];
  landmarks68?: ArrayLike<number>;
}

export interface Embedder {
  /** manifest model name; the key of this embedder's vector in a FaceTemplate */
  readonly name: string;
  /** embed the located face; the result has unit L2 norm */
  embed(img: RgbImage, face: FaceLocation): Promise<Float32Array>;
  /** zero any buffer that keeps the last aligned crop between calls */
  wipe?(): void;
}

export class TemplateEmbedder implements Embedder {
  readonly name: string;
  private readonly model: LoadedModel;
  private readonly input: Float32Array;
  private readonly width: number;
  private readonly height: number;
  private readonly template: Point[];
  private readonly alignLandmarks: number[];
  private readonly alignPoints: Point[];
  private readonly outputName: string;

  constructor(model: LoadedModel) {
    this.model = model;
    this.name = model.name;
    const [, c, h, w] = model.entry.input.shape;
    this.width = w;
    this.height = h;
    this.input = new Float32Array(c * w * h);
    this.template = param<Point[]>(model.entry, 'template', []);
    if (this.template.length !== 5) throw new RangeError(`model ${model.name}: params.template needs 5 points`);
    this.alignLandmarks = param<number[]>(model.entry, 'alignLandmarks', []);
    this.alignPoints = param<Point[]>(model.entry, 'alignPoints', []);
    if (this.alignLandmarks.length !== this.alignPoints.length) {
      throw new RangeError(`model ${model.name}: params.alignLandmarks and params.alignPoints differ in length`);
    }
    this.outputName = param(model.entry, 'outputName', Object.keys(model.entry.outputs)[0]);
  }

  /** Zero the reusable input buffer (it holds the last frame or face crop); the session shell calls it when a session ends. */
  wipe(): void {
    this.input.fill(0);
  }

  async embed(img: RgbImage, face: FaceLocation): Promise<Float32Array> {
    const lm = face.landmarks68;
    const toChip =
      lm && this.alignLandmarks.length > 0
        ? similarityTransform(
            this.alignLandmarks.map((i) => [lm[2 * i], lm[2 * i + 1]] as Point),
            this.alignPoints,
          )
        : similarityTransform(face.points5, this.template);
    warpToTensor(img, invertAffine(toChip), this.width, this.height, this.model.entry.input, this.input);
    const raw = (await runModel(this.model, this.input))[this.outputName];
    return l2normalise(Float32Array.from(raw));
  }
}

export function l2normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}
