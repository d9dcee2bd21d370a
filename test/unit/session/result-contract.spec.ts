import { describe, expect, it } from 'vitest';
import { REJECT_REASONS, resultDecisionSchema } from '../../../src/carrier/protocol.ts';
import { SESSION_REASONS, type SessionResult } from '../../../src/session/decision.ts';
import { policySchema, resolvePolicy } from '../../../src/session/policy.ts';
import { runSession } from './customer.ts';

/** What the composition root does: monotonic session times → wall-clock ISO times; the rest passes through. */
function toWire(r: SessionResult, wallAtMonotonic0: number) {
  const { startedAtMs, finishedAtMs, ...rest } = r;
  return {
    ...rest,
    startedAt: new Date(wallAtMonotonic0 + startedAtMs).toISOString(),
    finishedAt: new Date(wallAtMonotonic0 + finishedAtMs).toISOString(),
  };
}

describe('session result fits the carrier protocol (src/carrier/protocol.ts resultDecisionSchema)', () => {
  const outcomes: Array<[string, ReturnType<typeof runSession>]> = [
    ['match', runSession()],
    ['spoof', runSession({ antispoof: 0.2 })],
    ['light failed', runSession({ luma: 'constant' })],
    ['reference unusable', runSession({}, { referenceUnusable: true })],
    ['error from the shell', runSession({}, { at: [{ atMs: 2000, input: { type: 'error', reason: 'camera_stopped' } }] })],
    ['quality failed', runSession({ persistentProblem: { faceLuma: 20 } })],
    ['no face', runSession({ faceCount: () => 0 })],
    ['cancelled', runSession({}, { at: [{ atMs: 500, input: { type: 'button', button: 'cancel' } }] })],
  ];

  it.each(outcomes)('%s', (_name, run) => {
    const r = run.session.result;
    if (r === undefined) throw new Error('session did not decide');
    const parsed = resultDecisionSchema.safeParse(toWire(r, Date.UTC(2026, 0, 1)));
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(r.nonce).toBe('nonce-1');
  });

  it('every reason of the vocabulary fits the wire format', () => {
    for (const reason of [...SESSION_REASONS, ...REJECT_REASONS]) {
      expect(resultDecisionSchema.shape.reason.safeParse(reason).success, reason).toBe(true);
    }
  });

  it('every reason is from the fixed vocabulary', () => {
    const reasons = outcomes.map(([, run]) => run.session.result?.reason).filter((r) => r !== undefined);
    expect(reasons).toEqual(expect.arrayContaining(['reference_unusable', 'camera_stopped']));
    for (const r of reasons) expect(SESSION_REASONS).toContain(r);
  });
});

describe('policy as the carrier request validator uses it', () => {
  it('rejects unknown keys at any level and accepts a partial policy', () => {
    expect(policySchema.safeParse({ match: { threshold: 2.6 } }).success).toBe(true);
    expect(policySchema.safeParse({ matchThreshold: 0.5 }).success).toBe(false);
    expect(policySchema.safeParse({ blink: { closeBelow: 0.2 } }).success).toBe(false);
  });

  it('layers schema defaults < deployment base (manifest thresholds) < carrier request', () => {
    const base = { match: { threshold: 2.5987, continuityThreshold: 1.5 }, antispoof: { threshold: 0.3134 } };
    const p = resolvePolicy({ match: { threshold: 3 } }, base);
    expect(p.match).toMatchObject({ threshold: 3, continuityThreshold: 1.5, topK: 3 });
    expect(p.antispoof.threshold).toBe(0.3134);
    expect(p.blink.openAbove).toBe(0.6);
  });
});
