import type { Logger } from '../lib/logger.ts';
import { UsageError } from '../lib/errors.ts';
import { createFfmpegSource } from './ffmpeg-source.ts';
import type { FrameSource } from './frame-source.ts';
import { LoopingReplay } from './looping-replay.ts';
import { ReplaySource } from './replay-source.ts';
import { DEFAULT_RPICAM_BIN, DEFAULT_STRIDE_ALIGN, createRpicamSource } from './rpicam-source.ts';

/** Everything needed to choose and build a camera backend (from config, or from CLI flags until config is wired). */
export interface CameraSpec {
  backend: 'rpicam' | 'ffmpeg' | 'replay';
  width: number;
  height: number;
  fps: number;
  /** ffmpeg: /dev/videoN or a video file */
  device?: string;
  /** replay: a recording directory or a video file */
  recording?: string;
  rpicamBin?: string;
  strideAlign?: number;
  /** ffmpeg with a file, replay: play it over and over */
  loop?: boolean;
  /** replay pace */
  pace?: 'recorded' | 'fast';
  stallMs?: number;
}

export const CAMERA_DEFAULTS = { width: 640, height: 480, fps: 15 } as const;

/** The one place that picks a FrameSource backend. */
export function createFrameSource(spec: CameraSpec, logger: Logger): FrameSource {
  switch (spec.backend) {
    case 'rpicam':
      return createRpicamSource({
        width: spec.width, height: spec.height, fps: spec.fps, bin: spec.rpicamBin ?? DEFAULT_RPICAM_BIN,
        strideAlign: spec.strideAlign ?? DEFAULT_STRIDE_ALIGN, stallMs: spec.stallMs, logger,
      });
    case 'ffmpeg':
      if (!spec.device) throw new UsageError('the ffmpeg camera needs --device /dev/videoN or a video file');
      return createFfmpegSource({ input: spec.device, width: spec.width, height: spec.height, fps: spec.fps, loop: spec.loop, stallMs: spec.stallMs, logger });
    case 'replay': {
      if (!spec.recording) throw new UsageError('the replay camera needs a recording directory or video file');
      const replay = { path: spec.recording, pace: spec.pace ?? 'recorded', logger: logger.child({ component: 'camera', backend: 'replay' }) };
      return spec.loop ? new LoopingReplay(replay) : new ReplaySource(replay);
    }
  }
}

/** parseArgs option table for the camera flags shared by `record` and `doctor`. */
export const CAMERA_FLAGS = {
  camera: { type: 'string' },
  device: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  fps: { type: 'string' },
  'rpicam-bin': { type: 'string' },
  'stride-align': { type: 'string' },
} as const;

function positiveInt(flag: string, v: string | undefined, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${flag} must be an integer 1..${max} (got '${v}')`);
  return n;
}

/** Flags → CameraSpec; a UsageError names the bad flag. */
export function cameraSpecFromFlags(v: Partial<Record<keyof typeof CAMERA_FLAGS, string>>): CameraSpec {
  const backend = v.camera ?? 'rpicam';
  if (backend !== 'rpicam' && backend !== 'ffmpeg') throw new UsageError(`--camera must be rpicam or ffmpeg (got '${backend}')`);
  const spec: CameraSpec = {
    backend,
    width: positiveInt('width', v.width, CAMERA_DEFAULTS.width, 8192),
    height: positiveInt('height', v.height, CAMERA_DEFAULTS.height, 8192),
    fps: positiveInt('fps', v.fps, CAMERA_DEFAULTS.fps, 240),
    device: v.device,
    rpicamBin: v['rpicam-bin'],
    strideAlign: positiveInt('stride-align', v['stride-align'], DEFAULT_STRIDE_ALIGN, 4096),
  };
  if (spec.width % 2 || spec.height % 2) throw new UsageError(`--width and --height must be even for I420 (got ${spec.width}x${spec.height})`);
  if (backend === 'ffmpeg' && !spec.device) throw new UsageError('--camera ffmpeg needs --device /dev/videoN or a video file');
  return spec;
}
