/**
 * Study (issue 13): can a session rule cut how often a looped recording answers a turn prompt, without losing the
 * annotated turns? A recording's turns are real turns; only their timing against the prompt is chance. Two rules,
 * emulated on `regterm eval events --cache DIR` caches through the session's own challenge (runPrompt):
 * - wrong way fails: a turn the other way (the same rule: 8° from the baseline held 200 ms, any time) that completes
 *   before the asked one fails the challenge;
 * - frontal before the prompt: the turn prompt waits until every yaw in the 500 ms before it is within
 *   maxFrontalBiasDeg of the frontal (a head still coming back from the last turn is prompted once it is back).
 * Prompts: the replay grid (every 100 ms over the looped clip, src/session/prompted.ts replayPrompts) and the
 * high/medium annotated turns placed as in prompted mode.
 *   npx tsx research/replay-turn-rules.ts CACHE_DIR DIR...        (DIR: the annotated clip folders, as for eval events)
 */
import { cachedClips } from './cached-clips.ts';
import { clipFrontalYaw } from '../src/session/detectors/events-only.ts';
import { resolvePolicy } from '../src/session/policy.ts';
import { loopedTwice, promptsForEvents, replayPrompts, runPrompt, type Prompt } from '../src/session/prompted.ts';
import type { FrameSignals } from '../src/session/signals.ts';

const [cacheDir, ...dirs] = process.argv.slice(2);
const policy = resolvePolicy();
/** the wrong-way detector: the asked turn's rule, but any start time in the challenge */
const anyStart = resolvePolicy({ turn: { prompted: { startWithinMs: policy.challenges.timeoutMs } } });
const OTHER = { turn_left: 'turn_right', turn_right: 'turn_left' } as const;
const STEP_MS = 33;

type Rule = (frames: readonly FrameSignals[], t0Ms: number, p: Prompt, frontal: number) => boolean;
const shipped: Rule = (frames, t0Ms, p, frontal) => runPrompt(frames, t0Ms, p, policy, frontal).passed;
const wrongWayFails: Rule = (frames, t0Ms, p, frontal) => {
  const asked = runPrompt(frames, t0Ms, p, policy, frontal);
  if (!asked.passed) return false;
  const other = runPrompt(frames, t0Ms, { ...p, type: OTHER[p.type as keyof typeof OTHER] }, anyStart, frontal);
  return !(other.passed && other.answerMs! < asked.answerMs!);
};
const frontalFirst: Rule = (frames, t0Ms, p, frontal) => {
  for (let at = p.promptMs; at < p.promptMs + policy.challenges.timeoutMs; at += STEP_MS) {
    const before = frames.filter((f) => f.face && f.tsMs < t0Ms + at && f.tsMs >= t0Ms + at - policy.turn.prompted.baselineMs);
    const back = before.length >= policy.turn.prompted.minBaselineFrames
      && before.every((f) => Math.abs(f.face!.yawDeg - frontal) <= policy.turn.maxFrontalBiasDeg);
    if (back) return runPrompt(frames, t0Ms, { ...p, promptMs: at }, policy, frontal).passed;
  }
  return false;
};
const RULES: Record<string, Rule> = { shipped, 'wrong way fails': wrongWayFails, 'frontal before the prompt': frontalFirst };

const clips = cachedClips(cacheDir, dirs).map((c) => ({ ...c, frontal: clipFrontalYaw(c.signals, policy), looped: loopedTwice(c.signals) }));
process.stdout.write('| rule | annotated turns answered | a recording answers turn_left | turn_right |\n| --- | --- | --- | --- |\n');
for (const [name, rule] of Object.entries(RULES)) {
  let answered = 0;
  let annotated = 0;
  const replay = { turn_left: [0, 0], turn_right: [0, 0] };
  for (const c of clips) {
    for (const p of promptsForEvents(c.truth, policy).prompts.filter((x) => x.type !== 'blink')) {
      annotated++;
      if (rule(c.signals, c.t0Ms, p, c.frontal)) answered++;
    }
    for (const type of ['turn_left', 'turn_right'] as const) {
      for (const p of replayPrompts(type, c.looped.clipMs, policy)) {
        replay[type][1]++;
        if (rule(c.looped.frames, c.t0Ms, p, c.frontal)) replay[type][0]++;
      }
    }
  }
  const rate = ([k, n]: number[]): string => `${k}/${n} (${((100 * k) / n).toFixed(1)} %)`;
  process.stdout.write(`| ${name} | ${answered}/${annotated} | ${rate(replay.turn_left)} | ${rate(replay.turn_right)} |\n`);
}
