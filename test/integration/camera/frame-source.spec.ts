import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { createFfmpegSource } from '../../../src/camera/ffmpeg-source.ts';
import { importRecording } from '../../../src/camera/recording-import.ts';
import { ReplaySource } from '../../../src/camera/replay-source.ts';
import { createRpicamSource } from '../../../src/camera/rpicam-source.ts';
import { FAKE_RPICAM, VIDEO, fakeRpicamSpawn, logSink } from './helpers.ts';
import { frameSourceContract } from './frame-source-contract.ts';

const logger = logSink().logger;
const tmp = mkdtempSync(join(tmpdir(), 'regterm-contract-'));
const recDir = join(tmp, 'clip');
beforeAll(async () => {
  await importRecording({ video: VIDEO, outDir: recDir });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

frameSourceContract({
  name: 'rpicam (scripts/fake-rpicam-vid, 322x242, Pi 4 stride)',
  live: true,
  make: () => createRpicamSource({ width: 322, height: 242, fps: 10, bin: FAKE_RPICAM, logger, spawn: fakeRpicamSpawn({ FAKE_RPICAM_VIDEO: VIDEO }) }),
  makeBroken: () => createRpicamSource({ width: 320, height: 240, fps: 10, bin: join(tmp, 'no-rpicam-vid'), logger }),
});

frameSourceContract({
  name: 'ffmpeg (looped video file at its own pace)',
  live: true,
  make: () => createFfmpegSource({ input: VIDEO, width: 320, height: 240, fps: 10, loop: true, logger }),
  makeBroken: () => createFfmpegSource({ input: VIDEO, width: 320, height: 240, fps: 10, bin: join(tmp, 'no-ffmpeg'), logger }),
});

frameSourceContract({
  name: 'replay at recorded pace',
  live: true,
  make: () => new ReplaySource({ path: recDir, pace: 'recorded', logger }),
  makeBroken: () => new ReplaySource({ path: join(tmp, 'missing'), pace: 'recorded', logger }),
});

frameSourceContract({
  name: 'replay as fast as possible (lockstep)',
  live: false,
  make: () => new ReplaySource({ path: recDir, pace: 'fast', logger }),
  makeBroken: () => new ReplaySource({ path: join(tmp, 'missing'), pace: 'fast', logger }),
});

// Real hardware only when named: HIL_CAMERA=rpicam (CSI through rpicam-vid) or HIL_CAMERA=/dev/videoN (ffmpeg/V4L2).
const HIL_CAMERA = process.env.HIL_CAMERA ?? '';
describe.skipIf(!HIL_CAMERA)('real camera (skipped: set HIL_CAMERA=rpicam or /dev/videoN on a terminal)', () => {
  frameSourceContract({
    name: `hardware ${HIL_CAMERA}`,
    live: true,
    make: () => HIL_CAMERA === 'rpicam'
      ? createRpicamSource({ width: 640, height: 480, fps: 15, strideAlign: Number(process.env.HIL_STRIDE_ALIGN ?? 64), logger })
      : createFfmpegSource({ input: HIL_CAMERA, width: 640, height: 480, fps: 15, logger }),
    makeBroken: () => createFfmpegSource({ input: '/dev/video-none', width: 640, height: 480, fps: 15, bin: join(tmp, 'no-ffmpeg'), logger }),
  });
});
