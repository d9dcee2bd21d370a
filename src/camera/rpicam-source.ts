import type { Logger } from '../lib/logger.ts';
import type { BackoffOptions } from '../lib/backoff.ts';
import { ChildFrameSource, type SpawnFn } from './child-frame-source.ts';
import type { Clock } from '../lib/clock.ts';
import { paddedLayout } from './i420.ts';

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

export function createRpicamSource(o: RpicamOptions): ChildFrameSource {
  return new ChildFrameSource({
    kind: 'rpicam',
    command: o.bin ?? DEFAULT_RPICAM_BIN,
    args: rpicamArgs(o),
    layout: paddedLayout(o.width, o.height, o.strideAlign ?? DEFAULT_STRIDE_ALIGN),
    logger: o.logger.child({ component: 'camera', backend: 'rpicam' }),
    stallMs: o.stallMs,
    backoff: o.backoff,
    spawn: o.spawn,
    clock: o.clock,
  });
}
