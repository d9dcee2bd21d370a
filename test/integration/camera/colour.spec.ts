import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegSource } from '../../../src/camera/ffmpeg-source.ts';
import type { Frame, FrameSource } from '../../../src/camera/frame-source.ts';
import { FULL_BT601, i420ToRgb } from '../../../src/camera/i420.ts';
import { ReplaySource } from '../../../src/camera/replay-source.ts';
import { createRpicamSource } from '../../../src/camera/rpicam-source.ts';
import { FAKE_RPICAM, fakeRpicamSpawn, logSink } from './helpers.ts';

// A frame of known colours through each source the product reads, converted by the product's one i420ToRgb with the
// encoding the source stamps on it: the RGB that comes back must be the colours that went in. Each clip is four solid
// quadrants encoded by ffmpeg (x264 lossless), once tagged limited range (tv) and once full range (pc).
const COLOURS: ReadonlyArray<readonly [number, number, number]> = [[200, 50, 20], [40, 180, 60], [30, 60, 200], [230, 230, 230]];
const TOLERANCE = 4;
const { logger } = logSink();
let tmp: string;
const clip = (range: 'tv' | 'pc'): string => join(tmp, `quadrants-${range}.mp4`);

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'regterm-colour-'));
  const hex = (c: readonly number[]): string => `0x${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  const inputs = COLOURS.map((c, i) => `color=c=${hex(c)}:s=160x120:r=10:d=2[q${i}]`).join(';');
  for (const range of ['tv', 'pc'] as const) {
    const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi',
      '-i', `${inputs};[q0][q1]hstack[top];[q2][q3]hstack[bottom];[top][bottom]vstack`,
      '-vf', `scale=out_range=${range}:out_color_matrix=bt601,format=yuv420p`, '-color_range', range, '-colorspace', 'smpte170m',
      '-c:v', 'libx264', '-qp', '0', clip(range)]);
    if (r.status !== 0) throw new Error(`ffmpeg could not make the ${range} clip: ${r.stderr.toString()}`);
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=color_range', '-of', 'csv=p=0', clip(range)]);
    expect(probe.stdout.toString().trim()).toBe(range);
  }
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function firstFrame(src: FrameSource): Promise<Frame> {
  await src.start();
  try {
    for await (const f of src.frames()) return f;
    throw new Error('the source ended without a frame');
  } finally {
    await src.stop();
  }
}

/** Mean RGB of the middle half of each quadrant (away from the chroma blur at the quadrant edges). */
function quadrantMeans(rgb: Uint8Array, width: number, height: number): number[][] {
  return [[0, 0], [1, 0], [0, 1], [1, 1]].map(([qx, qy]) => {
    const sum = [0, 0, 0];
    let n = 0;
    for (let y = Math.round((qy + 0.25) * (height / 2)); y < Math.round((qy + 0.75) * (height / 2)); y++) {
      for (let x = Math.round((qx + 0.25) * (width / 2)); x < Math.round((qx + 0.75) * (width / 2)); x++) {
        for (let c = 0; c < 3; c++) sum[c] += rgb[(y * width + x) * 3 + c];
        n++;
      }
    }
    return sum.map((s) => Math.round(s / n));
  });
}

function expectColours(frame: Frame): void {
  const means = quadrantMeans(i420ToRgb(frame), frame.width, frame.height);
  means.forEach((got, q) => {
    got.forEach((v, c) => expect(Math.abs(v - COLOURS[q][c]), `quadrant ${q} channel ${c}: got ${got.join(',')}`).toBeLessThanOrEqual(TOLERANCE));
  });
}

describe('known colours through every frame source', () => {
  it.each(['tv', 'pc'] as const)('ffmpeg backend (a %s-range file): full range, the colours come back', async (range) => {
    const frame = await firstFrame(createFfmpegSource({ input: clip(range), width: 320, height: 240, fps: 10, fast: true, logger }));
    expect(frame.encoding).toEqual(FULL_BT601);
    expectColours(frame);
  });

  it.each(['tv', 'pc'] as const)('replay of a %s-range video: full range, the colours come back', async (range) => {
    const frame = await firstFrame(new ReplaySource({ path: clip(range), pace: 'fast', logger }));
    expect(frame.encoding).toEqual(FULL_BT601);
    expectColours(frame);
  });

  it.each([
    [640, 480, 'bt601'],
    [1280, 720, 'bt709'],
  ] as const)('rpicam backend (fake rpicam-vid) at %ix%i: limited range %s, the colours come back', async (width, height, matrix) => {
    const src = createRpicamSource({ width, height, fps: 10, bin: FAKE_RPICAM, logger, spawn: fakeRpicamSpawn({ FAKE_RPICAM_VIDEO: clip('pc') }) });
    const frame = await firstFrame(src);
    expect(frame.encoding).toEqual({ matrix, range: 'limited' });
    expectColours(frame);
    // the same bytes read as full range (what every frame was taken for before sources stated their encoding) are off
    const asFull = quadrantMeans(i420ToRgb({ ...frame, encoding: FULL_BT601 }), width, height);
    expect(Math.max(...asFull.flatMap((got, q) => got.map((v, c) => Math.abs(v - COLOURS[q][c]))))).toBeGreaterThan(3 * TOLERANCE);
  });
});
