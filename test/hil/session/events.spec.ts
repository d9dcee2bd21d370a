/**
 * HIL: the events-only detectors on real clips, through the real face engine, scored against the data set's
 * frame-accurate ground truth (../shared/data/<set>/<clip>.events.csv, read in place, nothing copied).
 * The clips chosen are the short, clean ones (~700 frames, ~30 s of inference on 2 cores); the numbers over every
 * annotated DEV clip come from `npx tsx test/hil/session/score-dev-events.ts` (src/session/README.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventScore } from '../../../src/session/detectors/event-score.ts';
import { FaceEngine } from '../../../src/vision/engine.ts';
import { scoreClip } from './clip-signals.ts';

const engine = new FaceEngine();
beforeAll(() => engine.start());
afterAll(() => engine.stop());

async function score(set: string, clip: string, width: number, height: number, fps: number): Promise<Record<string, EventScore>> {
  const scores = await scoreClip(engine, { set, clip, width, height, fps });
  return Object.fromEntries(scores.map((s) => [s.type, s]));
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
