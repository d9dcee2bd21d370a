import { spawn as nodeSpawn } from 'node:child_process';
import type { SpawnFn } from '../../camera/child-frame-source.ts';
import { UsageError } from '../../lib/errors.ts';

/**
 * One frame of a video as JPEG bytes, in memory (ffmpeg on a pipe; nothing is written to disk): the demo's
 * "ID photo" is the same person from another part of the clip. `atS` seeks from the start; a negative value seeks
 * from the end (`-sseof`).
 */
export async function extractJpegFrame(video: string, atS: number, spawn: SpawnFn = nodeSpawn, ffmpegBin = 'ffmpeg'): Promise<Uint8Array> {
  const seek = atS < 0 ? ['-sseof', String(atS)] : ['-ss', String(atS)];
  const child = spawn(ffmpegBin, ['-hide_banner', '-loglevel', 'error', '-nostdin', ...seek, '-i', video, '-frames:v', '1',
    '-q:v', '2', '-f', 'image2pipe', '-c:v', 'mjpeg', 'pipe:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => chunks.push(d));
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-1000); });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  }).catch((e: unknown) => { throw new UsageError(`cannot run ${ffmpegBin}: ${e instanceof Error ? e.message : String(e)}`); });
  const jpeg = Buffer.concat(chunks);
  if (code !== 0 || jpeg.length === 0) {
    throw new UsageError(`cannot extract a frame at ${atS} s from ${video}: ${stderr.trim() || `ffmpeg exit ${code}`}`);
  }
  return new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.length);
}
