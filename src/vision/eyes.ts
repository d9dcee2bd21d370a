/**
 * Eye state (fr_eye): per eye a square 24×24 gray crop centred on the eye's four lid points, side = 1.6 × the corner
 * distance, pixel/255. Output is two logits; which one means "open" was measured (manifest params.openClass).
 *
 * Naming: `left` and `right` are the SUBJECT's eyes. The subject's left eye is iBUG points 42–47, which appears on the
 * image's right in an unmirrored camera frame.
 */
import type { RgbImage } from './image.ts';
import { param } from './manifest.ts';
import type { LoadedModel } from './model-registry.ts';
import { runModel, softmax } from './run-model.ts';
import { cropMap, warpToTensor } from './warp.ts';

export interface EyeState {
  /** probability that the eye is open, 0–1 */
  left: number;
  right: number;
}

export class EyeModel {
  private readonly model: LoadedModel;
  private readonly input: Float32Array;
  private readonly size: number;
  private readonly cropScale: number;
  private readonly openClass: number;

  constructor(model: LoadedModel) {
    this.model = model;
    this.size = model.entry.input.shape[3];
    this.input = new Float32Array(this.size * this.size);
    this.cropScale = param(model.entry, 'cropScale', 1.6);
    this.openClass = param(model.entry, 'openClass', 1);
  }

  /** Zero the reusable input buffer (it holds the last frame or face crop); the session shell calls it when a session ends. */
  wipe(): void {
    this.input.fill(0);
  }

  async predict(img: RgbImage, lm68: ArrayLike<number>): Promise<EyeState> {
    // subject's right eye: points 36 (outer corner), 39 (inner), lids 37, 38, 40, 41; left eye: 42/45 and 43, 44, 46, 47
    const right = await this.openProb(img, lm68, 36, 39, [37, 38, 40, 41]);
    const left = await this.openProb(img, lm68, 42, 45, [43, 44, 46, 47]);
    return { left, right };
  }

  private async openProb(img: RgbImage, lm: ArrayLike<number>, a: number, b: number, lids: number[]): Promise<number> {
    let cx = 0;
    let cy = 0;
    for (const i of lids) {
      cx += lm[2 * i] / lids.length;
      cy += lm[2 * i + 1] / lids.length;
    }
    const side = Math.max(2, Math.hypot(lm[2 * b] - lm[2 * a], lm[2 * b + 1] - lm[2 * a + 1]) * this.cropScale);
    const box = { x1: cx - side / 2, y1: cy - side / 2, x2: cx + side / 2, y2: cy + side / 2 };
    warpToTensor(img, cropMap(box, this.size, this.size), this.size, this.size, this.model.entry.input, this.input);
    const logits = (await runModel(this.model, this.input)).output;
    return softmax(logits)[this.openClass];
  }
}
