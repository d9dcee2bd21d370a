import { describe, expect, it } from 'vitest';
import { resultDecisionSchema } from '../../../src/carrier/protocol.ts';
import { toResultDecision } from '../../../src/session/result-decision.ts';

describe('toResultDecision', () => {
  it('session results become carrier decisions with integer ms and ISO times', () => {
    const d = toResultDecision({
      sessionId: 's', nonce: 'n', decision: 'match', decidedBy: 'match', scores: { antispoofFrames: 9, match: 3.1 },
      thresholds: { match: 2.6, antispoof: 0.3, continuity: 3, light: 0.6 },
      challenges: [{ type: 'blink', passed: true, ms: 812.7 }], timings: { quality: 500.4, total: 4200.6 },
      startedAtMs: 1000.5, finishedAtMs: 5201.1,
    }, Date.UTC(2026, 0, 1));
    expect(resultDecisionSchema.parse(d)).toEqual(d);
    expect(d.challenges[0].ms).toBe(813);
    expect(d.finishedAt).toBe('2026-01-01T00:00:04.200Z');
  });
});
