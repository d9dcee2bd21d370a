import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scoreEvents, type TruthEvent } from '../../../src/session/detectors/event-score.ts';
import { clipFrontalYaw, detectClipEvents } from '../../../src/session/detectors/events-only.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { blinkEyes, clip, gauss, turnYaw, withEyes } from './synth.ts';
import { faceDataRoot } from '../../../src/face-data.ts';

const policy = resolvePolicy();
/** The read-only shared face data, read in place (same variable as the HIL tests). */
const DATA = faceDataRoot();

/** Minimal reader for the data set's events CSV (start_s,end_s,event,confidence,"note"). */
function readTruth(rel: string): TruthEvent[] {
  const lines = readFileSync(join(DATA, rel), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const [s, e, event, confidence] = l.split(',');
    return { startS: Number(s), endS: Number(e), event, confidence };
  });
}

/**
 * Synthesise a clip from a ground-truth file: each high/medium blink becomes an eye closure over its interval, each turn a yaw
 * excursion to 30 deg (toward the image right for turn_left, per the data set's unmirrored convention), with noise.
 */
function clipFromTruth(truth: TruthEvent[], durationMs: number, fps: number) {
  return clip({
    durationMs,
    fps,
    jitterMs: 2,
    face: (t, base, rand) => {
      let f = base;
      for (const ev of truth) {
        const [a, b] = [ev.startS * 1000, ev.endS * 1000];
        if (ev.event === 'blink' && ev.confidence !== 'low') {
          const v = blinkEyes(t, a - 1000 / fps, Math.max(b - a + 1000 / fps, 2000 / fps));
          if (v !== undefined) f = withEyes(f, v, rand);
        }
        if (ev.event === 'turn_left' || ev.event === 'turn_right') {
          const rise = Math.min(300, (b - a) / 3);
          const y = turnYaw(t, a, rise, b - a - 2 * rise, 30);
          if (y !== undefined) f = { ...f, yawDeg: (ev.event === 'turn_left' ? y : -y) + gauss(rand) * 2 };
        }
      }
      return f;
    },
  });
}

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

  it('on signals shaped like the data set\'s annotated clips, scores perfectly against their ground truth', () => {
    const sets: Array<[string, number, number]> = [
      ['sadtalker_hdtf_ref_videos/WDA_AlexandriaOcasioCortez_000.events.csv', 8000, 25],
      ['dagan_driving_video/driving.events.csv', 7400, 25],
      ['liveportrait_driving_videos/d13.events.csv', 11_730, 30],
      ['liveportrait_driving_videos/d3.events.csv', 11_800, 30],
    ];
    let positives = 0;
    for (const [rel, ms, fps] of sets) {
      const truth = readTruth(rel);
      positives += truth.filter((t) => ['blink', 'turn_left', 'turn_right'].includes(t.event) && t.confidence !== 'low').length;
      const scores = scoreEvents(detectClipEvents(clipFromTruth(truth, ms, fps), policy), truth);
      for (const s of scores) {
        expect(s.falsePositives, `${rel} ${s.type} FP`).toBe(0);
        expect(s.falseNegatives, `${rel} ${s.type} FN`).toBe(0);
      }
    }
    expect(positives).toBeGreaterThan(15);
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
