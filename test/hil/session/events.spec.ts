/**
 * HIL: the events-only detectors on real clips, through the real face engine, scored against the data set's
 * frame-accurate ground truth (../shared/data/<set>/<clip>.events.csv, read in place, nothing copied).
 * The clips chosen are the short, clean ones (~700 frames, ~30 s of inference on 2 cores); the full DEV numbers
 * over every annotated clip are in the session README section.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEventsCsv } from '../../../src/camera/events-csv.ts';
import { scoreEvents, type EventScore } from '../../../src/session/detectors/event-score.ts';
import { detectClipEvents } from '../../../src/session/detectors/events-only.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import type { FrameSignals } from '../../../src/session/signals.ts';
import { FaceEngine } from '../../../src/vision/engine.ts';
import { DATA } from '../vision/helpers.ts';

const engine = new FaceEngine();
beforeAll(() => engine.start());
afterAll(() => engine.stop());

/** Decode a clip with ffmpeg (stdout, no file) and analyse every frame; timestamps from the constant frame rate. */
async function clipSignals(path: string, width: number, height: number, fps: number): Promise<FrameSignals[]> {
  const child = spawn('ffmpeg', ['-loglevel', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const size = width * height * 3;
  const frames: FrameSignals[] = [];
  let pending = Buffer.alloc(0);
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= size) {
      const data = new Uint8Array(pending.subarray(0, size));
      pending = pending.subarray(size);
      const faces = await engine.analyzeFrame({ width, height, data }, { maxFaces: 2 });
      data.fill(0);
      const tsMs = Math.round((frames.length * 1000) / fps);
      const f = faces[0];
      frames.push(f === undefined
        ? { tsMs, frameWidth: width, frameHeight: height, faceCount: 0 }
        : {
          tsMs, frameWidth: width, frameHeight: height, faceCount: faces.length,
          face: {
            box: f.box, yawDeg: f.pose.yaw, pitchDeg: f.pose.pitch, rollDeg: f.pose.roll,
            leftEyeOpen: f.eyes.left, rightEyeOpen: f.eyes.right, faceLuma: f.quality.brightness * 255,
            antispoof: f.antispoof, quality: { sharpness: f.quality.sharpness },
          },
        });
    }
  }
  return frames;
}

async function score(set: string, clip: string, width: number, height: number, fps: number): Promise<Record<string, EventScore>> {
  const truth = parseEventsCsv(readFileSync(join(DATA, set, `${clip}.events.csv`), 'utf8')).map((e) => ({
    startS: e.startMs / 1000, endS: e.endMs / 1000, event: e.event, confidence: e.extra?.confidence,
  }));
  const detected = detectClipEvents(await clipSignals(join(DATA, set, `${clip}.mp4`), width, height, fps), resolvePolicy());
  return Object.fromEntries(scoreEvents(detected, truth).map((s) => [s.type, s]));
}

describe('events-only detectors on real clips', () => {
  it('SadTalker talking head: 10 annotated blinks incl. a double blink', async () => {
    const s = await score('sadtalker_hdtf_ref_videos', 'WDA_AlexandriaOcasioCortez_000', 512, 512, 25);
    expect(s.blink.truePositives).toBeGreaterThanOrEqual(9);
    expect(s.blink.falsePositives).toBeLessThanOrEqual(1);
    expect(s.turn_left.falsePositives + s.turn_right.falsePositives).toBe(0);
  });

  it('DaGAN interview: one turn to the subject\'s left, one blink, long downcast phases', async () => {
    const s = await score('dagan_driving_video', 'driving', 256, 256, 25);
    expect(s.turn_left).toMatchObject({ truePositives: 1, falsePositives: 0 });
    expect(s.turn_right.falsePositives).toBe(0);
    expect(s.blink).toMatchObject({ truePositives: 1, falsePositives: 0 });
  });

  it('PC-AVS clip turned to the subject\'s right throughout, with 3 blinks', async () => {
    const s = await score('pcavs_pose_source', '517600055', 224, 224, 25);
    expect(s.turn_right.truePositives).toBe(1);
    expect(s.turn_left.falsePositives).toBe(0);
    expect(s.blink.truePositives).toBeGreaterThanOrEqual(2);
    expect(s.blink.falsePositives).toBeLessThanOrEqual(1);
  });

  it('LivePortrait d18: two clean blinks, wide mouth openings, no turns', async () => {
    const s = await score('liveportrait_driving_videos', 'd18', 480, 480, 30);
    expect(s.blink).toMatchObject({ truePositives: 2, falsePositives: 0 });
    expect(s.turn_left.falsePositives + s.turn_right.falsePositives).toBe(0);
  });
});
