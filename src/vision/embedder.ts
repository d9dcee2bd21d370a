/**
 * Embedders: aligned face chip → L2-normalised vector. The seam for more than one embedder: each is named after its
 * manifest model, declares its own 5-point template and chip size, and the matcher fuses per-embedder cosines.
 *
 * `TemplateEmbedder` covers any model whose input is a similarity-aligned chip described entirely by the manifest
 * (input shape, colour, mean/std, params.template = the 5 points in chip pixels, optional params.outputName). A model
 * needing something else implements `Embedder` in its own file.
 */
import type { Point } from './align.ts';
import { similarityTransform } from './align.ts';
import type { RgbImage } from './image.ts';
import { param } from './manifest.ts';
import type { LoadedModel } from './model-registry.ts';
import { runModel } from './run-model.ts';
import { invertAffine, warpToTensor } from './warp.ts';

export interface Embedder {
  /** manifest model name; the key of this embedder's vector in a FaceTemplate */
  readonly name: string;
  /** embed the face whose 5 points (fivePoints order) are given in `img` pixels; result has unit L2 norm */
  embed(img: RgbImage, points5: readonly Point[]): Promise<Float32Array>;
}

export class TemplateEmbedder implements Embedder {
  readonly name: string;
  private readonly model: LoadedModel;
  private readonly input: Float32Array;
  private readonly width: number;
  private readonly height: number;
  private readonly template: Point[];
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
    this.outputName = param(model.entry, 'outputName', Object.keys(model.entry.outputs)[0]);
  }

  async embed(img: RgbImage, points5: readonly Point[]): Promise<Float32Array> {
    const toChip = similarityTransform(points5, this.template);
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

/** Cosine similarity of two unit vectors. */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError('embedding lengths differ');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
