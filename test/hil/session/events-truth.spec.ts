/**
 * The events-only detectors on synthetic signals shaped like the face data's annotated clips (their events CSVs, read
 * in place): every confident blink and turn is found, nothing else.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { scoreEvents, type TruthEvent } from '../../../src/session/detectors/event-score.ts';
import { detectClipEvents } from '../../../src/session/detectors/events-only.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { FACE_DATA, describeWithFaceData } from '../../face-data.ts';
import { blinkEyes, clip, gauss, turnYaw, withEyes } from '../../unit/session/synth.ts';

const policy = resolvePolicy();
const SETS: Array<[string, number, number]> = [
  ['sadtalker_hdtf_ref_videos/WDA_AlexandriaOcasioCortez_000.events.csv', 8000, 25],
  ['dagan_driving_video/driving.events.csv', 7400, 25],
  ['liveportrait_driving_videos/d13.events.csv', 11_730, 30],
  ['liveportrait_driving_videos/d3.events.csv', 11_800, 30],
];

/** Minimal reader for the data set's events CSV (start_s,end_s,event,confidence,"note"). */
function readTruth(rel: string): TruthEvent[] {
  const lines = readFileSync(join(FACE_DATA, rel), 'utf8').trim().split('\n').slice(1);
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

describeWithFaceData('events-only mode on the annotated clips\' ground truth', SETS.map(([rel]) => rel), () => {
  it('on signals shaped like the data set\'s annotated clips, scores perfectly against their ground truth', () => {
    let positives = 0;
    for (const [rel, ms, fps] of SETS) {
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
