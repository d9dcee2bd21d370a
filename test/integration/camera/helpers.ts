import { spawn, spawnSync } from 'node:child_process';
import type { SpawnFn } from '../../../src/camera/child-frame-source.ts';
import { FULL_BT601, type YuvEncoding } from '../../../src/camera/i420.ts';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../../../src/lib/logger.ts';
import { DEMO_CLIP } from '../../../src/compose/demo/asset.ts';
import { faceDataRoot } from '../../face-data.ts';

export const FAKE_RPICAM = fileURLToPath(new URL('../../../scripts/fake-rpicam-vid', import.meta.url));
export const DATA = faceDataRoot();
/** a real 256x256 25 fps clip with annotated events (face data: read in place, never copied; describeWithFaceData) */
export const CLIP = `${DATA}/dagan_driving_video/driving.mp4`;
export const CLIP_EVENTS = `${DATA}/dagan_driving_video/driving.events.csv`;
/** a real clip that ships with the product (models/demo, 320x320 30 fps): for tests that need any video of a face */
export const VIDEO = DEMO_CLIP;

/** A logger writing into memory; `lines()` parses what was logged (pino test/helper.js `sink()`). */
export function logSink(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  return {
    logger,
    lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/**
 * The first `n` frames of `video` as tight I420 in `encoding` (default full-range BT.601), decoded by ffmpeg directly
 * (the reference).
 */
export function referenceFrames(
  video: string, width: number, height: number, fps: number, n: number, encoding: YuvEncoding = FULL_BT601,
): Uint8Array {
  const range = encoding.range === 'full' ? 'full' : `tv:out_color_matrix=${encoding.matrix}`;
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', video, '-an',
    '-vf', `scale=${width}:${height}:out_range=${range},fps=${fps}`, '-frames:v', String(n), '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1'],
  { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`ffmpeg reference failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function childPids(lines: Array<Record<string, unknown>>): number[] {
  return lines.filter((l) => l.msg === 'camera child started').map((l) => l.pid as number);
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The injected spawn, with the stand-in's settings in the child's environment only. */
export function fakeRpicamSpawn(env: Record<string, string>): SpawnFn {
  return (command, args, options) => spawn(command, args, { ...options, env: { ...process.env, ...env } });
}
