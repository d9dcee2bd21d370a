/** scripts/models/spoof-metrics.ts: AUC, PAD rates at a given threshold, and the session's window rule on a clip. */
import { describe, expect, it } from 'vitest';
import { auc, padReport, spoofFrameFraction, spoofWindows, type ClipFrame } from '../../../scripts/models/spoof-metrics.ts';

describe('spoof metrics', () => {
  it('AUC counts live-over-attack pairs, ties half', () => {
    expect(auc([0.9, 0.8], [0.1, 0.2])).toBe(1);
    expect(auc([0.1], [0.9])).toBe(0);
    expect(auc([0.5, 0.9], [0.5, 0.1])).toBe((0.5 + 1 + 1 + 1) / 4);
  });

  it('reports APCER/BPCER at a threshold chosen elsewhere, and the own EER', () => {
    const rows = [
      { live: true, score: 0.9 }, { live: true, score: 0.6 }, { live: true, score: 0.3 },
      { live: false, score: 0.5 }, { live: false, score: 0.2 }, { live: false, score: 0.1 },
    ];
    const r = padReport(rows, 0.55);
    expect(r.apcer).toBe(0);
    expect(r.bpcer).toBeCloseTo(1 / 3, 9);
    expect(r.threshold).toBe(0.55);
    expect(padReport(rows).eer).toBeCloseTo(1 / 3, 9);
  });

  it('refuses a window when the trimmed mean of facing frames is below the threshold, ignoring turned frames', () => {
    // 10 fps for 8 s; frames in seconds 0-3 score 0.1, later 0.9; frames with |yaw| > limit never count
    const frames: ClipFrame[] = Array.from({ length: 80 }, (_, i) => ({ tsMs: i * 100, faceCount: 1, yawDeg: i % 10 === 9 ? 40 : 0, pitchDeg: 0 }));
    const score = (i: number): number => (i % 10 === 9 ? 0 : i < 40 ? 0.1 : 0.9);
    const rule = { maxYawDeg: 25, maxPitchDeg: 25, minFrames: 8, trimFraction: 0.2, threshold: 0.5 };
    // windows start at 0, 1, 2 s (the last facing frame is at 7.8 s): [0,5) mostly low, [1,6) 3 low s of 5, [2,7) 2 of 5
    expect(spoofWindows(frames, score, rule)).toEqual({ windows: 3, spoof: 2 });
    expect(spoofWindows(frames, score, { ...rule, minFrames: 100 })).toEqual({ windows: 0, spoof: 0 });
    expect(spoofFrameFraction([0.1, undefined, 0.9, 0.2], 0.5)).toBeCloseTo(2 / 3, 9);
  });
});
