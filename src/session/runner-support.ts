import type { ResultDecision } from '../carrier/protocol.ts';
import type { Pattern, PatternDef } from '../panel/patterns.ts';
import type { SessionReason, SessionResult } from './decision.ts';
import type { PolicyInput } from './policy.ts';
import type { LedPattern } from './prompts.ts';
import type { QualityAssessment } from './quality.ts';
import type { SessionState } from './session-io.ts';
import type { FrameSignals } from './signals.ts';

/** Session prompts outrank the idle/busy patterns (5) and lose to the verdict (20) — src/panel/patterns.ts. */
export const PROMPT_PRIORITY = 10;

/**
 * The deployment base policy for the face engine (src/session/README.md "Deployment base"): the manifest's
 * calibrated match threshold (fused z-units, the scale of `engine.compare().similarity`), continuity 3.0 on the same
 * scale (measured, test/hil/session/measure-continuity.ts) and the anti-spoof threshold for the session aggregate.
 */
export function deploymentPolicyBase(engine: { fusion: { threshold: number }; antispoofThreshold: number | undefined }): PolicyInput {
  return {
    match: { threshold: engine.fusion.threshold, continuityThreshold: 3.0 },
    ...(engine.antispoofThreshold === undefined ? {} : { antispoof: { threshold: engine.antispoofThreshold } }),
  };
}

/** A session prompt as a panel pattern, keeping only LEDs this panel has (an absent illuminator degrades, not fails). */
export function panelPattern(p: LedPattern, names: readonly string[]): PatternDef {
  const keep = (on: readonly string[]): string[] => on.filter((n) => names.includes(n));
  let pattern: Pattern;
  if (p.kind === 'sequence') pattern = { kind: 'sequence', steps: p.steps.map((s) => ({ on: keep(s.on), ms: s.ms })) };
  else if (p.kind === 'blink') pattern = { kind: 'blink', on: keep(p.on), hz: p.hz };
  else pattern = { kind: 'steady', on: keep(p.on) };
  return { priority: PROMPT_PRIORITY, pattern };
}

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

/**
 * Which frames get an embedding (the embedders are the most expensive models; most frames need none):
 * - quality and match: frames that pass the quality gate (they anchor continuity and compete for the best-K match),
 *   at most one per `intervalMs` in quality, every such frame in match (it needs topK of them quickly);
 * - challenges: one frame per `intervalMs` whatever its pose, so continuity covers turned faces too — a swap of
 *   person mid-challenge is caught within about that interval.
 */
export class EmbedSelector {
  private lastMs = -Infinity;

  constructor(private readonly intervalMs = 400) {}

  /** `quality`: the frame's assessment under the session's policy (`assessQuality`) */
  want(state: SessionState, f: FrameSignals, quality: QualityAssessment): boolean {
    if (!f.face || f.faceCount === 0) return false;
    const due = f.tsMs - this.lastMs >= this.intervalMs;
    let yes = false;
    if (state === 'challenges') yes = due;
    else if (state === 'match') yes = quality.ok;
    else if (state === 'quality') yes = due && quality.ok;
    if (yes) this.lastMs = f.tsMs;
    return yes;
  }
}
