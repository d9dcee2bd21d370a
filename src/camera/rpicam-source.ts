import type { Logger } from '../lib/logger.ts';
import type { BackoffOptions } from '../lib/backoff.ts';
import { ChildFrameSource, type SpawnFn } from './child-frame-source.ts';
import type { Clock } from '../lib/clock.ts';
import { paddedLayout, type YuvEncoding } from './i420.ts';

/**
 * CSI camera through rpicam-vid (rpicam-apps). `--codec yuv420` hands out raw ISP buffers with padded rows
 * (see i420.ts); `--flush` writes each buffer as soon as it is ready; `-n` no preview; `-t 0` forever.
 * The binary path is configurable so tests (and bench) can run scripts/fake-rpicam-vid.
 */
export interface RpicamOptions {
  width: number;
  height: number;
  fps: number;
  /** ISP row alignment in bytes: 64 on Pi 4 (bcm2835-isp); set per board */
  strideAlign?: number;
  bin?: string;
  /** camera index for boards with two CSI ports */
  cameraIndex?: number;
  logger: Logger;
  stallMs?: number;
  backoff?: BackoffOptions;
  spawn?: SpawnFn;
  clock?: Clock;
}

export const DEFAULT_RPICAM_BIN = 'rpicam-vid';
export const DEFAULT_STRIDE_ALIGN = 64;

export function rpicamArgs(o: Pick<RpicamOptions, 'width' | 'height' | 'fps' | 'cameraIndex'>): string[] {
  const args = ['--codec', 'yuv420', '-t', '0', '--width', String(o.width), '--height', String(o.height)];
  args.push('--framerate', String(o.fps), '-n', '--flush');
  if (o.cameraIndex !== undefined) args.push('--camera', String(o.cameraIndex));
  args.push('-o', '-');
  return args;
}

/**
 * The colour encoding of rpicam-vid's `--codec yuv420` output. rpicam-apps picks the video stream's libcamera colour
 * space by size (core/rpicam_app.cpp, RPiCamApp::ConfigureVideo): sYCC (full range) only for MJPEG, Rec709 from
 * 1280 wide or 720 high, Smpte170m below; libcamera defines both of those as limited range (color_space.cpp:
 * Smpte170m = Rec601 matrix, Range::Limited; Rec709 = Rec709 matrix, Range::Limited).
 */
export function rpicamEncoding(width: number, height: number): YuvEncoding {
  return { matrix: width >= 1280 || height >= 720 ? 'bt709' : 'bt601', range: 'limited' };
}

export function createRpicamSource(o: RpicamOptions): ChildFrameSource {
  return new ChildFrameSource({
    kind: 'rpicam',
    command: o.bin ?? DEFAULT_RPICAM_BIN,
    args: rpicamArgs(o),
    layout: paddedLayout(o.width, o.height, o.strideAlign ?? DEFAULT_STRIDE_ALIGN),
    encoding: rpicamEncoding(o.width, o.height),
    logger: o.logger.child({ component: 'camera', backend: 'rpicam' }),
    stallMs: o.stallMs,
    backoff: o.backoff,
    spawn: o.spawn,
    clock: o.clock,
  });
}
