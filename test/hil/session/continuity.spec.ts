/**
 * HIL: identity continuity on real footage with the engine's calibrated fusion (z-units, models/manifest.json).
 * Every 5th frame of a clip with head turns, closing eyes and expressions must stay above the continuity threshold
 * against the clip's first frontal frame; frames of other people must stay below it.
 * Measured over 6 clips / 6 people (`npx tsx research/measure-continuity.ts`): same-person minimum 3.91,
 * other-person maximum 2.66 (1500 comparisons). Hence the recommended continuityThreshold 3.0 for the fusion scale.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FaceEngine } from '../../../src/vision/engine.ts';
import { clipTemplates } from './clip-signals.ts';
import { describeWithFaceData } from '../../face-data.ts';

const FUSED_CONTINUITY = 3.0;
const engine = new FaceEngine();
beforeAll(() => engine.start());
afterAll(() => engine.stop());

describeWithFaceData('identity continuity on real clips (engine fusion)', ['dagan_driving_video', 'liveportrait_driving_videos'], () => {
  it('the same person through a head turn stays above the threshold; another person stays below', async () => {
    const turning = await clipTemplates(engine, { set: 'dagan_driving_video', clip: 'driving', width: 256, height: 256, fps: 25 }, 5);
    const other = await clipTemplates(engine, { set: 'liveportrait_driving_videos', clip: 'd18', width: 480, height: 480, fps: 30 }, 10);
    const anchor = turning.find((x) => Math.abs(x.yawDeg) < 10);
    if (anchor === undefined) throw new Error('no frontal frame');
    const same = turning.map((x) => engine.compare(anchor.template, x.template).similarity);
    const impostor = other.map((x) => engine.compare(anchor.template, x.template).similarity);
    expect(turning.some((x) => x.yawDeg >= 15)).toBe(true);
    expect(Math.min(...same)).toBeGreaterThan(FUSED_CONTINUITY);
    expect(Math.max(...impostor)).toBeLessThan(FUSED_CONTINUITY);
  });
});
