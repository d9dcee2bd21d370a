import { describe, expect, it } from 'vitest';
import { scoreEvents, type TruthEvent } from '../../../src/session/detectors/event-score.ts';
import { clipFrontalYaw, detectClipEvents } from '../../../src/session/detectors/events-only.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { blinkEyes, clip, turnYaw, withEyes } from './synth.ts';

const policy = resolvePolicy();

describe('events-only mode', () => {
  it('reports blinks and turns in seconds, sorted, with the subject\'s own direction', () => {
    const frames = clip({
      durationMs: 6000,
      face: (t, base, rand) => {
        const v = blinkEyes(t, 1000, 240);
        if (v !== undefined) return withEyes(base, v, rand);
        const y = turnYaw(t, 3000, 500, 500, 30) ?? turnYaw(t, 4700, 300, 300, -28);
        return y === undefined ? base : { ...base, yawDeg: y };
      },
    });
    const events = detectClipEvents(frames, policy);
    expect(events.map((e) => e.type)).toEqual(['blink', 'turn_left', 'turn_right']);
    expect(events[0].startS).toBeCloseTo(1.0, 1);
    expect(events[0].endS).toBeCloseTo(1.24, 1);
    expect(events[1].startS).toBeGreaterThan(3.0);
    expect(events[1].endS).toBeLessThan(4.6);
    expect(detectClipEvents(frames, { ...policy, mirrored: true }).map((e) => e.type)).toEqual(['blink', 'turn_right', 'turn_left']);
  });

  it('times are relative to the clip start and a clip ending mid-turn closes the turn at its last frame', () => {
    const frames = clip({ durationMs: 2000, face: (t, base) => ({ ...base, yawDeg: t > 1000 ? 35 : 0 }) })
      .map((f) => ({ ...f, tsMs: f.tsMs + 50_000 }));
    const [turn] = detectClipEvents(frames, policy, 50_000);
    expect(turn.type).toBe('turn_left');
    expect(turn.startS).toBeCloseTo(1.0, 1);
    expect(turn.endS).toBeCloseTo(1.97, 1);
  });

  it('measures turns from the clip\'s frontal yaw (median of its frames inside the gate\'s facing band)', () => {
    // a subject whose frontal reads -6 deg: turns of 22 deg peak at +16 (left) and -28 (right); a 40 deg excursion
    // outside the facing band does not move the baseline
    const frames = clip({
      durationMs: 8000,
      face: (t, base) => {
        const y = turnYaw(t, 1000, 300, 500, 22) ?? turnYaw(t, 3000, 300, 500, -22) ?? turnYaw(t, 5000, 300, 1200, 40);
        return { ...base, yawDeg: base.yawDeg - 6 + (y ?? 0) };
      },
    });
    expect(detectClipEvents(frames, policy).map((e) => e.type)).toEqual(['turn_left', 'turn_right', 'turn_left']);
    // 16 deg glances from the same frontal are no turns, although the right one reads -22 deg absolute
    const glances = clip({
      durationMs: 8000,
      face: (t, base) => ({ ...base, yawDeg: base.yawDeg - 6 + (turnYaw(t, 1000, 300, 500, 16) ?? turnYaw(t, 4000, 300, 500, -16) ?? 0) }),
    });
    expect(detectClipEvents(glances, policy)).toEqual([]);
    expect(detectClipEvents(glances, { ...policy, turn: { ...policy.turn, enterDeg: 12, exitDeg: 8 } }).map((e) => e.type)).toEqual(['turn_left', 'turn_right']);
  });

  it('a clip without a frontal phase as long as the quality gate\'s hold has no baseline (absolute yaw)', () => {
    const turned = clip({ durationMs: 4000, face: (t, base) => ({ ...base, yawDeg: t < 300 ? -14 : -30 }) });
    expect(clipFrontalYaw(turned, policy)).toBe(0);
    expect(detectClipEvents(turned, policy).map((e) => e.type)).toEqual(['turn_right']);
    const settles = clip({ durationMs: 4000, face: (t, base) => ({ ...base, yawDeg: base.yawDeg + (t < 3000 ? -30 : -8) }) });
    expect(clipFrontalYaw(settles, policy)).toBeCloseTo(-8, 0);
    // settling at -10 is a head held turned, not a bias within turn.maxFrontalBiasDeg: the camera axis is frontal
    const heldTurned = clip({ durationMs: 4000, face: (t, base) => ({ ...base, yawDeg: t < 3000 ? -30 : -10 }) });
    expect(clipFrontalYaw(heldTurned, policy)).toBe(0);
  });
});

describe('scoreEvents', () => {
  const truth: TruthEvent[] = [
    { startS: 1, endS: 1.2, event: 'blink', confidence: 'high' },
    { startS: 2, endS: 2.1, event: 'blink', confidence: 'low' },
    { startS: 3, endS: 4, event: 'turn_left', confidence: 'medium' },
  ];

  it('counts matches, misses and false alarms; low-confidence events are neither required nor errors', () => {
    const scores = scoreEvents([
      { type: 'blink', startS: 1.05, endS: 1.25 },
      { type: 'blink', startS: 2.0, endS: 2.1 },
      { type: 'blink', startS: 5, endS: 5.2 },
      { type: 'turn_right', startS: 3.1, endS: 3.9 },
    ], truth);
    const by = Object.fromEntries(scores.map((s) => [s.type, s]));
    expect(by.blink).toMatchObject({ truePositives: 1, falsePositives: 1, falseNegatives: 0, positives: 1 });
    expect(by.turn_left).toMatchObject({ truePositives: 0, falseNegatives: 1, recall: 0 });
    expect(by.turn_right).toMatchObject({ falsePositives: 1, precision: 0 });
  });

  it('one ground-truth event matches one detection only', () => {
    const [blink] = scoreEvents([
      { type: 'blink', startS: 1.0, endS: 1.1 },
      { type: 'blink', startS: 1.1, endS: 1.2 },
    ], truth);
    expect(blink).toMatchObject({ truePositives: 1, falsePositives: 1 });
  });
});
