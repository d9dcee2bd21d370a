/**
 * The image sets of the model build, read in place from the face data (REGTERM_FACE_DATA, default ../shared/data next to the checkout;
 * never copied). Calibration and evaluation are disjoint: no calibration image is an evaluation image.
 *
 *   calib-v1: deepface_unit_tests/images (all), face_recognition_examples/images (all), NUAA subject 0001 (real and
 *             print) -- frontal photos of several sources plus printed-photo attacks for the anti-spoof model.
 *   eval:     LFW view1 pairs.csv images (embeddings, verification, detection), NUAA subjects 0002-0013 (anti-spoof
 *             and eye-state decisions), and face-free patches: the 60x60 top-left corner of LFW photos (background
 *             behind the centred face in LFW's 250x250 framing), scaled to 320x240.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../../src/vision/image.ts';
import { readImageFile } from '../../src/vision/image-file.ts';
import { faceDataRoot } from '../../test/face-data.ts';

export const CALIBRATION_SET_ID = 'calib-v1';

export function dataRoot(): string {
  return faceDataRoot();
}

/** Image files under `dir`, recursively, in a fixed (sorted) order. */
function imagesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort()
    .map((f) => join(dir, f));
}

function csvRows(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((l) => l.split(','));
}

export function calibrationImages(root = dataRoot()): string[] {
  const nuaa = csvRows(join(root, 'nuaa_imposter_subset/labels.csv'))
    .filter((r) => r[3] === '0001')
    .map((r) => join(root, 'nuaa_imposter_subset', r[0]));
  return [
    ...imagesIn(join(root, 'deepface_unit_tests/images')),
    ...imagesIn(join(root, 'face_recognition_examples/images')),
    ...nuaa,
  ];
}

export interface Pair {
  a: string;
  b: string;
  same: boolean;
}

/** LFW view1 pairs; `every` > 1 keeps every n-th same and every n-th different pair (a fixed subset). */
export function lfwPairs(every = 1, root = dataRoot()): Pair[] {
  const dir = join(root, 'lfw_view1');
  return csvRows(join(dir, 'pairs.csv'))
    .map((r) => ({ a: join(dir, r[0]), b: join(dir, r[1]), same: r[2] === '1' }))
    .filter((_, i) => i % every === 0);
}

/** NUAA photos not in the calibration set, with their label. */
export function nuaaEval(every = 1, root = dataRoot()): { file: string; live: boolean }[] {
  return csvRows(join(root, 'nuaa_imposter_subset/labels.csv'))
    .filter((r) => r[3] !== '0001')
    .map((r) => ({ file: join(root, 'nuaa_imposter_subset', r[0]), live: r[1] === 'real' }))
    .filter((_, i) => i % every === 0);
}

/** The 60x60 top-left corner of an LFW photo scaled to 320x240: real, face-free background. */
export async function backgroundPatch(file: string): Promise<RgbImage> {
  const img = await readImageFile(file);
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extract({ left: 0, top: 0, width: 60, height: 60 })
    .resize(320, 240, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width: 320, height: 240, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
