/**
 * Lid opening from MediaPipe's iris landmark model (models/iris.onnx, built by scripts/build-human-models.ts): per eye
 * a geometric measure of how far the lids are apart, which — unlike the eye-state model's open probability — stays
 * well above a blink's value on half-lidded or downcast eyes.
 *
 * Crop (MediaPipe / human's getEyeBox): the box spanned by the eye's two corners (iBUG 36/39, 42/45), enlarged 2.3x
 * about its centre, squared on its longer side, 64x64 RGB, pixel / 255, NHWC. The model is trained on the eye that
 * appears on the IMAGE's left (the subject's right eye in an unmirrored frame); the other eye's crop is flipped
 * horizontally, which a mirror-symmetric measure does not need to undo.
 *
 * Output: 71 eye-contour points then 5 iris points, (x, y, z) in crop pixels; lower lid 0-8 (corner to corner),
 * upper lid 9-15. `lidOpening` = mean distance between the upper lid's points and the lower lid's inner points,
 * measured perpendicular to the corner-to-corner axis (so head roll does not shrink it), over the corner distance
 * (so face size and the eye's foreshortening in a head turn largely cancel). Typical open eyes 0.2-0.25, closed < 0.1.
 */
import type { RgbImage } from './image.ts';
import type { LoadedModel } from './model-registry.ts';
import { runModel } from './run-model.ts';
import { type Box, cropMap, warpToTensor } from './warp.ts';

const SIZE = 64;
/** the model's input, NHWC (the tfjs signature), and the floats of one eye crop */
export const IRIS_INPUT_SHAPE = [1, SIZE, SIZE, 3] as const;
export const EYE_CROP_FLOATS = 3 * SIZE * SIZE;
/** MediaPipe's eye-box enlargement (human's irisEnlarge) */
const ENLARGE = 2.3;
/** contour indices of the lower lid (0 and 8 are the corners) and the upper lid */
const LOWER_INNER = [1, 2, 3, 4, 5, 6, 7];
const UPPER = [9, 10, 11, 12, 13, 14, 15];

/** The eye's square crop box in image pixels from its two corners (MediaPipe getEyeBox). */
export function eyeBox(ax: number, ay: number, bx: number, by: number): Box {
  const cx = (ax + bx) / 2;
  const cy = (ay + by) / 2;
  const half = (ENLARGE * Math.max(Math.abs(bx - ax), Math.abs(by - ay))) / 2;
  return { x1: Math.round(cx - half), y1: Math.round(cy - half), x2: Math.round(cx + half), y2: Math.round(cy + half) };
}

/** Lid opening of one model output (see the module comment); 0 for a degenerate contour. */
export function lidOpening(out: ArrayLike<number>): number {
  const ax = out[0];
  const ay = out[1];
  const w = Math.hypot(out[24] - ax, out[25] - ay);
  if (!(w > 0)) return 0;
  // unit normal of the corner axis, pointing down the image for a left-to-right axis
  const nx = -(out[25] - ay) / w;
  const ny = (out[24] - ax) / w;
  const below = (i: number): number => (out[3 * i] - ax) * nx + (out[3 * i + 1] - ay) * ny;
  const mean = (idx: number[]): number => idx.reduce((s, i) => s + below(i), 0) / idx.length;
  return Math.max(0, (mean(LOWER_INNER) - mean(UPPER)) / w);
}

export interface LidOpenings {
  /** the subject's own left eye (iBUG 42-47) */
  left: number;
  right: number;
}

const RGB_UNIT = { colour: 'rgb', mean: [0, 0, 0], std: [255, 255, 255] } as const;

/**
 * The model input for the subject's `eye` (right = iBUG corners 36/39, the image-left eye and the model's native
 * one; left = 42/45, flipped): 64x64 NHWC RGB / 255 into `out`, through the planar scratch buffer `planar` (both
 * 3*64*64 floats).
 */
export function eyeCrop(img: RgbImage, lm68: ArrayLike<number>, eye: 'left' | 'right', out: Float32Array, planar: Float32Array): Float32Array {
  const [a, b] = eye === 'right' ? [36, 39] : [42, 45];
  const box = eyeBox(lm68[2 * a], lm68[2 * a + 1], lm68[2 * b], lm68[2 * b + 1]);
  const flip = eye === 'left';
  const n = SIZE * SIZE;
  warpToTensor(img, cropMap(box, SIZE, SIZE), SIZE, SIZE, RGB_UNIT, planar);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const src = y * SIZE + (flip ? SIZE - 1 - x : x);
      const dst = (y * SIZE + x) * 3;
      for (let c = 0; c < 3; c++) out[dst + c] = planar[c * n + src];
    }
  }
  return out;
}

export class IrisModel {
  private readonly model: LoadedModel;
  private readonly planar = new Float32Array(EYE_CROP_FLOATS);
  private readonly input = new Float32Array(EYE_CROP_FLOATS);

  constructor(model: LoadedModel) {
    this.model = model;
  }

  /** Zero the reusable buffers (they hold the last eye crops); the session shell calls it when a session ends. */
  wipe(): void {
    this.planar.fill(0);
    this.input.fill(0);
  }

  /** Lid opening of the subject's `eye` (see eyeCrop). */
  async opening(img: RgbImage, lm68: ArrayLike<number>, eye: 'left' | 'right'): Promise<number> {
    eyeCrop(img, lm68, eye, this.input, this.planar);
    return lidOpening((await runModel(this.model, this.input)).Identity);
  }
}
