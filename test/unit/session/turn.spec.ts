import { describe, expect, it } from 'vitest';
import { TurnDetector, frontalYaw, promptBaselineYaw, type TurnEvent } from '../../../src/session/detectors/turn.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { subjectYawDeg, type FrameSignals } from '../../../src/session/signals.ts';
import { clip, gauss, turnYaw } from './synth.ts';

const policy = resolvePolicy();

function run(frames: FrameSignals[], mirrored = false, frontalYawDeg = 0): TurnEvent[] {
  const d = new TurnDetector(policy.turn, mirrored, frontalYawDeg);
  const out: TurnEvent[] = [];
  for (const f of frames) out.push(...d.push(f.tsMs, f.faceCount > 0 ? f.face : undefined));
  return [...out, ...d.finish()];
}

/** A head turn with image yaw `peak` (positive = toward the image right), noisy. */
function turning(t0: number, riseMs: number, holdMs: number, peak: number, extra: Partial<Parameters<typeof clip>[0]> = {}): FrameSignals[] {
  return clip({
    durationMs: 4000,
    jitterMs: 3,
    ...extra,
    face: (t, base, rand) => {
      const y = turnYaw(t, t0, riseMs, holdMs, peak);
      return y === undefined ? base : { ...base, yawDeg: y + gauss(rand) * 2 };
    },
  });
}

describe('subject yaw convention', () => {
  it('unmirrored: a face turning toward the image right is the subject turning to their own left', () => {
    expect(subjectYawDeg(25, false)).toBe(25);
    expect(subjectYawDeg(25, true)).toBe(-25);
  });
});

describe('TurnDetector', () => {
  it('detects a slow turn to the subject\'s left with onset then end', () => {
    const events = run(turning(500, 900, 400, 30));
    expect(events.map((e) => [e.type, e.direction])).toEqual([['turn_onset', 'left'], ['turn_end', 'left']]);
    const end = events[1];
    expect(end.fromFrontal).toBe(true);
    expect(end.startMs).toBeGreaterThan(500);
    expect(end.endMs).toBeGreaterThan(2200);
    expect(end.peakDeg).toBeGreaterThan(28);
  });

  it('negative image yaw is a right turn; a mirrored camera flips it', () => {
    expect(run(turning(500, 400, 300, -28))[0].direction).toBe('right');
    expect(run(turning(500, 400, 300, -28), true)[0].direction).toBe('left');
  });

  it('survives dropped frames (timestamps, not counts)', () => {
    for (const seed of [1, 2, 3]) {
      const events = run(turning(500, 500, 500, 30, { dropRate: 0.3, seed }));
      expect(events.filter((e) => e.type === 'turn_end')).toHaveLength(1);
    }
  });

  it('ignores head sway, single-frame pose glitches and turns that never reach enterDeg', () => {
    const sway = clip({ durationMs: 10_000, face: (t, base, rand) => ({ ...base, yawDeg: 8 * Math.sin(t / 700) + gauss(rand) * 2 }) });
    expect(run(sway)).toEqual([]);
    const glitch = clip({ durationMs: 2000, face: (t, base) => (Math.abs(t - 1000) < 20 ? { ...base, yawDeg: 45 } : base) });
    expect(run(glitch)).toEqual([]);
    expect(run(turning(500, 600, 600, 17))).toEqual([]);
  });

  it('hysteresis: yaw hovering around enterDeg gives one turn, not many', () => {
    const hover = clip({
      durationMs: 4000,
      face: (t, base) => ({ ...base, yawDeg: t < 500 ? 0 : t < 3500 ? 20 + 5 * Math.sin(t / 60) : 0 }),
    });
    const ends = run(hover).filter((e) => e.type === 'turn_end');
    expect(ends).toHaveLength(1);
  });

  it('a clip that opens mid-turn reports the turn as not from frontal', () => {
    const staticTurn = clip({ durationMs: 2000, face: (_t, base) => ({ ...base, yawDeg: -32 }) });
    const events = run(staticTurn);
    expect(events.at(-1)).toMatchObject({ type: 'turn_end', direction: 'right', fromFrontal: false });
  });

  it('measures yaw from the subject\'s frontal baseline: frontal -6 turning to +16 is a 22 deg left turn', () => {
    const fromMinus6 = (peak: number): FrameSignals[] => turning(500, 400, 500, peak).map((f) =>
      (f.face ? { ...f, face: { ...f.face, yawDeg: f.face.yawDeg - 6 } } : f));
    const left = run(fromMinus6(22), false, -6);
    expect(left.map((e) => [e.type, e.direction])).toEqual([['turn_onset', 'left'], ['turn_end', 'left']]);
    expect(left[0]).toMatchObject({ fromFrontal: true });
    expect(left[0].peakDeg).toBeGreaterThan(20);
    expect(left[0].peakDeg).toBeLessThan(28);
    // the same readings on absolute yaw: +16 never reaches enterDeg
    expect(run(fromMinus6(22))).toEqual([]);
    // a 16 deg right turn reads -22 absolute but is only 16 deg from this subject's frontal
    expect(run(fromMinus6(-16))).not.toEqual([]);
    expect(run(fromMinus6(-16), false, -6)).toEqual([]);
  });

  it('frontalYaw: the median of the frontal readings (robust to a turn starting), 0 without readings or beyond the bias cap', () => {
    expect(frontalYaw([], 8)).toBe(0);
    expect(frontalYaw([-5, -6, -7], 8)).toBe(-6);
    expect(frontalYaw([-5, -6, -7, -4], 8)).toBe(-5.5);
    expect(frontalYaw([-6, -6, -5, -7, -6, 14, 15], 8)).toBe(-6);
    expect(frontalYaw([11, 12, 13], 8)).toBe(0);
    expect(frontalYaw([-8, -8, -8], 8)).toBe(-8);
  });

  it('a lost face ends a confirmed turn at the last frame seen', () => {
    const frames = turning(500, 300, 2000, 35).map((f) => (f.tsMs > 1200 ? { ...f, faceCount: 0, face: undefined } : f));
    const end = run(frames).find((e) => e.type === 'turn_end');
    expect(end?.endMs).toBeLessThanOrEqual(1200);
    expect(end?.endMs).toBeGreaterThan(1100);
  });
});

describe('promptBaselineYaw: the yaw a turn challenge is measured from', () => {
  const at = (yaws: number[], endMs = 1000, stepMs = 33) => yaws.map((yawDeg, i) => ({ tsMs: endMs - (yaws.length - i) * stepMs, yawDeg }));

  it('is the median yaw of the readings in turn.prompted.baselineMs before the prompt', () => {
    expect(promptBaselineYaw(at([3, 4, 5, 4, 30]), 1000, policy.turn, 0)).toBe(4);
    // readings older than the window, or at/after the prompt, are not part of it
    const readings = [{ tsMs: 100, yawDeg: -20 }, { tsMs: 200, yawDeg: -20 }, ...at([2, 2, 2]), { tsMs: 1000, yawDeg: 40 }];
    expect(promptBaselineYaw(readings, 1000, policy.turn, 0)).toBe(2);
  });

  it('falls back to the gate\'s frontal with too few readings', () => {
    expect(promptBaselineYaw(at([5, 5]), 1000, policy.turn, -3)).toBe(-3);
    expect(promptBaselineYaw([], 1000, policy.turn, 1.5)).toBe(1.5);
  });

  it('falls back to the gate\'s frontal when the face before the prompt is more than maxFrontalBiasDeg off it (still turned)', () => {
    expect(promptBaselineYaw(at([9, 9, 9, 9]), 1000, policy.turn, 0)).toBe(0);
    expect(promptBaselineYaw(at([7, 7, 7, 7]), 1000, policy.turn, 0)).toBe(7);
    expect(promptBaselineYaw(at([-2, -2, -2]), 1000, policy.turn, 6)).toBe(-2);
  });
});
