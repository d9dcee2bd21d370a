import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UsageError, errorMessage } from '../lib/errors.ts';

export interface VideoInfo {
  width: number;
  height: number;
  fps: number;
  /** presentation time of every frame, ms from the first one, ascending */
  timestampsMs: number[];
}

const run = promisify(execFile);

/**
 * Size, frame rate and per-frame timestamps of a video's first video stream via ffprobe. Packets are read without
 * decoding (fast) and come in decode order, so their pts are sorted.
 */
export async function probeVideo(path: string, ffprobeBin = 'ffprobe'): Promise<VideoInfo> {
  let stdout: string;
  try {
    ({ stdout } = await run(ffprobeBin, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,avg_frame_rate',
      '-show_entries', 'packet=pts_time', '-of', 'json', path], { maxBuffer: 64 << 20 }));
  } catch (e: unknown) {
    throw new UsageError(`${path}: not a readable video (${errorMessage(e).split('\n')[0]})`, { cause: e });
  }
  const j = JSON.parse(stdout) as { streams?: Array<{ width?: number; height?: number; avg_frame_rate?: string }>; packets?: Array<{ pts_time?: string }> };
  const s = j.streams?.[0];
  if (!s?.width || !s.height) throw new UsageError(`${path}: no video stream`);
  const [num, den] = (s.avg_frame_rate ?? '0/1').split('/').map(Number);
  const pts = (j.packets ?? []).map((p) => Number(p.pts_time)).filter(Number.isFinite).sort((a, b) => a - b);
  if (pts.length === 0) throw new UsageError(`${path}: no video frames`);
  const fps = den ? num / den : 0;
  return {
    width: s.width,
    height: s.height,
    fps: fps > 0 ? fps : (pts.length - 1) / Math.max(pts[pts.length - 1] - pts[0], 1e-3),
    timestampsMs: pts.map((t) => Math.round((t - pts[0]) * 1000)),
  };
}
