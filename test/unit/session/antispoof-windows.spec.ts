/** src/session/antispoof-windows.ts: the session's anti-spoof decision over a clip's 5 s windows, at its edges. */
import { describe, expect, it } from 'vitest';
import { ANTISPOOF_STEP_MS, ANTISPOOF_WINDOW_MS, antispoofWindows, windowDecisions, type WindowFrame } from '../../../src/session/antispoof-windows.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import type { FrameSignals } from '../../../src/session/signals.ts';
import { baseFace, prng } from './synth.ts';

const cfg = { threshold: 0.5, minFrames: 8, trimFraction: 0.2 };
/** `n` frames `dtMs` apart starting at `t0`, all scoring `score`. */
const run = (t0: number, n: number, dtMs: number, score: number | undefined): WindowFrame[] =>
  Array.from({ length: n }, (_, i) => ({ tsMs: t0 + i * dtMs, score }));

describe('anti-spoof windows', () => {
  it('a window whose aggregate equals the threshold is live; just below it is spoof', () => {
    expect(windowDecisions(run(0, 61, 100, 0.5), cfg)).toEqual({ windows: 2, spoofWindows: 0, lowest: 0.5 });
    const below = windowDecisions(run(0, 61, 100, 0.4999), cfg);
    expect(below).toMatchObject({ windows: 2, spoofWindows: 2 });
  });

  it('counts a window only with minFrames scored frames: one fewer and the session could not decide spoof there', () => {
    // 8 frames 700 ms apart in [0, 5000), and a 9th at 5000 (the window is half-open and ends by the last frame)
    const eight = [...run(0, 8, 700, 0.1), { tsMs: 5000, score: 0.1 }];
    expect(windowDecisions(eight, cfg)).toMatchObject({ windows: 1, spoofWindows: 1 });
    expect(windowDecisions(eight, { ...cfg, minFrames: 9 })).toEqual({ windows: 0, spoofWindows: 0 });
  });

  it('windows are [t, t + 5 s), 1 s apart, from the first to the last counted frame; shorter clips have none', () => {
    expect(ANTISPOOF_WINDOW_MS).toBe(5000);
    expect(ANTISPOOF_STEP_MS).toBe(1000);
    expect(windowDecisions(run(0, 50, 100, 0.9), cfg)).toEqual({ windows: 0, spoofWindows: 0 });
    // low frames in [5000, 6000) fall in windows starting at 1 s (and not the one starting at 0)
    const frames = [...run(0, 50, 100, 0.9), ...run(5000, 10, 100, 0.1), ...run(6000, 10, 100, 0.9)];
    const w = windowDecisions(frames, { ...cfg, trimFraction: 0 });
    expect(w.windows).toBe(2);
    expect(w.spoofWindows).toBe(0);
    expect(w.lowest).toBeCloseTo((40 * 0.9 + 10 * 0.1) / 50, 9);
  });

  it('unscored and non-finite frames add nothing; a few outliers are trimmed away', () => {
    const frames = run(0, 61, 100, 0.9).map((f, i) => (i % 2 ? { ...f, score: undefined } : i % 10 === 0 ? { ...f, score: Number.NaN } : f));
    // 24 counted frames from 200 to 5800 ms: one window
    expect(windowDecisions(frames, cfg)).toMatchObject({ windows: 1, spoofWindows: 0 });
    const outliers = run(0, 61, 100, 0.9).map((f, i) => (i % 10 === 0 ? { ...f, score: 0 } : f));
    const trimmed = windowDecisions(outliers, cfg);
    expect(trimmed.spoofWindows).toBe(0);
    expect(trimmed.lowest).toBeCloseTo(0.9, 9);
    expect(windowDecisions(outliers, { ...cfg, trimFraction: 0, threshold: 0.85 }).spoofWindows).toBe(2);
  });

  it('on session signals, frames the quality gate refuses are not counted (as the session does not aggregate them)', () => {
    const rand = prng(7);
    const policy = resolvePolicy();
    const frames: FrameSignals[] = Array.from({ length: 181 }, (_, i) => ({
      tsMs: i * 33, frameWidth: 640, frameHeight: 480, faceCount: 1,
      // turned frames read low and are outside the gate's yaw limit: they must not refuse this face
      face: baseFace(rand, i % 3 === 0 ? { yawDeg: 40, antispoof: 0.05 } : { antispoof: 0.8 }),
    }));
    expect(antispoofWindows(frames, policy)).toMatchObject({ windows: 1, spoofWindows: 0 });
    const allCounted = frames.map((f) => ({ ...f, face: f.face && { ...f.face, yawDeg: 0 } }));
    expect(antispoofWindows(allCounted, { ...policy, antispoof: { ...policy.antispoof, trimFraction: 0, threshold: 0.6 } }).spoofWindows).toBe(1);
  });
});
