/**
 * 68-point landmarks (fr_landmark): a square gray crop around the detector box, 64×64, pixel/256; output is 68 (x, y)
 * pairs as fractions of that crop. The crop is the square of side = box height centred on the box (how the package
 * builds it); we do not clamp it to the image, so the geometry stays square at the edges (outside pixels are 0).
 */
import type { RgbImage } from './image.ts';
import { param } from './manifest.ts';
import type { LoadedModel } from './model-registry.ts';
import { runModel } from './run-model.ts';
import { type Box, cropMap, warpToTensor } from './warp.ts';

/** A square box of side `scale` × box height around the box centre. */
export function squareAround(box: Box, scale: number): Box {
  const side = (box.y2 - box.y1) * scale;
  const cx = (box.x1 + box.x2) / 2;
  const cy = (box.y1 + box.y2) / 2;
  return { x1: cx - side / 2, y1: cy - side / 2, x2: cx + side / 2, y2: cy + side / 2 };
}

export class LandmarkModel {
  private readonly model: LoadedModel;
  private readonly input: Float32Array;
  private readonly size: number;
  private readonly cropScale: number;

  constructor(model: LoadedModel) {
    this.model = model;
    this.size = model.entry.input.shape[3];
    this.input = new Float32Array(this.size * this.size);
    this.cropScale = param(model.entry, 'cropScale', 1);
  }

  /** Zero the reusable input buffer (it holds the last frame or face crop); the session shell calls it when a session ends. */
  wipe(): void {
    this.input.fill(0);
  }

  /** 68 points as interleaved [x0, y0, ..., x67, y67] in image pixels. */
  async predict(img: RgbImage, box: Box): Promise<Float32Array> {
    const crop = squareAround(box, this.cropScale);
    warpToTensor(img, cropMap(crop, this.size, this.size), this.size, this.size, this.model.entry.input, this.input);
    const out = (await runModel(this.model, this.input)).output;
    const side = crop.x2 - crop.x1;
    const pts = new Float32Array(136);
    for (let i = 0; i < 68; i++) {
      pts[2 * i] = crop.x1 + out[2 * i] * side;
      pts[2 * i + 1] = crop.y1 + out[2 * i + 1] * side;
    }
    return pts;
  }
}
