import { describe, expect, it } from 'vitest';
import { EmbedSelector } from '../../../src/session/embed-selector.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { assessQuality } from '../../../src/session/quality.ts';
import type { FrameSignals } from '../../../src/session/signals.ts';

describe('EmbedSelector', () => {
  it('embeds challenge frames at most once per interval, every good match frame', () => {
    const sel = new EmbedSelector(400);
    const quality = resolvePolicy({}).quality;
    const f = (tsMs: number) => ({
      tsMs, frameWidth: 640, frameHeight: 480, faceCount: 1,
      face: { box: { x1: 240, y1: 160, x2: 400, y2: 320 }, yawDeg: 0, pitchDeg: 0, rollDeg: 0, leftEyeOpen: 1, rightEyeOpen: 1, faceLuma: 120, antispoof: 0.9, quality: { sharpness: 500 } },
    });
    const want = (state: 'challenges' | 'match', frame: FrameSignals): boolean => sel.want(state, frame, assessQuality(frame, quality));
    const picked = [0, 100, 200, 300, 400, 500, 800].filter((t) => want('challenges', f(t)));
    expect(picked).toEqual([0, 400, 800]);
    expect([900, 933, 966].every((t) => want('match', f(t)))).toBe(true);
    expect(want('match', { ...f(1000), faceCount: 0, face: undefined })).toBe(false);
  });
});
