import type { ResultDecision } from '../carrier/protocol.ts';
import type { SessionReason, SessionResult } from './decision.ts';

/** The session's result in the carrier's `resultDecisionSchema` shape; times as ISO from the wall clock at start. */
export function toResultDecision(r: SessionResult, wallStartMs: number): ResultDecision {
  const timings = Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.max(0, Math.round(v))]));
  return {
    sessionId: r.sessionId,
    nonce: r.nonce,
    decision: r.decision,
    decidedBy: r.decidedBy,
    ...(r.reason ? { reason: r.reason } : {}),
    scores: { ...r.scores },
    thresholds: { ...r.thresholds },
    challenges: r.challenges.map((c) => ({ type: c.type, passed: c.passed, ms: Math.max(0, Math.round(c.ms)) })),
    timings,
    startedAt: new Date(wallStartMs).toISOString(),
    finishedAt: new Date(wallStartMs + Math.max(0, r.finishedAtMs - r.startedAtMs)).toISOString(),
  };
}

/** A decision made before a session core exists (rate limited, bad policy, internal failure). */
export function shellDecision(
  request: { sessionId: string; nonce: string }, decision: ResultDecision['decision'], decidedBy: string, reason: SessionReason,
  wallMs: number, extra: Partial<Pick<ResultDecision, 'timings'>> = {},
): ResultDecision {
  const at = new Date(wallMs).toISOString();
  return {
    sessionId: request.sessionId, nonce: request.nonce, decision, decidedBy, reason, scores: {}, thresholds: {},
    challenges: [], ...extra, startedAt: at, finishedAt: at,
  };
}
