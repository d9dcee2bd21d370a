import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../../src/camera/frame-source.ts';
import { tightLayout } from '../../../src/camera/i420.ts';
import { importRecording } from '../../../src/camera/recording-import.ts';
import { loadRecording, RecordingWriter } from '../../../src/camera/recording.ts';
import { ReplaySource } from '../../../src/camera/replay-source.ts';
import { createRpicamSource } from '../../../src/camera/rpicam-source.ts';
import { isUsageError } from '../../../src/lib/errors.ts';
import { describeWithFaceData } from '../../face-data.ts';
import { CLIP, CLIP_EVENTS, FAKE_RPICAM, VIDEO, fakeRpicamSpawn, logSink, referenceFrames } from './helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'regterm-rec-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const { logger } = logSink();

async function all(src: ReplaySource): Promise<Frame[]> {
  await src.start();
  const out: Frame[] = [];
  for await (const f of src.frames()) out.push(f);
  await src.stop();
  return out;
}

describeWithFaceData('recordings of an annotated clip', ['dagan_driving_video'], () => {
  it('import references the clip in place, keeps its timestamps and ground truth, and replays every frame', async () => {
    const dir = join(tmp, 'import');
    const rec = await importRecording({ video: CLIP, eventsCsv: CLIP_EVENTS, outDir: dir });
    expect(rec).toMatchObject({ width: 256, height: 256, fps: 25, frames: { kind: 'video', file: CLIP, count: 184 } });
    expect(rec.timestampsMs.slice(0, 3)).toEqual([0, 40, 80]);
    expect(rec.groundTruth?.find((e) => e.event === 'turn_left')).toMatchObject({ startMs: 2320, endMs: 3120 });
    expect(statSync(dir).isDirectory() && readFileSync(join(dir, 'recording.json'), 'utf8').length).toBeLessThan(20_000);
    const frames = await all(new ReplaySource({ path: dir, pace: 'fast', logger }));
    expect(frames).toHaveLength(184);
    expect(frames.at(-1)).toMatchObject({ seq: 183, tsMs: 7320 });
    const size = tightLayout(256, 256).frameBytes;
    const ref = referenceFrames(CLIP, 256, 256, 25, 184);
    for (const i of [0, 91, 183]) expect(Buffer.from(frames[i].data).equals(Buffer.from(ref.subarray(i * size, (i + 1) * size)))).toBe(true);
  });

  it('replay is deterministic: two runs give identical frames and timestamps', async () => {
    const dir = join(tmp, 'import');
    const [a, b] = [await all(new ReplaySource({ path: dir, pace: 'fast', logger })), await all(new ReplaySource({ path: dir, pace: 'fast', logger }))];
    expect(a.map((f) => f.tsMs)).toEqual(b.map((f) => f.tsMs));
    expect(a.every((f, i) => Buffer.from(f.data).equals(Buffer.from(b[i].data)))).toBe(true);
  });

  it('a video file replays like its imported recording', async () => {
    const [fromFile, fromDir] = [await all(new ReplaySource({ path: CLIP, pace: 'fast', logger })), await all(new ReplaySource({ path: join(tmp, 'import'), pace: 'fast', logger }))];
    expect(fromFile).toHaveLength(184);
    expect(fromFile.map((f) => f.tsMs)).toEqual(fromDir.map((f) => f.tsMs));
    expect(Buffer.from(fromFile[100].data).equals(Buffer.from(fromDir[100].data))).toBe(true);
  });
});

describe('recordings', () => {
  it('frames recorded from the rpicam backend with prompts and buttons replay byte for byte', async () => {
    const dir = join(tmp, 'live');
    const cam = createRpicamSource({ width: 322, height: 242, fps: 10, bin: FAKE_RPICAM, logger, spawn: fakeRpicamSpawn({ FAKE_RPICAM_VIDEO: VIDEO }) });
    await cam.start();
    const w = new RecordingWriter(dir, { camera: { backend: 'rpicam' }, width: 322, height: 242, fps: 10 });
    await w.open();
    const recorded: Frame[] = [];
    for await (const f of cam.frames()) {
      if (recorded.length === 0) w.addPrompt(f.tsMs, 'look', true);
      await w.addFrame(f);
      recorded.push({ ...f, data: f.data.slice() });
      if (recorded.length === 2) w.addButton(f.tsMs + 5, 'start', true);
      if (recorded.length === 5) break;
    }
    await cam.stop();
    const rec = await w.finish();
    expect(rec.prompts).toEqual([{ tMs: 0, led: 'look', on: true }]);
    expect(rec.buttons).toEqual([{ tMs: Math.round(recorded[1].tsMs - recorded[0].tsMs + 5), button: 'start', pressed: true }]);
    expect(statSync(join(dir, 'frames.i420')).size).toBe(5 * tightLayout(322, 242).frameBytes);
    expect(rec.frames.encoding).toEqual({ matrix: 'bt601', range: 'limited' });
    const replayed = await all(new ReplaySource({ path: dir, pace: 'fast', logger }));
    expect(replayed.map((f) => f.tsMs)).toEqual(recorded.map((f) => Math.round(f.tsMs - recorded[0].tsMs)));
    expect(replayed.every((f, i) => Buffer.from(f.data).equals(Buffer.from(recorded[i].data)))).toBe(true);
    expect(replayed.every((f) => f.encoding.range === 'limited' && f.encoding.matrix === 'bt601')).toBe(true);
  });

  it('refuses an invalid recording.json with a one-line reason', async () => {
    const dir = join(tmp, 'bad');
    await importRecording({ video: VIDEO, outDir: dir });
    const json = JSON.parse(readFileSync(join(dir, 'recording.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'recording.json'), JSON.stringify({ ...json, timestampsMs: [0, 1] }));
    const err = await loadRecording(dir).then(() => undefined, (e: unknown) => e);
    expect(isUsageError(err)).toBe(true);
    expect(String(err)).toMatch(/one entry per frame/);
  });

  it('refuses a file that is not a video', async () => {
    const err = await importRecording({ video: join(import.meta.dirname, 'helpers.ts'), outDir: join(tmp, 'x') }).then(() => undefined, (e: unknown) => e);
    expect(isUsageError(err)).toBe(true);
  });
});
