/**
 * HIL: the iris lid cue on a real clip through the replay path (recordingSignals → FaceEngine.analyzeFrame on a
 * FaceTrack): readings sit at the eye's open level on open-eyed frames and fall far below it inside the hand-annotated
 * blinks, and the iris model runs only on the frames the track asks for.
 * d18 (liveportrait_driving_videos): frontal, eyes open, two high-confidence blinks at 3.10-3.33 and 6.17-6.30 s.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseEventsCsv } from '../../../src/camera/events-csv.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { recordingSignals } from '../../../src/session/recording-signals.ts';
import type { FrameSignals } from '../../../src/session/signals.ts';
import { FaceEngine } from '../../../src/vision/engine.ts';
import { median } from '../../../src/vision/metrics.ts';
import { DATA } from './helpers.ts';
import { describeWithFaceData } from '../../face-data.ts';

const SET = 'liveportrait_driving_videos';
const engine = new FaceEngine();
const logger = createLogger({ level: 'silent' });
beforeAll(() => engine.start());
afterAll(() => engine.stop());

function relTimes(signals: FrameSignals[], t0Ms: number): Array<{ tS: number; f: FrameSignals }> {
  return signals.map((f) => ({ tS: (f.tsMs - t0Ms) / 1000, f }));
}

describeWithFaceData('iris lid cue (d18)', ['liveportrait_driving_videos/d18.mp4'], () => {
  const truth = parseEventsCsv(readFileSync(join(DATA, SET, 'd18.events.csv'), 'utf8'));
  const blinks = truth.filter((e) => e.event === 'blink');

  it('every frame measured (lidMeasureBelow above any probability): ~1 on open eyes, far below inside each annotated blink', async () => {
    const { signals, t0Ms } = await recordingSignals(engine, join(DATA, SET, 'd18.mp4'), logger, undefined, { lidMeasureBelow: 2 });
    const frames = relTimes(signals, t0Ms);
    const inBlink = (t: number): boolean => blinks.some((b) => t >= b.startMs / 1000 - 0.1 && t <= b.endMs / 1000 + 0.1);
    const open = frames.filter(({ tS, f }) => !inBlink(tS) && f.face?.leftLidOpen !== undefined && f.face.rightLidOpen !== undefined);
    expect(open.length).toBeGreaterThan(150);
    for (const eye of ['leftLidOpen', 'rightLidOpen'] as const) {
      const v = open.map(({ f }) => f.face?.[eye] ?? Number.NaN);
      expect(median(v)).toBeGreaterThan(0.9);
      expect(median(v)).toBeLessThan(1.1);
      expect(Math.min(...v)).toBeGreaterThan(0.75); // no open frame reads below the blink veto's lidOpenAbove
    }
    for (const b of blinks) {
      const inside = frames.filter(({ tS }) => tS >= b.startMs / 1000 && tS <= b.endMs / 1000);
      // both eyes closed on some frame: the more open eye's reading at its lowest
      const bothClosed = Math.min(...inside.map(({ f }) => Math.max(f.face?.leftLidOpen ?? 1, f.face?.rightLidOpen ?? 1)));
      expect(bothClosed, `blink at ${b.startMs} ms`).toBeLessThan(0.65);
    }
  });

  it('the default track measures both eyes on every 5th frame, plus the eyes fr_eye calls closed', async () => {
    const { signals } = await recordingSignals(engine, join(DATA, SET, 'd18.mp4'), logger);
    const withFace = signals.filter((f) => f.face);
    // after the first 5 scheduled frames (the open level) every scheduled frame carries both readings
    const measured = withFace.filter((f) => f.face?.leftLidOpen !== undefined || f.face?.rightLidOpen !== undefined);
    expect(measured.length).toBeGreaterThan(withFace.length / 5 - 8);
    expect(measured.length).toBeLessThan(withFace.length / 5 + 20);
    const closed = withFace.filter((f) => f.face && f.tsMs - withFace[0].tsMs > 1000 && f.face.leftEyeOpen < 0.3);
    expect(closed.length).toBeGreaterThan(0);
    for (const f of closed) expect(f.face?.leftLidOpen).toBeDefined();
  });
});
