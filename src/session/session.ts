import { wipeTemplate, type FaceTemplate } from '../vision/matcher.ts';
import { frontalYaw, promptBaselineYaw, type YawReading } from './detectors/turn.ts';
import { ActiveChallenge, planChallenges, type ChallengePlan, type ChallengeStatus } from './challenges.ts';
import {
  decideFinal, finiteScores, thresholdsOf, type ChallengeOutcome, type Decision, type DecidedBy, type ReferenceReason, type SessionReason,
  type SessionResult, type SessionScores,
} from './decision.ts';
import { AntispoofAggregator, BestFrames, ContinuityTracker } from './evidence.ts';
import { meanCosine, type Similarity } from './similarity.ts';
import { ISSUE_PROMPT, promptPattern, type PromptId } from './prompts.ts';
import type { QualityAssessment, QualityIssue } from './quality.ts';
import type { SessionInput, SessionOptions, SessionOutput, SessionState } from './session-types.ts';
import type { FrameSignals } from './signals.ts';

export type { SessionInput, SessionOptions, SessionOutput, SessionState } from './session-types.ts';

/**
 * The registration session: idle → reference → quality → challenges → match → decided (README state diagram).
 * A pure core: `handle(input)` → outputs, no I/O, time only from the injected clock and frame timestamps. The shell
 * feeds frames, button presses and periodic ticks, shows prompts on the LEDs and publishes progress.
 *
 * INVARIANTS:
 * - Exactly one `decided` output per session; after it every input is ignored.
 * - Cancel (button or agent) and errors are honoured in every state; the session deadline too.
 * - On the way to `decided` the reference template, every held embedding and the continuity anchor are zeroed.
 * - Frames passed to `handle` are not retained, except their embeddings, which the session owns from then on
 *   (kept ones are zeroed at the end, others at once).
 */
export class RegistrationSession {
  private st: SessionState = 'idle';
  private startedAt = 0;
  private stateAt = 0;
  private readonly timings: SessionResult['timings'] = { total: 0 };
  private template: FaceTemplate | undefined;
  private plan: ChallengePlan | undefined;
  private next = 0;
  private active: ActiveChallenge | undefined;
  private pauseUntil = 0;
  private readonly outcomes: ChallengeOutcome[] = [];
  private readonly scores: SessionScores = { antispoofFrames: 0 };
  private readonly antispoof: AntispoofAggregator;
  private readonly best: BestFrames;
  private readonly continuity: ContinuityTracker;
  private readonly similarity: Similarity;
  private okSince: number | undefined;
  /** yaw of every frame in the quality gate's current good run; its median is the subject's frontal yaw */
  private readonly holdYaws: number[] = [];
  private frontalYawDeg = 0;
  /** yaw of the frames of the last `turn.prompted.baselineMs`: a turn challenge is measured from the face before its prompt */
  private readonly recentYaws: YawReading[] = [];
  private sawFace = false;
  private lastIssue: QualityIssue = 'no_face';
  private lastFaceAt = 0;
  private multiSince: number | undefined;
  private prompt: PromptId | undefined;
  private assist = false;
  private lastFrameTs: number | undefined;
  private out: SessionOutput[] = [];
  private res: SessionResult | undefined;

  constructor(private readonly o: SessionOptions) {
    this.antispoof = new AntispoofAggregator(o.policy.antispoof);
    this.best = new BestFrames(o.policy.match.topK);
    this.similarity = o.similarity ?? meanCosine;
    this.continuity = new ContinuityTracker(this.similarity);
  }

  get state(): SessionState {
    return this.st;
  }

  get result(): SessionResult | undefined {
    return this.res;
  }

  /**
   * The frames need the full-range yaw (the shell then has the face track run fr_pose on every frame:
   * vision/face-track.ts, docs/pose.md): while a turn challenge is open, its detector reads every frame's yaw; and
   * before a turn's prompt, since the turn is measured from the median yaw of the frames just before it and from the
   * gate's frontal. The landmark yaw of the other frames is compressed and lags a moving head.
   */
  get turnYawNeeded(): boolean {
    if (this.st !== 'quality' && this.st !== 'challenges') return false;
    const type = this.active?.type ?? this.plan?.challenges[this.next]?.type;
    return type === 'turn_left' || type === 'turn_right';
  }

  handle(input: SessionInput): SessionOutput[] {
    this.out = [];
    if (this.st === 'decided') return this.discard(input);
    const now = this.o.clock.now();
    if (input.type === 'start') this.start(now);
    else if (this.st === 'idle') return this.discard(input);
    else if (input.type === 'cancel') this.decide('cancelled', 'agent');
    else if (input.type === 'error') this.decide('error', 'agent', input.reason);
    else if (input.type === 'button' && input.button === 'cancel') this.decide('cancelled', 'customer');
    else if (input.type === 'button') this.requestAssist(now);
    else if (now - this.startedAt >= this.o.policy.sessionTimeoutMs) {
      this.decide('timeout', 'session');
      this.discard(input);
    }
    else if (input.type === 'reference') this.onReference(input.template);
    else if (input.type === 'reference_unusable') this.onReferenceUnusable(input.reason, input.detail);
    else if (input.type === 'frame') this.onFrame(input.frame, input.quality, now);
    else this.onTime(now);
    return this.out;
  }

  /** An input the session will not use: wipe any template it carries (the session owns it once handed over). */
  private discard(input: SessionInput): SessionOutput[] {
    if (input.type === 'reference') wipeTemplate(input.template);
    if (input.type === 'frame' && input.frame.face?.embedding) wipeTemplate(input.frame.face.embedding);
    return this.out;
  }

  private start(now: number): void {
    if (this.st !== 'idle') return;
    this.startedAt = now;
    this.plan = planChallenges(this.o.policy, this.o.random);
    this.enter('reference', now);
    this.show('please_wait', now);
  }

  private onReference(template: FaceTemplate): void {
    if (this.st !== 'reference') {
      wipeTemplate(template);
      return;
    }
    this.template = template;
    const now = this.o.clock.now();
    this.enter('quality', now);
    this.show('look_at_camera', now);
  }

  private onReferenceUnusable(reason: ReferenceReason, detail: string): void {
    if (this.st !== 'reference') return;
    this.emitProgress('reference_unusable', { detail });
    this.decide('error', 'reference', reason);
  }

  private onFrame(f: FrameSignals, q: QualityAssessment, now: number): void {
    const embedding = f.face?.embedding;
    const owned = this.observe(f, q, now);
    if (embedding && !owned) wipeTemplate(embedding);
    if (this.st === 'decided') return;
    this.keepYaw(f);
    if (this.st === 'quality') this.qualityStep(f, q, now);
    else if (this.st === 'challenges') this.challengeStep(this.active?.frame(f), now);
    this.onTime(now);
  }

  /** Evidence common to every state after the reference: presence, continuity, anti-spoof, best frames. */
  private observe(f: FrameSignals, q: QualityAssessment, now: number): boolean {
    if (this.st === 'reference') return false;
    if (f.faceCount > 0) {
      this.sawFace = true;
      this.lastFaceAt = now;
    }
    this.multiSince = f.faceCount > 1 ? (this.multiSince ?? now) : undefined;
    const live = this.st === 'challenges' || this.st === 'match';
    if (live && this.multiSince !== undefined && now - this.multiSince >= this.o.policy.presence.multiFaceMs) {
      this.decide('liveness_failed', 'continuity', 'second_face');
      return false;
    }
    // only frames that carry their own score: a frame the vision side did not score adds nothing (never a copy)
    if (q.ok && f.face?.antispoof !== undefined) this.antispoof.add(f.face.antispoof);
    const emb = f.face?.embedding;
    // Continuity is anchored on a good frame; after that every embedded frame (turned ones too) is checked.
    if (emb === undefined || (!q.ok && !this.continuity.anchored)) return false;
    const sim = this.continuity.check(emb);
    if (sim !== undefined && sim < this.o.policy.match.continuityThreshold) {
      this.decide('liveness_failed', 'continuity', 'different_person');
      return false;
    }
    if (!q.ok) return false;
    this.best.offer(f.tsMs, q.score, emb);
    return true;
  }

  private qualityStep(f: FrameSignals, q: QualityAssessment, now: number): void {
    const gap = this.lastFrameTs !== undefined && f.tsMs - this.lastFrameTs > this.o.policy.quality.maxGapMs;
    this.lastFrameTs = f.tsMs;
    if (gap) this.restartHold();
    if (!q.ok) {
      this.restartHold();
      this.lastIssue = q.issues[0];
      this.show(ISSUE_PROMPT[q.issues[0]], now);
      return;
    }
    this.okSince ??= f.tsMs;
    if (f.face) this.holdYaws.push(f.face.yawDeg);
    this.show('look_at_camera', now);
    if (f.tsMs - this.okSince >= this.o.policy.quality.holdMs) {
      // Turns are measured from the yaw this customer reads while facing the camera (detectors/turn.ts).
      this.frontalYawDeg = frontalYaw(this.holdYaws, this.o.policy.turn.maxFrontalBiasDeg);
      this.enter('challenges', now);
      this.pauseUntil = now + (this.plan?.challenges[0]?.pauseMs ?? 0);
    }
  }

  private keepYaw(f: FrameSignals): void {
    const keepFrom = f.tsMs - this.o.policy.turn.prompted.baselineMs;
    while (this.recentYaws.length > 0 && this.recentYaws[0].tsMs < keepFrom) this.recentYaws.shift();
    if (f.faceCount > 0 && f.face) this.recentYaws.push({ tsMs: f.tsMs, yawDeg: f.face.yawDeg });
  }

  private restartHold(): void {
    this.okSince = undefined;
    this.holdYaws.length = 0;
  }

  private challengeStep(status: ChallengeStatus | undefined, now: number): void {
    const a = this.active;
    if (a === undefined || status === undefined || status.status === 'pending') return;
    if (status.light) {
      this.scores.light = status.light.correlation;
      this.scores.lightLagMs = status.light.lagMs;
    }
    const passed = status.status === 'passed';
    this.outcomes.push({ type: a.type, passed, ms: now - a.promptMs });
    this.emitProgress(passed ? 'challenge_passed' : 'challenge_failed', { challenge: a.type, ...answerTiming(status) });
    this.active = undefined;
    if (!passed) {
      this.decide('liveness_failed', `challenge:${a.type}`);
      return;
    }
    this.next++;
    const upcoming = this.plan?.challenges[this.next];
    if (upcoming === undefined) {
      this.enter('match', now);
      this.show('look_at_camera', now);
    } else {
      this.pauseUntil = now + upcoming.pauseMs;
      this.show('look_at_camera', now);
    }
  }

  private matchStep(now: number): void {
    const spoof = this.antispoof.summary();
    const enough = spoof.enough && this.best.size >= this.o.policy.match.topK;
    if (!enough && now - this.stateAt < this.o.policy.match.timeoutMs) return;
    this.scores.antispoof = spoof.score;
    this.scores.antispoofFrames = spoof.frames;
    const similarity = this.template ? this.best.similarityTo(this.template, this.similarity) : undefined;
    if (spoof.live) this.scores.match = similarity;
    const d = decideFinal({ antispoof: spoof, similarity }, this.o.policy);
    this.decide(d.decision, d.decidedBy, d.reason);
  }

  /** Deadlines and scheduled steps that depend on time alone (called on frames and on ticks). */
  private onTime(now: number): void {
    if (this.st === 'decided') return;
    const p = this.o.policy;
    if (now - this.startedAt >= p.sessionTimeoutMs) return this.decide('timeout', 'session');
    if (this.st === 'quality' && now - this.stateAt >= p.quality.timeoutMs) {
      return this.sawFace ? this.decide('quality_failed', 'quality_gate', this.lastIssue) : this.decide('no_face', 'quality_gate');
    }
    const live = this.st === 'challenges' || this.st === 'match';
    if (live && now - this.lastFaceAt >= p.presence.faceLostMs) return this.decide('no_face', 'presence');
    if (this.st === 'challenges') {
      if (this.active) this.challengeStep(this.active.tick(now), now);
      else if (now >= this.pauseUntil) this.startChallenge(now);
    }
    if (this.st === 'match') this.matchStep(now);
  }

  private startChallenge(now: number): void {
    const planned = this.plan?.challenges[this.next];
    if (planned === undefined || this.plan === undefined) return;
    const baseline = promptBaselineYaw(this.recentYaws, now, this.o.policy.turn, this.frontalYawDeg);
    this.active = ActiveChallenge.start(planned.type, now, this.o.policy, this.o.nonce, this.plan.lightSalt, baseline);
    const prompt: PromptId = planned.type === 'light' ? 'watch_light' : planned.type;
    this.show(prompt, now);
    this.emitProgress('challenge_started', { challenge: planned.type, index: this.next });
  }

  private enter(state: SessionState, now: number): void {
    const prev = this.st;
    if (prev === 'reference' || prev === 'quality' || prev === 'challenges' || prev === 'match') {
      this.timings[prev] = now - this.stateAt;
    }
    this.st = state;
    this.stateAt = now;
    this.emitProgress('state', { from: prev });
  }

  private show(prompt: PromptId, now: number, force = false): void {
    if (prompt === this.prompt && !force) return;
    this.prompt = prompt;
    const light = prompt === 'watch_light' ? this.active?.light : undefined;
    const pattern = promptPattern(prompt, light, this.active?.promptMs);
    this.out.push({ type: 'prompt', prompt, pattern, assist: this.assist, atMs: now, ...(light ? { light } : {}) });
  }

  /** Staff assist: the session goes on (staff may cancel it); the current prompt is re-sent with `assist: true`. */
  private requestAssist(now: number): void {
    this.emitProgress('assist_requested');
    if (this.assist) return;
    this.assist = true;
    if (this.prompt) this.show(this.prompt, now, true);
  }

  private emitProgress(event: string, detail?: Record<string, string | number | boolean>): void {
    this.out.push({ type: 'progress', state: this.st, event, atMs: this.o.clock.now(), ...(detail ? { detail } : {}) });
  }

  private decide(decision: Decision, decidedBy: DecidedBy, reason?: SessionReason): void {
    if (this.st === 'decided') return;
    const now = this.o.clock.now();
    if (this.active) this.outcomes.push({ type: this.active.type, passed: false, ms: now - this.active.promptMs });
    this.active = undefined;
    const spoof = this.antispoof.summary();
    if (this.scores.antispoof === undefined && spoof.frames > 0) this.scores.antispoof = spoof.score;
    this.scores.antispoofFrames = spoof.frames;
    const continuity = this.continuity.minSimilarity;
    if (continuity !== undefined) this.scores.continuity = continuity;
    this.enter('decided', now);
    this.timings.total = now - this.startedAt;
    if (this.template) wipeTemplate(this.template);
    this.template = undefined;
    this.best.clear();
    this.continuity.clear();
    this.res = {
      sessionId: this.o.sessionId, nonce: this.o.nonce, decision, decidedBy, ...(reason ? { reason } : {}),
      scores: finiteScores(this.scores), thresholds: thresholdsOf(this.o.policy), challenges: this.outcomes,
      timings: this.timings, startedAtMs: this.startedAt, finishedAtMs: now,
    };
    this.out.push({ type: 'decided', result: this.res });
  }
}

/** A motion challenge's answer timing for its progress event, whole ms after the prompt (challenges.ts ChallengeStatus). */
function answerTiming(status: ChallengeStatus): Record<string, number> {
  if (status.status === 'passed' && status.answerStartMs !== undefined) return { answerStartMs: Math.round(status.answerStartMs) };
  if (status.status === 'failed' && status.outsideWindowStartMs !== undefined) return { outsideWindowStartMs: Math.round(status.outsideWindowStartMs) };
  return {};
}
