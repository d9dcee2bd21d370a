import { describe, expect, it } from 'vitest';
import { ActiveChallenge } from '../../../src/session/challenges.ts';
import { RECORDING_ANSWER_WINDOWS, resolvePolicy } from '../../../src/session/policy.ts';
import type { FrameSignals } from '../../../src/session/signals.ts';
import { blinkEyes, clip, turnYaw, withEyes } from './synth.ts';

const policy = resolvePolicy();
const salt = new Uint8Array(16);

function outcome(type: 'blink' | 'turn_left' | 'turn_right', promptMs: number, frames: FrameSignals[]): string {
  const c = ActiveChallenge.start(type, promptMs, policy, 'n', salt);
  for (const f of frames) {
    const s = c.frame(f);
    if (s.status !== 'pending') return `${s.status}@${f.tsMs}`;
  }
  return 'pending';
}

const blinkAt = (t0: number): FrameSignals[] =>
  clip({ durationMs: 9000, face: (t, base, rand) => { const v = blinkEyes(t, t0, 250); return v === undefined ? base : withEyes(base, v, rand); } });

describe('ActiveChallenge', () => {
  it('a blink that starts after the reaction time passes; one starting sooner, or before the prompt, does not', () => {
    expect(outcome('blink', 1000, blinkAt(1400))).toMatch(/^passed@/);
    expect(outcome('blink', 1000, blinkAt(1050))).toMatch(/^failed@8000/);
    expect(outcome('blink', 1000, blinkAt(900))).toMatch(/^failed@8000/);
  });

  it('a blink must start within blink.startWithinMs (1500) of the prompt: a later blink is not an answer', () => {
    expect(outcome('blink', 1000, blinkAt(2400))).toMatch(/^passed@/);
    expect(outcome('blink', 1000, blinkAt(2700))).toMatch(/^failed@8000/);
    // a recording's window (RECORDING_ANSWER_WINDOWS) takes any blink before the deadline
    const c = ActiveChallenge.start('blink', 1000, resolvePolicy(RECORDING_ANSWER_WINDOWS), 'n', salt);
    expect(blinkAt(6000).map((f) => c.frame(f).status)).toContain('passed');
  });

  it('a turn passes only in the asked direction, from frontal, after the prompt', () => {
    const turn = (peak: number, t0 = 1500) => clip({
      durationMs: 9000,
      face: (t, base) => { const y = turnYaw(t, t0, 400, 400, peak); return y === undefined ? base : { ...base, yawDeg: y }; },
    });
    expect(outcome('turn_left', 1000, turn(30))).toMatch(/^passed@/);
    expect(outcome('turn_right', 1000, turn(-30))).toMatch(/^passed@/);
    expect(outcome('turn_right', 1000, turn(30))).toMatch(/^failed@8000/);
    const alreadyTurned = clip({ durationMs: 9000, face: (_t, base) => ({ ...base, yawDeg: 30 }) });
    expect(outcome('turn_left', 1000, alreadyTurned)).toMatch(/^failed@8000/);
  });

  it('a turn is measured from the baseline yaw handed over by the session', () => {
    const fromMinus6 = clip({
      durationMs: 9000,
      face: (t, base) => ({ ...base, yawDeg: base.yawDeg - 6 + (turnYaw(t, 1500, 400, 400, 12) ?? 0) }),
    });
    const run = (frontal: number): string => {
      const c = ActiveChallenge.start('turn_left', 1000, policy, 'n', salt, frontal);
      for (const f of fromMinus6) {
        const s = c.frame(f);
        if (s.status !== 'pending') return s.status;
      }
      return 'pending';
    };
    // baseline -6 deg, turned to +6 deg: 12 deg from that baseline passes; on absolute yaw +6 never reaches 8
    expect(run(-6)).toBe('passed');
    expect(run(0)).toBe('failed');
  });

  describe('the prompted turn rule (policy.turn.prompted: enterDeg 8, exitDeg 5, holdMs 200, startWithinMs 1500)', () => {
    /** noise-free yaw: `yaw(t)` from the prompt at 1000 ms */
    const turnLeft = (yaw: (t: number) => number): string => outcome('turn_left', 1000, clip({
      durationMs: 9000, face: (t, base) => ({ ...base, yawDeg: yaw(t) }),
    }));
    const ramp = (t0: number, peak: number, holdMs: number) => (t: number): number => turnYaw(t, t0, 300, holdMs, peak) ?? 0;

    it('passes at 9 deg (three fr_pose steps) and not at 7', () => {
      expect(turnLeft(ramp(1500, 9, 500))).toMatch(/^passed@/);
      expect(turnLeft(ramp(1500, 7, 2000))).toMatch(/^failed@8000/);
    });

    it('needs the yaw held at or past enterDeg for holdMs', () => {
      // a 12 deg flick out and back within 300 ms: past enterDeg for ~160 ms
      expect(turnLeft((t) => (t >= 1500 && t < 1800 ? 12 * Math.sin((Math.PI * (t - 1500)) / 300) : 0))).toMatch(/^failed@8000/);
      expect(turnLeft(ramp(1500, 12, 300))).toMatch(/^passed@/);
    });

    it('counts a turn that starts within startWithinMs of the prompt, not one that starts later', () => {
      // the turn starts where it leaves exitDeg, ~120 ms into the ramp
      expect(turnLeft(ramp(2300, 15, 500))).toMatch(/^passed@/);
      expect(turnLeft(ramp(2500, 15, 500))).toMatch(/^failed@8000/);
    });

    it('needs the turn to start from the baseline: a head already past exitDeg at the prompt does not count', () => {
      expect(turnLeft((t) => (t < 3000 ? 6 : 15))).toMatch(/^failed@8000/);
    });
  });

  it('says when the answer started, or when a blink outside the reaction window started (a field trial reads them)', () => {
    const status = (frames: FrameSignals[]) => {
      const c = ActiveChallenge.start('blink', 1000, policy, 'n', salt);
      for (const f of frames) {
        const s = c.frame(f);
        if (s.status !== 'pending') return s;
      }
      return c.tick(Infinity);
    };
    const answered = status(blinkAt(1600));
    expect(answered.status).toBe('passed');
    // the detector dates a blink from its first closed frame: within a frame or two of where the synthetic closure begins
    expect(answered.status === 'passed' && answered.answerStartMs).toBeGreaterThanOrEqual(550);
    expect(answered.status === 'passed' && answered.answerStartMs).toBeLessThan(700);
    const late = status(blinkAt(2800));
    expect(late.status).toBe('failed');
    expect(late.status === 'failed' && late.outsideWindowStartMs).toBeGreaterThan(1500);
    const early = status(blinkAt(900));
    expect(early.status === 'failed' && early.outsideWindowStartMs).toBeLessThan(150);
    expect(status(clip({ durationMs: 9000 }))).toEqual({ status: 'failed' });
  });

  it('fails at its deadline on time alone (tick) when no frames arrive', () => {
    const c = ActiveChallenge.start('blink', 1000, policy, 'n', salt);
    expect(c.tick(7999).status).toBe('pending');
    expect(c.tick(8000).status).toBe('failed');
  });
});
