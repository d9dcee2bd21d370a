import { describe, expect, it } from 'vitest';
import { reactionTimes } from '../../../src/session/reaction-times.ts';
import type { SessionTrace, TraceMark } from '../../../src/session/trace.ts';

const trace = (marks: TraceMark[]): SessionTrace => ({ v: 1, thresholds: {}, points: [], marks });
const m = (tS: number, kind: TraceMark['kind'], label: string): TraceMark => ({ tS, kind, label });

describe('reactionTimes over kept traces', () => {
  it('measures each answer from its own prompt and lists the motions outside the window of failed challenges', () => {
    const r = reactionTimes([
      trace([m(1, 'challenge_started', 'blink'), m(1.4, 'answer_started', 'blink'), m(1.7, 'challenge_passed', 'blink'),
        m(3, 'challenge_started', 'turn_left'), m(4.72, 'answer_outside_window', 'turn_left'), m(10, 'challenge_failed', 'turn_left')]),
      trace([m(2, 'challenge_started', 'blink'), m(2.9, 'answer_started', 'blink'), m(3.1, 'challenge_passed', 'blink'),
        m(4, 'challenge_started', 'blink'), m(3.95, 'answer_outside_window', 'blink'), m(11, 'challenge_failed', 'blink')]),
      trace([m(2, 'challenge_started', 'blink'), m(2.6, 'answer_started', 'blink'), m(2.8, 'challenge_passed', 'blink'),
        m(5, 'challenge_started', 'turn_right'), m(12, 'challenge_failed', 'turn_right')]),
    ]);
    expect(r.sessions).toBe(3);
    expect(r.challenges.blink).toEqual({ answered: 3, answerStartMs: { p50: 600, p90: 900, max: 900 }, failed: 1, outsideWindowStartMs: [-50] });
    expect(r.challenges.turn_left).toEqual({ answered: 0, failed: 1, outsideWindowStartMs: [1720] });
    expect(r.challenges.turn_right).toEqual({ answered: 0, failed: 1, outsideWindowStartMs: [] });
  });

  it('counts a challenge passed in a trace from before the answer marks without inventing a start time', () => {
    const r = reactionTimes([trace([m(1, 'challenge_started', 'light'), m(6, 'challenge_passed', 'light')])]);
    expect(r.challenges.light).toEqual({ answered: 1, failed: 0, outsideWindowStartMs: [] });
  });
});
