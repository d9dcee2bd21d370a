/**
 * Passive anti-spoofing (fr_liveness, MiniFASNet-style, 128×128, BGR, raw 0–255). The crop is the square face box
 * grown by params.cropScale (models of this family are trained on a crop ≈2.7× the box), shrunk if the image is too
 * small and shifted to stay inside the image (as Silent-Face-Anti-Spoofing crops), then resized.
 * Score = softmax probability of params.realClass: 1 = looks live, 0 = looks like an attack.
 */
import type { RgbImage } from './image.ts';
import { squareAround } from './landmarks.ts';
import { param } from './manifest.ts';
import type { LoadedModel } from './model-registry.ts';
import { runModel, softmax } from './run-model.ts';
import { type Box, cropMap, warpToTensor } from './warp.ts';

export class AntispoofModel {
  private readonly model: LoadedModel;
  private readonly input: Float32Array;
  private readonly size: number;
  private readonly cropScale: number;
  private readonly realClass: number;

  constructor(model: LoadedModel, cropScale?: number) {
    this.model = model;
    this.size = model.entry.input.shape[3];
    this.input = new Float32Array(3 * this.size * this.size);
    this.cropScale = cropScale ?? param(model.entry, 'cropScale', 2.7);
    this.realClass = param(model.entry, 'realClass', 1);
  }

  /** Zero the reusable input buffer (it holds the last frame or face crop); the session shell calls it when a session ends. */
  wipe(): void {
    this.input.fill(0);
  }

  /** Probability that the face is live (0–1). */
  async score(img: RgbImage, box: Box): Promise<number> {
    const crop = livenessCrop(img, squareAround(box, 1), this.cropScale);
    warpToTensor(img, cropMap(crop, this.size, this.size), this.size, this.size, this.model.entry.input, this.input);
    return softmax((await runModel(this.model, this.input)).output)[this.realClass];
  }
}

/** Grow `box` by `scale` (limited so it fits the image), then shift it inside the image. */
export function livenessCrop(img: RgbImage, box: Box, scale: number): Box {
  const bw = box.x2 - box.x1;
  const bh = box.y2 - box.y1;
  const s = Math.min((img.height - 1) / bh, (img.width - 1) / bw, scale);
  const w = bw * s;
  const h = bh * s;
  const cx = (box.x1 + box.x2) / 2;
  const cy = (box.y1 + box.y2) / 2;
  let x1 = cx - w / 2;
  let y1 = cy - h / 2;
  x1 = Math.min(Math.max(x1, 0), img.width - 1 - w);
  y1 = Math.min(Math.max(y1, 0), img.height - 1 - h);
  return { x1, y1, x2: x1 + w, y2: y1 + h };
}
