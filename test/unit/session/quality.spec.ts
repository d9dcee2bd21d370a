import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { ISSUE_PROMPT } from '../../../src/session/prompts.ts';
import { assessQuality, QUALITY_ISSUES, type QualityIssue } from '../../../src/session/quality.ts';
import type { FaceSignals, FrameSignals } from '../../../src/session/signals.ts';
import { baseFace, prng } from './synth.ts';

const q = resolvePolicy().quality;
const rand = prng(5);

function frame(over: Partial<FaceSignals> = {}, faceCount = 1): FrameSignals {
  return { tsMs: 0, frameWidth: 640, frameHeight: 480, faceCount, face: baseFace(rand, over) };
}

const cases: Array<[QualityIssue, FrameSignals]> = [
  ['no_face', { tsMs: 0, frameWidth: 640, frameHeight: 480, faceCount: 0 }],
  ['multiple_faces', frame({}, 2)],
  ['too_far', frame({ box: { x1: 290, y1: 200, x2: 350, y2: 270 } })],
  ['too_close', frame({ box: { x1: 40, y1: 0, x2: 600, y2: 480 } })],
  ['off_center', frame({ box: { x1: 10, y1: 130, x2: 210, y2: 350 } })],
  ['not_facing', frame({ yawDeg: 25 })],
  ['not_facing', frame({ pitchDeg: -20 })],
  ['head_tilted', frame({ rollDeg: 22 })],
  ['too_dark', frame({ faceLuma: 35 })],
  ['too_bright', frame({ faceLuma: 235 })],
  ['blurry', frame({ quality: { sharpness: 45 } })],
  ['eyes_closed', frame({ leftEyeOpen: 0.1, rightEyeOpen: 0.9 })],
];

describe('assessQuality', () => {
  it('passes a centred, frontal, sharp, well-lit face with open eyes and ranks it', () => {
    const r = assessQuality(frame(), q);
    expect(r).toMatchObject({ ok: true, issues: [] });
    expect(r.score).toBeGreaterThan(3);
    const soft = assessQuality(frame({ quality: { sharpness: 200 } }), q);
    expect(soft.ok).toBe(true);
    expect(soft.score).toBeLessThan(r.score);
    const turned = assessQuality(frame({ yawDeg: 12 }), q);
    expect(turned.ok).toBe(true);
    expect(turned.score).toBeLessThan(r.score);
  });

  it.each(cases)('flags %s', (issue, f) => {
    const r = assessQuality(f, q);
    expect(r.ok).toBe(false);
    expect(r.issues[0]).toBe(issue);
    expect(r.score).toBe(0);
  });

  it('has a prompt for every issue', () => {
    for (const issue of QUALITY_ISSUES) expect(ISSUE_PROMPT[issue]).toBeTruthy();
    expect(ISSUE_PROMPT.too_far).toBe('move_closer');
    expect(ISSUE_PROMPT.not_facing).toBe('face_camera');
  });
});
