/** Reading an image file for the CLI: a missing file is a one-line UsageError, a non-image (not JPEG/PNG, undecodable) an ImageDecodeError. */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../lib/errors.ts';
import { type RgbImage, decodeImage } from './image.ts';

export async function readImageFile(path: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e: unknown) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
    throw new UsageError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot be read (${code || 'error'})`, {
      cause: e,
    });
  }
  return decodeImage(bytes, path);
}
