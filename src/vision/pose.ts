/**
 * Head pose (fr_pose, hopenet-style): a 224×224 RGB crop (ImageNet normalisation) of the face box grown by
 * params.cropScale; three 66-bin heads; angle = softmax expectation × 3 − 99 degrees.
 *
 * Sign convention, in the image as given (vision cannot know whether a camera mirrors; src/session/signals.ts uses
 * the same convention and maps it to the subject's side). Measured on mirrored photos and on clips with annotated
 * turns (test/hil/vision/engine.spec.ts, manifest pose.params.evidence):
 *   yaw   > 0: the face turns toward the IMAGE RIGHT (= the subject's own left in an unmirrored frame)
 *   pitch > 0: chin up (the subject looks up)
 *   roll  > 0: the top of the head tilts toward the IMAGE RIGHT
 * `params.signs` holds the per-axis factor that maps the model's raw angles onto this convention.
 */
import type { RgbImage } from './image.ts';
import { squareAround } from './landmarks.ts';
import { param } from './manifest.ts';
import type { LoadedModel } from './model-registry.ts';
import { runModel, softmax } from './run-model.ts';
import { type Box, cropMap, warpToTensor } from './warp.ts';

export interface Pose {
  yaw: number;
  pitch: number;
  roll: number;
}

export class PoseModel {
  private readonly model: LoadedModel;
  private readonly input: Float32Array;
  private readonly size: number;
  private readonly cropScale: number;
  private readonly signs: { yaw: number; pitch: number; roll: number };

  constructor(model: LoadedModel) {
    this.model = model;
    this.size = model.entry.input.shape[3];
    this.input = new Float32Array(3 * this.size * this.size);
    this.cropScale = param(model.entry, 'cropScale', 1.5);
    this.signs = param(model.entry, 'signs', { yaw: 1, pitch: 1, roll: 1 });
  }

  /** Zero the reusable input buffer (it holds the last frame or face crop); the session shell calls it when a session ends. */
  wipe(): void {
    this.input.fill(0);
  }

  async predict(img: RgbImage, box: Box): Promise<Pose> {
    const crop = squareAround(box, this.cropScale);
    warpToTensor(img, cropMap(crop, this.size, this.size), this.size, this.size, this.model.entry.input, this.input);
    const out = await runModel(this.model, this.input);
    return {
      yaw: this.signs.yaw * binExpectation(out.output),
      pitch: this.signs.pitch * binExpectation(out['617']),
      roll: this.signs.roll * binExpectation(out['618']),
    };
  }
}

/** hopenet decoding: Σ softmax(logits)[i]·i × 3 − 99. */
export function binExpectation(logits: ArrayLike<number>): number {
  const p = softmax(logits);
  let e = 0;
  for (let i = 0; i < p.length; i++) e += p[i] * i;
  return e * 3 - 99;
}
