import { ActiveChallenge } from './challenges.ts';
import type { TruthEvent } from './detectors/event-score.ts';
import type { ClipEventType } from './detectors/events-only.ts';
import { promptBaselineYaw, type YawReading } from './detectors/turn.ts';
import type { SessionPolicy } from './policy.ts';
import { randomInt, seededRandom } from './random.ts';
import type { FrameSignals } from './signals.ts';

/**
 * Prompted mode of `regterm eval events`: a recorded clip met the way a session meets a challenge. A prompt of a type
 * is placed at a time in the clip, the session's own `ActiveChallenge` (its detector, rule, reaction-time floor and
 * deadline) is fed the clip's frames from the prompt on, with the turn baseline the session would take from the
 * frames before the prompt, and the challenge passes or fails.
 *
 * REACTION TIME (PROMPT_LEAD_MS): the prompt for an annotated event is placed this long before its annotated start.
 * A prompted motion starts ~0.4-0.7 s after the prompt appears (a choice reaction: read the prompt, pick the
 * direction, move); the annotated start is later than the motion's true onset (a turn is annotated from the frame
 * it leaves the near-frontal band), so 0.6 s is a cooperative customer's lead, not a generous one. A prompt
 * placed earlier only gives the challenge more of the clip before the event, never less of it.
 * An event that starts before the clip's first frame plus `challenges.minReactionMs` cannot follow any prompt
 * (the clip opens during it): it is counted as unpromptable, not as a miss.
 */
export const PROMPT_LEAD_MS = 600;
/** An incidental prompt needs at least this much clip after it (a cooperative answer takes 1-2 s). */
export const INCIDENTAL_MIN_WINDOW_MS = 3000;
/** incidental prompt candidates per type per second of clip */
const INCIDENTAL_PER_S = 2;

export interface Prompt {
  type: ClipEventType;
  /** ms from the clip's first frame */
  promptMs: number;
}

export interface PromptOutcome extends Prompt {
  passed: boolean;
  /** prompt → the frame that passed it */
  answerMs?: number;
  /** turns: the yaw the challenge measured from (image convention) */
  baselineYawDeg?: number;
}

const clean = (t: TruthEvent): boolean => t.confidence !== 'low';
const isType = (event: string): event is ClipEventType => event === 'blink' || event === 'turn_left' || event === 'turn_right';

/** One prompt per high/medium annotated event, PROMPT_LEAD_MS before its start; events that open the clip apart. */
export function promptsForEvents(
  truth: readonly TruthEvent[], policy: Pick<SessionPolicy, 'challenges'>,
): { prompts: Prompt[]; unpromptable: Prompt[] } {
  const prompts: Prompt[] = [];
  const unpromptable: Prompt[] = [];
  for (const t of truth) {
    if (!isType(t.event) || !clean(t)) continue;
    const startMs = Math.round(t.startS * 1000);
    if (startMs < policy.challenges.minReactionMs) unpromptable.push({ type: t.event, promptMs: 0 });
    else prompts.push({ type: t.event, promptMs: Math.max(0, startMs - PROMPT_LEAD_MS) });
  }
  return { prompts, unpromptable };
}

/**
 * Prompts of `type` at random times (seeded: same clip and seed, same prompts) where nothing that could answer them is
 * annotated: no event of that family (blink; turn of either direction), of any confidence, inside the baseline window
 * before the prompt or the challenge's window after it. Each keeps its baseline window and at least
 * INCIDENTAL_MIN_WINDOW_MS of clip after it; the clip's end may cut its deadline short.
 */
export function incidentalPrompts(
  truth: readonly TruthEvent[], type: ClipEventType, clipMs: number, policy: Pick<SessionPolicy, 'challenges' | 'turn'>, seed: string,
): Prompt[] {
  const family = (e: string): boolean => (type === 'blink' ? e === 'blink' : e === 'turn_left' || e === 'turn_right');
  const first = policy.turn.prompted.baselineMs;
  const last = clipMs - INCIDENTAL_MIN_WINDOW_MS;
  if (last <= first) return [];
  const random = seededRandom(`${seed}:${type}`);
  const out: Prompt[] = [];
  for (let k = 0; k < Math.floor((clipMs / 1000) * INCIDENTAL_PER_S); k++) {
    const promptMs = first + randomInt(random, last - first + 1);
    const from = (promptMs - first) / 1000;
    const to = (promptMs + policy.challenges.timeoutMs) / 1000;
    if (!truth.some((t) => family(t.event) && t.startS < to && t.endS > from)) out.push({ type, promptMs });
  }
  return out.sort((a, b) => a.promptMs - b.promptMs);
}

/** replay prompts per type per second of clip */
const REPLAY_PER_S = 10;

/**
 * A replayed recording's chance: prompts of `type` every 100 ms over one pass of the clip (from the baseline window
 * on), annotations ignored, since a recording does not know where its own blinks and turns are. Run them on
 * `loopedTwice(frames)`, as an attacker's player loops the clip, so every prompt has its full timeout after it.
 */
export function replayPrompts(type: ClipEventType, clipMs: number, policy: Pick<SessionPolicy, 'turn'>): Prompt[] {
  const out: Prompt[] = [];
  const first = policy.turn.prompted.baselineMs;
  for (let promptMs = first; promptMs < clipMs + first; promptMs += 1000 / REPLAY_PER_S) out.push({ type, promptMs });
  return out;
}

/** The clip played twice in a row, the second pass's times continuing one frame after the first pass's last. */
export function loopedTwice(frames: readonly FrameSignals[]): { frames: FrameSignals[]; clipMs: number } {
  return looped(frames, 2);
}

/** The clip played `passes` times in a row, each pass's times continuing one frame after the previous pass's last. */
export function looped(frames: readonly FrameSignals[], passes: number): { frames: FrameSignals[]; clipMs: number } {
  if (frames.length < 2) return { frames: [...frames], clipMs: 0 };
  const clipMs = frames[frames.length - 1].tsMs - frames[0].tsMs + (frames[1].tsMs - frames[0].tsMs);
  return { frames: Array.from({ length: passes }, (_, k) => frames.map((f) => ({ ...f, tsMs: f.tsMs + k * clipMs }))).flat(), clipMs };
}

/**
 * Run one prompt through the session's challenge logic on a clip's frames (`t0Ms`: the first frame's time).
 * `gateFrontalYawDeg` stands for the quality gate's frontal (a clip's frontal, `clipFrontalYaw`): the session's
 * fallback when the frames before the prompt give no baseline. A clip that ends before the deadline fails the prompt.
 */
export function runPrompt(
  frames: readonly FrameSignals[], t0Ms: number, prompt: Prompt, policy: SessionPolicy, gateFrontalYawDeg: number,
): PromptOutcome {
  const at = t0Ms + prompt.promptMs;
  const turn = prompt.type !== 'blink';
  const baseline = turn ? promptBaselineYaw(yawsBefore(frames, at), at, policy.turn, gateFrontalYawDeg) : 0;
  const challenge = ActiveChallenge.start(prompt.type, at, policy, 'eval', new Uint8Array(16), baseline);
  const result = (passed: boolean, answerMs?: number): PromptOutcome => ({
    ...prompt, passed, ...(answerMs === undefined ? {} : { answerMs }), ...(turn ? { baselineYawDeg: baseline } : {}),
  });
  for (const f of frames) {
    if (f.tsMs < at) continue;
    const s = challenge.frame(f);
    if (s.status === 'passed') return result(true, f.tsMs - at);
    if (s.status === 'failed') return result(false);
  }
  return result(false);
}

/** The yaw readings of the frames with a face before `atMs`: what a session has seen when it prompts. */
function yawsBefore(frames: readonly FrameSignals[], atMs: number): YawReading[] {
  return frames.filter((f) => f.tsMs < atMs && f.faceCount > 0 && f.face).map((f) => ({ tsMs: f.tsMs, yawDeg: f.face?.yawDeg ?? 0 }));
}
