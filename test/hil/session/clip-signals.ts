/**
 * Real clip → per-frame yaw and identity templates through the face engine, for the continuity measurements. Frames
 * are decoded by ffmpeg to stdout (no file), analysed, and zeroed; nothing is written.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { FaceEngine } from '../../../src/vision/engine.ts';
import type { FaceTemplate } from '../../../src/vision/matcher.ts';
import { DATA } from '../vision/helpers.ts';

export interface ClipSpec {
  set: string;
  clip: string;
  width: number;
  height: number;
  fps: number;
}

/** Every `step`-th frame of a clip: its yaw and its template (for continuity measurements). */
export async function clipTemplates(
  engine: FaceEngine, spec: ClipSpec, step: number,
): Promise<Array<{ yawDeg: number; template: FaceTemplate }>> {
  const child = spawn('ffmpeg', [
    '-loglevel', 'error', '-i', join(DATA, spec.set, `${spec.clip}.mp4`), '-vf', `select=not(mod(n\\,${step}))`,
    '-vsync', 'vfr', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  const size = spec.width * spec.height * 3;
  const out: Array<{ yawDeg: number; template: FaceTemplate }> = [];
  let pending = Buffer.alloc(0);
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= size) {
      const img = { width: spec.width, height: spec.height, data: new Uint8Array(pending.subarray(0, size)) };
      pending = pending.subarray(size);
      const [f] = await engine.analyzeFrame(img, { maxFaces: 1 });
      if (f) out.push({ yawDeg: f.pose.yaw, template: await engine.embed(img, { points5: f.points5, landmarks68: f.landmarks68 }) });
      img.data.fill(0);
    }
  }
  return out;
}
