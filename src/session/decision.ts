import type { ChallengeType, SessionPolicy } from './policy.ts';
import { QUALITY_ISSUES } from './quality.ts';

/** DESIGN.md §4. Each result names the check that decided it (`decidedBy`). */
export const DECISIONS = [
  'match', 'no_match', 'spoof', 'liveness_failed', 'no_face', 'quality_failed', 'timeout', 'cancelled', 'error',
] as const;
export type Decision = (typeof DECISIONS)[number];

/**
 * The check that decided: `reference` (photo refused → decision error, reason from REFERENCE_REASONS), `quality_gate`,
 * `challenge:<type>`, `presence` (face left), `continuity` (another person / second face), `antispoof`, `match`,
 * `session` (overall deadline), `customer` (cancel button), `agent` (shutdown, internal error).
 */
export type DecidedBy =
  | 'reference' | 'quality_gate' | `challenge:${ChallengeType}` | 'presence' | 'continuity' | 'antispoof' | 'match'
  | 'session' | 'customer' | 'agent';

/**
 * Why a reference photo was refused. The file: not JPEG/PNG (`unsupported_image`), not the format the request
 * declared (`reference_format_mismatch`), beyond the size bounds (`reference_too_large`), undecodable
 * (`reference_unreadable`). What it shows: `reference_unusable` (no face, two faces, too small, not frontal, blurry;
 * which one goes to the staff progress event, not the signed result).
 */
export const REFERENCE_REASONS = [
  'unsupported_image', 'reference_format_mismatch', 'reference_too_large', 'reference_unreadable', 'reference_unusable',
] as const;
export type ReferenceReason = (typeof REFERENCE_REASONS)[number];

/** How the session shell fails: the camera stopped delivering, or anything else (its text goes to the log only). */
export const AGENT_ERRORS = ['camera_stopped', 'internal_error'] as const;
export type AgentError = (typeof AGENT_ERRORS)[number];

/**
 * Every `reason` a session's result can carry, and so every reason the device signs for a session (request
 * rejections have theirs in src/carrier/protocol.ts REJECT_REASONS). A fixed vocabulary: never free text or an
 * exception's message, which go to the log.
 */
export const SESSION_REASONS = [
  ...REFERENCE_REASONS, ...QUALITY_ISSUES, 'second_face', 'different_person', 'insufficient_frames',
  'busy', 'rate_limited', 'invalid_policy', ...AGENT_ERRORS,
] as const;
export type SessionReason = (typeof SESSION_REASONS)[number];

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
  /** machine-readable detail from SESSION_REASONS, e.g. reference_unusable, second_face, too_dark */
  reason?: SessionReason;
  scores: SessionScores;
  thresholds: { match: number; antispoof: number; continuity: number; light: number };
  challenges: ChallengeOutcome[];
  /** ms spent in each state, and in total (session clock) */
  timings: { reference?: number; quality?: number; challenges?: number; match?: number; total: number };
  startedAtMs: number;
  finishedAtMs: number;
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
export function decideFinal(e: FinalEvidence, p: SessionPolicy): { decision: Decision; decidedBy: DecidedBy; reason?: SessionReason } {
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
