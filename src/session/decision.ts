import type { ChallengeType, SessionPolicy } from './policy.ts';

/** DESIGN.md §4. Each result names the check that decided it (`decidedBy`). */
export const DECISIONS = [
  'match', 'no_match', 'spoof', 'liveness_failed', 'no_face', 'quality_failed', 'timeout', 'cancelled', 'error',
] as const;
export type Decision = (typeof DECISIONS)[number];

/**
 * The check that decided: `reference` (photo unusable → decision error, reason reference_unusable), `quality_gate`,
 * `challenge:<type>`, `presence` (face left), `continuity` (another person / second face), `antispoof`, `match`,
 * `session` (overall deadline), `customer` (cancel button), `agent` (shutdown, internal error).
 */
export type DecidedBy =
  | 'reference' | 'quality_gate' | `challenge:${ChallengeType}` | 'presence' | 'continuity' | 'antispoof' | 'match'
  | 'session' | 'customer' | 'agent';

export interface ChallengeOutcome {
  type: ChallengeType;
  passed: boolean;
  /** prompt shown → passed/failed */
  ms: number;
}

export interface SessionScores {
  match?: number;
  antispoof?: number;
  antispoofFrames: number;
  /** lowest embedding similarity to the session's anchor frame */
  continuity?: number;
  light?: number;
  lightLagMs?: number;
}

export interface SessionResult {
  sessionId: string;
  /** the request's nonce, echoed into the signed result */
  nonce: string;
  decision: Decision;
  decidedBy: DecidedBy;
  /** machine-readable detail (`[a-z0-9_:.-]{1,64}`), e.g. reference_unusable, second_face, too_dark */
  reason?: string;
  scores: SessionScores;
  thresholds: { match: number; antispoof: number; continuity: number; light: number };
  challenges: ChallengeOutcome[];
  /** ms spent in each state, and in total (session clock) */
  timings: { reference?: number; quality?: number; challenges?: number; match?: number; total: number };
  startedAtMs: number;
  finishedAtMs: number;
}

/** A free-text message as a result `reason`: lower case, `[a-z0-9_:.-]`, at most 64 characters. */
export function toReason(text: string): string {
  const slug = text.toLowerCase().replace(/[^a-z0-9_:.-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 64);
  return slug || 'unspecified';
}

/** Scores with only finite numbers (absent checks are left out, never undefined or NaN). */
export function finiteScores(s: SessionScores): SessionScores {
  return Object.fromEntries(Object.entries(s).filter(([, v]) => typeof v === 'number' && Number.isFinite(v))) as SessionScores;
}

export function thresholdsOf(p: SessionPolicy): SessionResult['thresholds'] {
  return {
    match: p.match.threshold,
    antispoof: p.antispoof.threshold,
    continuity: p.match.continuityThreshold,
    light: p.light.minCorrelation,
  };
}

export interface FinalEvidence {
  antispoof: { score: number; enough: boolean; live: boolean };
  /** cosine(probe, reference template), undefined when no embedded good frame exists */
  similarity: number | undefined;
}

/**
 * The decision after the challenges passed. Order matters: not enough evidence → quality_failed; a spoof is reported
 * as spoof even if the face would match (a match score for a spoof means nothing); then the match threshold.
 * Continuity and presence were enforced frame by frame before we got here.
 */
export function decideFinal(e: FinalEvidence, p: SessionPolicy): { decision: Decision; decidedBy: DecidedBy; reason?: string } {
  if (!e.antispoof.enough) return { decision: 'quality_failed', decidedBy: 'antispoof', reason: 'insufficient_frames' };
  if (!e.antispoof.live) return { decision: 'spoof', decidedBy: 'antispoof' };
  if (e.similarity === undefined) return { decision: 'quality_failed', decidedBy: 'match', reason: 'insufficient_frames' };
  if (e.similarity < p.match.threshold) return { decision: 'no_match', decidedBy: 'match' };
  return { decision: 'match', decidedBy: 'match' };
}

/**
 * Which outcomes count against the terminal's failed-attempt limit: everything a presentation attack can produce,
 * including cancel (an attacker aborting a failing attempt). Not: match, an agent error, an unusable reference
 * photo (the carrier's input, not the customer's attempt).
 */
export function countsAsFailure(r: Pick<SessionResult, 'decision' | 'decidedBy'>): boolean {
  if (r.decision === 'match') return false;
  if (r.decision === 'error') return false;
  if (r.decision === 'cancelled' && r.decidedBy === 'agent') return false;
  return true;
}
