/**
 * Face quality measures for the session's quality gate. All are computed on a fixed-size gray crop of the face box
 * so they compare across face sizes and cameras.
 */
import type { RgbImage } from './image.ts';
import { type Box, cropMap, warpToGray } from './warp.ts';

export interface Quality {
  /** face box width and height in pixels */
  faceWidth: number;
  faceHeight: number;
  /** distance between the eye centres in pixels */
  interEyeDistance: number;
  /** variance of the 4-neighbour Laplacian on the 64×64 gray face crop (higher = sharper) */
  sharpness: number;
  /** mean luma of the face crop, 0–1 */
  brightness: number;
  /** fraction of face-crop pixels at or below 5 or at or above 250 (under/over-exposed), 0–1 */
  clippedFraction: number;
  /** face centre offset from the image centre as fractions of the image size (−0.5…0.5); 0,0 = centred */
  centreOffsetX: number;
  centreOffsetY: number;
}

const CROP = 64;

export function measureQuality(img: RgbImage, box: Box, lm68: ArrayLike<number>, scratch?: Uint8Array): Quality {
  const gray = warpToGray(img, cropMap(box, CROP, CROP), CROP, CROP, scratch);
  let sum = 0;
  let clipped = 0;
  for (let i = 0; i < gray.length; i++) {
    sum += gray[i];
    if (gray[i] <= 5 || gray[i] >= 250) clipped++;
  }
  return {
    faceWidth: box.x2 - box.x1,
    faceHeight: box.y2 - box.y1,
    interEyeDistance: interEye(lm68),
    sharpness: laplacianVariance(gray, CROP, CROP),
    brightness: sum / gray.length / 255,
    clippedFraction: clipped / gray.length,
    centreOffsetX: (box.x1 + box.x2) / 2 / img.width - 0.5,
    centreOffsetY: (box.y1 + box.y2) / 2 / img.height - 0.5,
  };
}

/** Variance of the 4-neighbour Laplacian over the interior pixels. */
export function laplacianVariance(gray: Uint8Array, w: number, h: number): number {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const l = gray[i - 1] + gray[i + 1] + gray[i - w] + gray[i + w] - 4 * gray[i];
      sum += l;
      sumSq += l * l;
      n++;
    }
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

function interEye(lm: ArrayLike<number>): number {
  let rx = 0;
  let ry = 0;
  let lx = 0;
  let ly = 0;
  for (let i = 36; i < 42; i++) {
    rx += lm[2 * i] / 6;
    ry += lm[2 * i + 1] / 6;
    lx += lm[2 * (i + 6)] / 6;
    ly += lm[2 * (i + 6) + 1] / 6;
  }
  return Math.hypot(lx - rx, ly - ry);
}
