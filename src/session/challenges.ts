import { BlinkDetector } from './detectors/blink.ts';
import { TurnDetector } from './detectors/turn.ts';
import { evaluateLight, lightChips, scheduleEndMs, type LightResult, type LightSchedule, type LumaSample } from './light.ts';
import type { ChallengeType, SessionPolicy } from './policy.ts';
import { randomBetween, shuffle, type RandomSource } from './random.ts';
import type { FrameSignals } from './signals.ts';

export interface PlannedChallenge {
  type: ChallengeType;
  /** pause before the prompt, drawn from the CSPRNG */
  pauseMs: number;
}

export interface ChallengePlan {
  challenges: PlannedChallenge[];
  /** per-session salt mixed into the light sequence (light.ts) */
  lightSalt: Uint8Array;
}

/**
 * Draw the session's challenges: every `required` type, then distinct types from the rest of `set` up to `count`,
 * in CSPRNG order, each with a CSPRNG pause. Same random source (seed) → same plan. `ordered`: the set as given.
 */
export function planChallenges(p: SessionPolicy, random: RandomSource): ChallengePlan {
  if (p.challenges.ordered) {
    const challenges = p.challenges.set.map((type) => ({
      type, pauseMs: randomBetween(random, p.challenges.pauseMinMs, p.challenges.pauseMaxMs),
    }));
    return { challenges, lightSalt: random.bytes(16) };
  }
  const required = [...new Set(p.challenges.required)];
  const optional = shuffle(random, [...new Set(p.challenges.set)].filter((t) => !required.includes(t)));
  const chosen = [...required, ...optional].slice(0, Math.max(p.challenges.count, required.length));
  const challenges = shuffle(random, chosen).map((type) => ({
    type,
    pauseMs: randomBetween(random, p.challenges.pauseMinMs, p.challenges.pauseMaxMs),
  }));
  return { challenges, lightSalt: random.bytes(16) };
}

/**
 * A motion challenge's timing, in ms after its prompt, for a field trial of the reaction windows: when the answer
 * started, or, for a failed challenge, when the first motion of the asked kind started outside the window (sooner
 * than minReactionMs, or after the start window).
 */
export type ChallengeStatus =
  | { status: 'pending' }
  | { status: 'passed'; light?: LightResult; answerStartMs?: number }
  | { status: 'failed'; light?: LightResult; outsideWindowStartMs?: number };

/**
 * One running challenge, fed frames and clock ticks. Motion challenges only accept evidence that STARTED at least
 * minReactionMs after the prompt (a blink or turn already under way does not count) and no later than a reaction
 * window after it (`blink.startWithinMs`, `turn.prompted.startWithinMs`: a recording blinks and moves at any time, a
 * customer answers within a reaction time); turns must start from a frontal pose, run on the prompted rule
 * (`policy.turn.prompted`) and are measured from `baselineYawDeg`, the yaw the customer held just before the prompt
 * (`promptBaselineYaw`; 0 = absolute yaw).
 * The light challenge records face luminance while its sequence plays and decides once the sequence plus the
 * maximum camera lag is over; it never fails on its own deadline before that.
 */
export class ActiveChallenge {
  readonly deadlineMs: number;
  private readonly blink: BlinkDetector | undefined;
  private readonly turn: TurnDetector | undefined;
  private readonly luma: LumaSample[] = [];
  /** the first blink or asked-direction turn that started outside the reaction window (absolute ms) */
  private outsideWindowMs: number | undefined;

  constructor(
    readonly type: ChallengeType,
    readonly promptMs: number,
    private readonly p: SessionPolicy,
    readonly light: LightSchedule | undefined,
    baselineYawDeg = 0,
  ) {
    this.blink = type === 'blink' ? new BlinkDetector(p.blink) : undefined;
    const rule = { ...p.turn.prompted, maxGapMs: p.turn.maxGapMs };
    this.turn = type === 'turn_left' || type === 'turn_right' ? new TurnDetector(rule, p.mirrored, baselineYawDeg) : undefined;
    this.deadlineMs = light ? scheduleEndMs(light) + p.light.maxLagMs : promptMs + p.challenges.timeoutMs;
  }

  /** Motion that starts before this cannot be a reaction to the prompt. */
  private get earliestMs(): number {
    return this.promptMs + this.p.challenges.minReactionMs;
  }

  static start(
    type: ChallengeType, nowMs: number, p: SessionPolicy, nonce: string, salt: Uint8Array, baselineYawDeg = 0,
  ): ActiveChallenge {
    const light = type === 'light'
      ? { startMs: nowMs + p.light.leadMs, chipMs: p.light.chipMs, chips: lightChips(nonce, salt, p.light.dataBits) }
      : undefined;
    return new ActiveChallenge(type, nowMs, p, light, baselineYawDeg);
  }

  frame(f: FrameSignals): ChallengeStatus {
    const face = f.faceCount > 0 ? f.face : undefined;
    if (this.blink) {
      const b = this.blink.push(f.tsMs, face);
      if (b !== undefined) {
        const answered = this.answerOrNote(b.startMs, this.p.blink.startWithinMs);
        if (answered) return answered;
      }
    }
    if (this.turn) {
      const want = this.type === 'turn_left' ? 'left' : 'right';
      for (const t of this.turn.push(f.tsMs, face)) {
        if (t.type !== 'turn_onset' || t.direction !== want || !t.fromFrontal) continue;
        const answered = this.answerOrNote(t.startMs, this.p.turn.prompted.startWithinMs);
        if (answered) return answered;
      }
    }
    if (this.light && face && f.tsMs >= this.light.startMs) this.luma.push({ tsMs: f.tsMs, luma: face.faceLuma });
    return this.tick(f.tsMs);
  }

  /** A motion of the asked kind that started at `startMs`: the answer if inside the reaction window, else noted. */
  private answerOrNote(startMs: number, startWithinMs: number): ChallengeStatus | undefined {
    if (startMs >= this.earliestMs && startMs <= this.promptMs + startWithinMs) {
      return { status: 'passed', answerStartMs: startMs - this.promptMs };
    }
    this.outsideWindowMs ??= startMs;
    return undefined;
  }

  /** Decide on time alone: the light challenge evaluates at its deadline, the others fail at theirs. */
  tick(nowMs: number): ChallengeStatus {
    if (nowMs < this.deadlineMs) return { status: 'pending' };
    if (!this.light) {
      return this.outsideWindowMs === undefined ? { status: 'failed' } : { status: 'failed', outsideWindowStartMs: this.outsideWindowMs - this.promptMs };
    }
    const light = evaluateLight(this.light, this.luma, this.p.light);
    this.luma.length = 0;
    return light.passed ? { status: 'passed', light } : { status: 'failed', light };
  }
}
