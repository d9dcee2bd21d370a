import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { RgbImage } from '../../../src/vision/image.ts';
import { faceDataRoot } from '../../face-data.ts';

/** The read-only shared face data (never copied into the repo). */
export const DATA = faceDataRoot();

export const FACEAPI_DEMO = join(
  dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')),
  'demo',
);

export async function csvRows(path: string): Promise<string[][]> {
  const text = await readFile(path, 'utf8');
  return text
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((l) => l.split(','));
}

/**
 * One video frame at time `t` seconds, decoded by ffmpeg straight into memory (no file written): interleaved RGB, or
 * planar I420 bytes in `data` when `pixFmt` is 'yuv420p'.
 */
export async function videoFrame(
  path: string,
  t: number,
  width: number,
  height: number,
  pixFmt: 'rgb24' | 'yuv420p' = 'rgb24',
): Promise<RgbImage> {
  const { stdout } = await promisify(execFile)(
    'ffmpeg',
    ['-loglevel', 'error', '-ss', String(t), '-i', path, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', pixFmt, '-'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  const expected = pixFmt === 'rgb24' ? width * height * 3 : (width * height * 3) / 2;
  if (stdout.length !== expected) throw new Error(`ffmpeg gave ${stdout.length} bytes for ${width}x${height} ${pixFmt}`);
  return { width, height, data: new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length) };
}

/** `n` consecutive RGB video frames from time `t` seconds, decoded by ffmpeg into memory (no file written). */
export async function videoFrames(path: string, t: number, n: number, width: number, height: number): Promise<RgbImage[]> {
  const { stdout } = await promisify(execFile)(
    'ffmpeg',
    ['-loglevel', 'error', '-ss', String(t), '-i', path, '-frames:v', String(n), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
  );
  const size = width * height * 3;
  if (stdout.length !== n * size) throw new Error(`ffmpeg gave ${stdout.length} bytes for ${n} frames of ${width}x${height}`);
  return Array.from({ length: n }, (_, i) => ({ width, height, data: new Uint8Array(stdout.buffer, stdout.byteOffset + i * size, size) }));
}
