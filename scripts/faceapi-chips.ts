/**
 * Helpers shared by the verification script and the HIL test: read 150x150 face chips as RGB (HWC uint8) and get
 * face-api's tfjs descriptors for them from a child process (scripts/faceapi-tfjs-reference.ts), chips piped over
 * stdin. Face data stays in memory.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { faceDataRoot } from '../test/face-data.ts';
import { tfjsReference } from './tfjs-child.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DATA_DIR = faceDataRoot();

export interface LabelledFile {
  readonly file: string;
  readonly identity: string;
}

/** `labels.csv` (file,identity) of a data folder, paths made absolute. */
export function readLabels(folder: string): LabelledFile[] {
  const dir = join(DATA_DIR, folder);
  const lines = readFileSync(join(dir, 'labels.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [file, identity] = line.split(',');
    return { file: join(dir, file), identity };
  });
}

/** Decode an image as 8-bit sRGB HWC (gray images expanded to 3 equal channels); must already be `size`×`size`. */
export async function readChip(file: string, size = 150): Promise<Uint8Array> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.width !== size || info.height !== size || info.channels !== 3) {
    throw new Error(`${file}: expected a ${size}x${size} RGB chip, got ${info.width}x${info.height}x${info.channels}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** face-api's own descriptors (tfjs cpu backend) for the given chips, in order. */
export function tfjsDescriptors(chips: readonly Uint8Array[]): Promise<Float32Array[]> {
  return tfjsReference(ROOT, 'faceapi-tfjs-reference.ts', [], Buffer.concat(chips));
}
