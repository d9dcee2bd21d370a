/**
 * The input contract of human's passive anti-spoof models (@vladmandic/human 3.x, models/antispoof.json and
 * models/liveness.json), re-stated from human's source and applied to our detector's face box:
 *
 *  - src/face/blazeface.ts getBoxes: the detector box is enlarged 1.2x about its centre (`faceBoxScaleFactor`, unless
 *    config.face.scale), then squared on its longer side with rounded corners (facemeshutil.ts enlargeBox/squarifyBox).
 *  - src/face/facemeshutil.ts cutAndResize: `tf.image.cropAndResize(image, [box / (h, w)], [0], [192, 192])` (192 = the
 *    face-mesh model's input side) then `/ 255`: the face tensor, RGB, 0..1, NHWC. correctFaceRotation rotates only
 *    with config.face.detector.rotation AND a backend with rotateWithOffset (tfjs-node has none); otherwise, and here,
 *    it is an axis-aligned crop.
 *  - src/face/antispoof.ts / liveness.ts predict: `tf.image.resizeBilinear(faceTensor, [size, size], false)` to the
 *    model's own input side (128 / 32), then `model.execute`, and the FIRST output value is the score:
 *    antispoof → `face.real` (a sigmoid, 1 = real), liveness → `face.live` (softmax index 0, 1 = live)
 *    (src/face/face.ts: `res.real = antispoofRes`, `res.live = livenessRes`).
 * Our box comes from a different detector than BlazeFace, so the crop is this contract applied to our box, not a
 * pixel-exact replica of human's. Crops are returned in memory only (biometric data).
 */
import { livenessCrop } from '../../src/vision/antispoof.ts';
import type { RgbImage } from '../../src/vision/image.ts';
import type { Box } from '../../src/vision/warp.ts';

/** human blazeface.ts faceBoxScaleFactor */
export const HUMAN_BOX_SCALE = 1.2;
/** The face-mesh input side: the face tensor every human face model resizes from. */
export const HUMAN_FACE_SIDE = 192;

/** enlargeBox(box, 1.2) then squarifyBox: square on the longer side, corners rounded (human facemeshutil.ts). */
export function humanFaceBox(box: Box, scale = HUMAN_BOX_SCALE): Box {
  const cx = (box.x1 + box.x2) / 2;
  const cy = (box.y1 + box.y2) / 2;
  const half = (scale * Math.max(box.x2 - box.x1, box.y2 - box.y1)) / 2;
  return { x1: Math.round(cx - half), y1: Math.round(cy - half), x2: Math.round(cx + half), y2: Math.round(cy + half) };
}

/**
 * TF CropAndResize (bilinear, extrapolation 0) of one box to side x side, RGB / 255, NHWC: output row y samples
 * source row y1n·(h-1) + y·(y2n-y1n)·(h-1)/(side-1) with y1n = box.y1 / h; a sample outside the image is 0 (whole
 * pixel, as TF does), inside it interpolates between floor and ceil.
 */
export function cropAndResize(img: RgbImage, box: Box, side: number): Float32Array {
  const { width: w, height: h, data } = img;
  const out = new Float32Array(side * side * 3);
  const ys = (box.y1 / h) * (h - 1);
  const xs = (box.x1 / w) * (w - 1);
  const dy = side > 1 ? ((box.y2 - box.y1) / h) * (h - 1) / (side - 1) : 0;
  const dx = side > 1 ? ((box.x2 - box.x1) / w) * (w - 1) / (side - 1) : 0;
  for (let y = 0; y < side; y++) {
    const iy = ys + y * dy;
    if (iy < 0 || iy > h - 1) continue;
    const y0 = Math.floor(iy);
    const y1 = Math.ceil(iy);
    const fy = iy - y0;
    for (let x = 0; x < side; x++) {
      const ix = xs + x * dx;
      if (ix < 0 || ix > w - 1) continue;
      const x0 = Math.floor(ix);
      const x1 = Math.ceil(ix);
      const fx = ix - x0;
      for (let c = 0; c < 3; c++) {
        const tl = data[(y0 * w + x0) * 3 + c];
        const tr = data[(y0 * w + x1) * 3 + c];
        const bl = data[(y1 * w + x0) * 3 + c];
        const br = data[(y1 * w + x1) * 3 + c];
        const top = tl + (tr - tl) * fx;
        const bottom = bl + (br - bl) * fx;
        out[(y * side + x) * 3 + c] = (top + (bottom - top) * fy) / 255;
      }
    }
  }
  return out;
}

/**
 * TF ResizeBilinear with align_corners = false, half_pixel_centers = false (tfjs `resizeBilinear(x, size, false)`):
 * output pixel k samples input k·(in/out), clamped to the last row/column. NHWC, 3 channels, square.
 */
export function resizeBilinear(src: Float32Array, inSide: number, outSide: number): Float32Array {
  const out = new Float32Array(outSide * outSide * 3);
  const scale = inSide / outSide;
  for (let y = 0; y < outSide; y++) {
    const iy = y * scale;
    const y0 = Math.floor(iy);
    const y1 = Math.min(y0 + 1, inSide - 1);
    const fy = iy - y0;
    for (let x = 0; x < outSide; x++) {
      const ix = x * scale;
      const x0 = Math.floor(ix);
      const x1 = Math.min(x0 + 1, inSide - 1);
      const fx = ix - x0;
      for (let c = 0; c < 3; c++) {
        const top = src[(y0 * inSide + x0) * 3 + c] + (src[(y0 * inSide + x1) * 3 + c] - src[(y0 * inSide + x0) * 3 + c]) * fx;
        const bottom = src[(y1 * inSide + x0) * 3 + c] + (src[(y1 * inSide + x1) * 3 + c] - src[(y1 * inSide + x0) * 3 + c]) * fx;
        out[(y * outSide + x) * 3 + c] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}

/**
 * How the face box is taken. human's contract is { scale: 1.2, inside: false } (a box past the image edge samples
 * zeros). `inside` shrinks the box to fit the image and shifts it inside, as our fr_liveness crop does
 * (src/vision/antispoof.ts livenessCrop): a study variant for photos that are already tight face crops.
 */
export interface CropVariant {
  readonly scale: number;
  readonly inside: boolean;
}
export const HUMAN_CROP: CropVariant = { scale: HUMAN_BOX_SCALE, inside: false };

/** The model inputs for one detected face: antispoof [128,128,3] and liveness [32,32,3], NHWC RGB 0..1. */
export function humanSpoofInputs(img: RgbImage, detectorBox: Box, variant: CropVariant = HUMAN_CROP): { antispoof: Float32Array; liveness: Float32Array } {
  const box = humanFaceBox(detectorBox, variant.scale);
  const face = cropAndResize(img, variant.inside ? livenessCrop(img, box, 1) : box, HUMAN_FACE_SIDE);
  const inputs = { antispoof: resizeBilinear(face, HUMAN_FACE_SIDE, 128), liveness: resizeBilinear(face, HUMAN_FACE_SIDE, 32) };
  face.fill(0);
  return inputs;
}
