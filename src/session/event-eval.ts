import { antispoofWindows } from './antispoof-windows.ts';
import { scoreEvents, type TruthEvent } from './detectors/event-score.ts';
import { clipFrontalYaw, detectClipEvents, type ClipEventType } from './detectors/events-only.ts';
import type { SessionPolicy } from './policy.ts';
import { incidentalPrompts, loopedTwice, promptsForEvents, replayPrompts, runPrompt } from './prompted.ts';
import type { FrameSignals } from './signals.ts';

/**
 * The scores of `regterm eval events` for one annotated clip and in total (pure: signals and annotations in, numbers
 * out). Two modes, both on the session's own code:
 * - clip scan: the events-only detectors over the whole clip (`detectClipEvents`, as `regterm replay --events-only`),
 *   matched to the high/medium annotations (`scoreEvents`); a detection overlapping a low-confidence annotation of
 *   any type is neither a hit nor false.
 * - prompted: each high/medium event answered to a prompt placed before it, and prompts at random times where no such
 *   event is annotated, through the session's challenge logic (prompted.ts); and how often the clip, replayed in a
 *   loop without seeing the prompts, answers prompts every 100 ms anyway (what a replay attack gets per challenge).
 * Plus the anti-spoof windows a session would aggregate on these live clips (antispoof-windows.ts).
 */
export const EVENT_TYPES: readonly ClipEventType[] = ['blink', 'turn_left', 'turn_right'];

export interface ScanCell {
  tp: number;
  fn: number;
  fp: number;
  /** detected start − annotated start, mean over matched detections (s); null without any */
  meanDelayS: number | null;
}

export interface PromptedCell {
  /** prompts placed before high/medium events, and how many of them the challenge passed */
  answered: number;
  prompts: number;
  /** high/medium events that open the clip: no prompt can precede them (prompted.ts) */
  unpromptable: number;
  /** prompt → pass, mean over the answered prompts (s); null without any */
  meanAnswerS: number | null;
  /** prompt times (s) of the events the challenge missed */
  missedAtS: number[];
  incidentalPasses: number;
  incidentalPrompts: number;
  /** prompt times (s) of the incidental prompts that passed */
  incidentalPassAtS: number[];
  /** prompts every 100 ms over the looped clip, annotations ignored (prompted.ts replayPrompts), and how many passed */
  replayAnswers: number;
  replayPrompts: number;
}

export interface ClipEval {
  folder: string;
  clip: string;
  seconds: number;
  /** the clip scan's frontal, and the prompted mode's stand-in for the quality gate's frontal */
  frontalYawDeg: number;
  scan: Record<ClipEventType, ScanCell>;
  prompted: Record<ClipEventType, PromptedCell>;
  antispoof: { windows: number; spoofWindows: number };
}

export interface EventsTotals {
  minutes: number;
  total: Record<ClipEventType, { tp: number; fn: number; fp: number; recall: number; falsePerMin: number; meanDelayS: number | null }>;
  prompted: Record<ClipEventType, {
    answered: number; prompts: number; recall: number; unpromptable: number; meanAnswerS: number | null;
    incidentalPasses: number; incidentalPrompts: number; incidentalPassRate: number;
    replayAnswers: number; replayPrompts: number; replayAnswerRate: number;
  }>;
  antispoof: { windows: number; spoofWindows: number };
}

const mean = (xs: readonly number[]): number | null => (xs.length === 0 ? null : round3(xs.reduce((a, b) => a + b, 0) / xs.length));
const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const byType = <T>(make: (type: ClipEventType) => T): Record<ClipEventType, T> =>
  Object.fromEntries(EVENT_TYPES.map((t) => [t, make(t)])) as Record<ClipEventType, T>;

/** Both modes on one clip. `seed` fixes the incidental prompts (same seed and clip, same prompts). */
export function evalClip(
  name: { folder: string; clip: string }, signals: readonly FrameSignals[], t0Ms: number, truth: readonly TruthEvent[],
  policy: SessionPolicy, seed: string,
): ClipEval {
  const seconds = signals.length > 1 ? (signals[signals.length - 1].tsMs - signals[0].tsMs) / 1000 : 0;
  const frontal = clipFrontalYaw(signals, policy);
  // a low-confidence annotation of any type excuses what overlaps it: scoreEvents sees them all as low
  const lows = truth.filter((t) => t.confidence === 'low');
  const scores = scoreEvents(detectClipEvents(signals, policy, t0Ms), [
    ...truth.filter((t) => t.confidence !== 'low'),
    ...EVENT_TYPES.flatMap((type) => lows.map((t) => ({ ...t, event: type }))),
  ]);
  const scan = byType((type): ScanCell => {
    const s = scores.find((x) => x.type === type);
    return { tp: s?.truePositives ?? 0, fn: s?.falseNegatives ?? 0, fp: s?.falsePositives ?? 0, meanDelayS: mean(s?.delaysS ?? []) };
  });
  const { prompts, unpromptable } = promptsForEvents(truth, policy);
  const looped = loopedTwice(signals);
  const prompted = byType((type): PromptedCell => {
    const answers = prompts.filter((p) => p.type === type).map((p) => runPrompt(signals, t0Ms, p, policy, frontal));
    const incidental = incidentalPrompts(truth, type, seconds * 1000, policy, `${seed}:${name.folder}/${name.clip}`)
      .map((p) => runPrompt(signals, t0Ms, p, policy, frontal));
    const replay = replayPrompts(type, looped.clipMs, policy).map((p) => runPrompt(looped.frames, t0Ms, p, policy, frontal));
    const passed = answers.filter((a) => a.passed);
    const incidentalPassed = incidental.filter((a) => a.passed);
    return {
      answered: passed.length,
      prompts: answers.length,
      unpromptable: unpromptable.filter((p) => p.type === type).length,
      meanAnswerS: mean(passed.map((a) => (a.answerMs ?? 0) / 1000)),
      missedAtS: answers.filter((a) => !a.passed).map((a) => a.promptMs / 1000),
      incidentalPasses: incidentalPassed.length,
      incidentalPrompts: incidental.length,
      incidentalPassAtS: incidentalPassed.map((a) => a.promptMs / 1000),
      replayAnswers: replay.filter((a) => a.passed).length,
      replayPrompts: replay.length,
    };
  });
  const spoof = antispoofWindows(signals, policy);
  return {
    ...name, seconds: round3(seconds), frontalYawDeg: round3(frontal), scan, prompted,
    antispoof: { windows: spoof.windows, spoofWindows: spoof.spoofWindows },
  };
}

/** Sums over clips: recall, false events per minute, prompted recall and the incidental pass rate per type. */
export function eventsTotals(clips: readonly ClipEval[]): EventsTotals {
  const minutes = clips.reduce((a, c) => a + c.seconds, 0) / 60;
  const sum = <K extends string>(cells: readonly Record<K, number>[], k: K): number => cells.reduce((a, c) => a + c[k], 0);
  const total = byType((type) => {
    const cells = clips.map((c) => c.scan[type]);
    const [tp, fn, fp] = [sum(cells, 'tp'), sum(cells, 'fn'), sum(cells, 'fp')];
    const delays = clips.flatMap((c) => (c.scan[type].meanDelayS === null ? [] : Array(c.scan[type].tp).fill(c.scan[type].meanDelayS)));
    return { tp, fn, fp, recall: tp + fn > 0 ? round3(tp / (tp + fn)) : 1, falsePerMin: minutes > 0 ? round3(fp / minutes) : 0, meanDelayS: mean(delays) };
  });
  const prompted = byType((type) => {
    const cells = clips.map((c) => c.prompted[type]);
    const answered = sum(cells, 'answered');
    const prompts = sum(cells, 'prompts');
    const incidentalPasses = sum(cells, 'incidentalPasses');
    const incidentalPrompts = sum(cells, 'incidentalPrompts');
    const answers = cells.flatMap((c) => (c.meanAnswerS === null ? [] : Array(c.answered).fill(c.meanAnswerS)));
    const [replayAnswers, replayPrompts] = [sum(cells, 'replayAnswers'), sum(cells, 'replayPrompts')];
    return {
      answered, prompts, recall: prompts > 0 ? round3(answered / prompts) : 1, unpromptable: sum(cells, 'unpromptable'),
      meanAnswerS: mean(answers), incidentalPasses, incidentalPrompts,
      incidentalPassRate: incidentalPrompts > 0 ? round3(incidentalPasses / incidentalPrompts) : 0,
      replayAnswers, replayPrompts, replayAnswerRate: replayPrompts > 0 ? round3(replayAnswers / replayPrompts) : 0,
    };
  });
  const antispoof = {
    windows: clips.reduce((a, c) => a + c.antispoof.windows, 0), spoofWindows: clips.reduce((a, c) => a + c.antispoof.spoofWindows, 0),
  };
  return { minutes: round3(minutes), total, prompted, antispoof };
}
