import type { Logger } from '../lib/logger.ts';
import type { BackoffOptions } from '../lib/backoff.ts';
import { ChildFrameSource, type SpawnFn } from './child-frame-source.ts';
import type { Clock } from '../lib/clock.ts';
import { tightLayout } from './i420.ts';

/**
 * USB/V4L2 webcams (`/dev/videoN`) and video files through ffmpeg, decoded and scaled to tight full-range I420 at
 * the requested size (`scale=...:out_range=full`), so consumers see the same frames as from rpicam.
 * A file plays at its own pace (`-re`) like a camera; `loop` repeats it, otherwise the stream ends after the last
 * frame (clean exit = end, not a failure).
 */
export interface FfmpegOptions {
  /** `/dev/videoN` or a video file */
  input: string;
  width: number;
  height: number;
  fps: number;
  loop?: boolean;
  /** files only: decode as fast as possible instead of at the file's pace */
  fast?: boolean;
  bin?: string;
  logger: Logger;
  stallMs?: number;
  backoff?: BackoffOptions;
  spawn?: SpawnFn;
  clock?: Clock;
}

export const isV4l2Device = (input: string): boolean => input.startsWith('/dev/video');

export function ffmpegArgs(o: Pick<FfmpegOptions, 'input' | 'width' | 'height' | 'fps' | 'loop' | 'fast'>): string[] {
  const args = ['-hide_banner', '-loglevel', 'warning', '-nostdin'];
  if (isV4l2Device(o.input)) {
    args.push('-f', 'v4l2', '-framerate', String(o.fps), '-video_size', `${o.width}x${o.height}`, '-i', o.input);
  } else {
    if (!o.fast) args.push('-re');
    if (o.loop) args.push('-stream_loop', '-1');
    args.push('-i', o.input);
  }
  args.push('-an', '-vf', `scale=${o.width}:${o.height}:out_range=full,fps=${o.fps}`);
  args.push('-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1');
  return args;
}

export function createFfmpegSource(o: FfmpegOptions): ChildFrameSource {
  return new ChildFrameSource({
    kind: 'ffmpeg',
    command: o.bin ?? 'ffmpeg',
    args: ffmpegArgs(o),
    layout: tightLayout(o.width, o.height),
    logger: o.logger.child({ component: 'camera', backend: 'ffmpeg' }),
    endOnCleanExit: !isV4l2Device(o.input) && !o.loop,
    stallMs: o.stallMs,
    backoff: o.backoff,
    spawn: o.spawn,
    clock: o.clock,
  });
}
