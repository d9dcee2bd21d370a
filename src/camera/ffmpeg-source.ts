import type { Logger } from '../lib/logger.ts';
import type { BackoffOptions } from '../lib/backoff.ts';
import { ChildFrameSource, type SpawnFn } from './child-frame-source.ts';
import type { Clock } from '../lib/clock.ts';
import { FULL_BT601, tightLayout } from './i420.ts';

/**
 * USB/V4L2 webcams (`/dev/videoN`) and video files through ffmpeg, decoded and scaled to tight full-range I420 at
 * the requested size (`scale=...:out_range=full`). The scaler reads the input's range from the decoder (a stream's
 * `color_range` tv/pc, or a yuvj pixel format as MJPEG webcams deliver; untagged = limited) and converts it, so every
 * input arrives as full range whatever it was. The matrix is passed through and taken as BT.601 (webcams, SD video).
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
    encoding: FULL_BT601,
    logger: o.logger.child({ component: 'camera', backend: 'ffmpeg' }),
    endOnCleanExit: !isV4l2Device(o.input) && !o.loop,
    stallMs: o.stallMs,
    backoff: o.backoff,
    spawn: o.spawn,
    clock: o.clock,
  });
}
