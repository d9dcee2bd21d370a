import { describe, expect, it } from 'vitest';
import type { TruthEvent } from '../../../src/session/detectors/event-score.ts';
import { evalClip, eventsTotals } from '../../../src/session/event-eval.ts';
import { resolvePolicy } from '../../../src/session/policy.ts';
import { INCIDENTAL_MIN_WINDOW_MS, PROMPT_LEAD_MS, incidentalPrompts, loopedTwice, promptsForEvents, replayPrompts, runPrompt } from '../../../src/session/prompted.ts';
import { clip, turnYaw } from './synth.ts';

const policy = resolvePolicy();
const truth = (rows: Array<[number, number, string, string?]>): TruthEvent[] =>
  rows.map(([startS, endS, event, confidence]) => ({ startS, endS, event, confidence: confidence ?? 'high' }));

/** 12 s at 30 fps: a 14 deg turn to the subject's left at 4.0 s (image yaw +), otherwise still and frontal. */
const frames = clip({
  durationMs: 12_000,
  face: (t, base) => ({ ...base, yawDeg: base.yawDeg * 0.3 + (turnYaw(t, 4000, 300, 600, 14) ?? 0) }),
});

describe('prompted mode: prompt placement', () => {
  it('places one prompt PROMPT_LEAD_MS before each high/medium event; low ones get none', () => {
    const { prompts, unpromptable } = promptsForEvents(truth([[4, 5, 'turn_left'], [6, 6.2, 'blink', 'low'], [8, 8.2, 'blink', 'medium']]), policy);
    expect(prompts).toEqual([{ type: 'turn_left', promptMs: 4000 - PROMPT_LEAD_MS }, { type: 'blink', promptMs: 8000 - PROMPT_LEAD_MS }]);
    expect(unpromptable).toEqual([]);
  });

  it('an event starting before the reaction floor after the first frame is unpromptable; a later early one gets a prompt at 0', () => {
    const { prompts, unpromptable } = promptsForEvents(truth([[0, 4.4, 'turn_right'], [0.32, 1.5, 'turn_right']]), policy);
    expect(unpromptable).toEqual([{ type: 'turn_right', promptMs: 0 }]);
    expect(prompts).toEqual([{ type: 'turn_right', promptMs: 0 }]);
  });

  it('incidental prompts avoid every annotation of the family (any confidence, either turn direction), are seeded, and leave room', () => {
    const t = truth([[4, 5, 'turn_right', 'low'], [9, 9.2, 'blink']]);
    const a = incidentalPrompts(t, 'turn_left', 12_000, policy, 'seed');
    expect(a.length).toBeGreaterThan(0);
    expect(incidentalPrompts(t, 'turn_left', 12_000, policy, 'seed')).toEqual(a);
    for (const p of a) {
      expect(p.promptMs + policy.challenges.timeoutMs <= 4000 || p.promptMs - policy.turn.prompted.baselineMs >= 5000).toBe(true);
      expect(p.promptMs).toBeGreaterThanOrEqual(policy.turn.prompted.baselineMs);
      expect(p.promptMs).toBeLessThanOrEqual(12_000 - INCIDENTAL_MIN_WINDOW_MS);
    }
    expect(incidentalPrompts(t, 'turn_left', 3000, policy, 'seed')).toEqual([]);
  });
});

describe('prompted mode: runPrompt through the session challenge', () => {
  it('a turn_left prompt before the turn passes, a turn_right one does not; the baseline is the face before the prompt', () => {
    const left = runPrompt(frames, 0, { type: 'turn_left', promptMs: 3400 }, policy, 0);
    expect(left.passed).toBe(true);
    expect(left.answerMs).toBeGreaterThan(600);
    expect(Math.abs(left.baselineYawDeg ?? 99)).toBeLessThan(1);
    expect(runPrompt(frames, 0, { type: 'turn_right', promptMs: 3400 }, policy, 0).passed).toBe(false);
  });

  it('a prompt long before the turn is not answered by it (the turn starts later than startWithinMs)', () => {
    expect(runPrompt(frames, 0, { type: 'turn_left', promptMs: 1000 }, policy, 0).passed).toBe(false);
  });

  it('a clip that ends before the deadline fails the prompt; clip time is counted from t0Ms', () => {
    const shifted = frames.map((f) => ({ ...f, tsMs: f.tsMs + 50_000 }));
    expect(runPrompt(shifted, 50_000, { type: 'turn_left', promptMs: 3400 }, policy, 0).passed).toBe(true);
    expect(runPrompt(shifted.slice(0, 120), 50_000, { type: 'turn_left', promptMs: 3400 }, policy, 0).passed).toBe(false);
  });
});

describe('replay prompts: what a looped recording answers without seeing the prompts', () => {
  it('loops the clip once, one frame after its end, and prompts every 100 ms over one pass', () => {
    const looped = loopedTwice(frames);
    const step = frames[1].tsMs - frames[0].tsMs;
    expect(looped.clipMs).toBe(frames.at(-1)!.tsMs - frames[0].tsMs + step);
    expect(looped.frames).toHaveLength(2 * frames.length);
    expect(looped.frames[frames.length].tsMs).toBe(frames[0].tsMs + looped.clipMs);
    const prompts = replayPrompts('turn_left', looped.clipMs, policy);
    expect(prompts).toHaveLength(Math.ceil(looped.clipMs / 100));
    expect(prompts[0].promptMs).toBe(policy.turn.prompted.baselineMs);
  });

  it('the one turn answers the prompts whose start window it falls in, and no others', () => {
    const looped = loopedTwice(frames);
    const answered = replayPrompts('turn_left', looped.clipMs, policy)
      .filter((p) => runPrompt(looped.frames, 0, p, policy, 0).passed).map((p) => p.promptMs);
    // the turn leaves the 5 deg band ~4.1 s: answered by prompts from 1.5 s before that to the reaction floor before it
    expect(answered.length).toBeGreaterThanOrEqual(12);
    expect(answered.length).toBeLessThanOrEqual(14);
    for (const at of answered) expect(at).toBeGreaterThan(4000 - policy.turn.prompted.startWithinMs - 200);
    for (const at of answered) expect(at).toBeLessThan(4000);
    const e = evalClip({ folder: 'f', clip: 'c' }, frames, 0, [], policy, 'seed');
    expect(e.prompted.turn_left).toMatchObject({ replayAnswers: answered.length, replayPrompts: 120 });
    expect(e.prompted.turn_right.replayAnswers).toBe(0);
    expect(eventsTotals([e]).prompted.turn_left.replayAnswerRate).toBe(Math.round((answered.length / 120) * 1000) / 1000);
  });
});

describe('evalClip and eventsTotals', () => {
  it('scores both modes; a detection over a low-confidence annotation of another type is not false', () => {
    const clipTruth = truth([[4, 5.3, 'turn_left', 'medium']]);
    const e = evalClip({ folder: 'f', clip: 'c' }, frames, 0, clipTruth, policy, 'seed');
    // 14 deg is short of the clip scan's 20: a miss there, answered when prompted
    expect(e.scan.turn_left).toMatchObject({ tp: 0, fn: 1, fp: 0 });
    expect(e.prompted.turn_left).toMatchObject({ answered: 1, prompts: 1, missedAtS: [] });
    const scanLow = evalClip({ folder: 'f', clip: 'c' }, frames, 0, truth([[3.5, 6, 'frontal_still', 'low']]), resolvePolicy({
      turn: { enterDeg: 10, exitDeg: 5 },
    }), 'seed');
    const scanBare = evalClip({ folder: 'f', clip: 'c' }, frames, 0, [], resolvePolicy({ turn: { enterDeg: 10, exitDeg: 5 } }), 'seed');
    expect(scanBare.scan.turn_left.fp).toBe(1);
    expect(scanLow.scan.turn_left.fp).toBe(0);
    const totals = eventsTotals([e, scanBare]);
    expect(totals.total.turn_left).toMatchObject({ tp: 0, fn: 1, fp: 1, recall: 0 });
    expect(totals.total.turn_left.falsePerMin).toBeCloseTo(1 / totals.minutes, 2);
    expect(totals.prompted.turn_left).toMatchObject({ answered: 1, prompts: 1, recall: 1 });
    expect(totals.prompted.turn_left.incidentalPassRate).toBe(
      Math.round((totals.prompted.turn_left.incidentalPasses / totals.prompted.turn_left.incidentalPrompts) * 1000) / 1000,
    );
  });
});
