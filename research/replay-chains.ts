/**
 * Study (issue 13): how often does a looped recording pass a whole CHAIN of motion challenges, and what in the
 * session's timing sets it? Each next prompt is timed from the moment the previous challenge passed, and that moment
 * is set by the recording's own motion: a recording that answered one prompt is in step with the session, so its
 * next fixed motion (AOC swings right, then left ~1.5 s later) can fall inside the next window far more often than
 * the per-prompt rates multiplied suggest. From `regterm eval events --cache DIR` caches:
 *   npx tsx research/replay-chains.ts CACHE_DIR DIR...        (DIR: the annotated clip folders, as for eval events)
 * Simulated sessions per clip (seeded): the session's challenges in random order, each prompt through the session's
 * own challenge logic (runPrompt) on the looped clip, the first prompt at a random phase of the loop; a failed
 * challenge ends the session. Per timing rule and number of motions: the share of sessions passed (mean over clips,
 * the worst clip) and the mean time from first prompt to last pass of the sessions a cooperative answer would take
 * (prompted answers' mean answer time from the same cache).
 */
import { cachedClips } from './cached-clips.ts';
import { clipFrontalYaw } from '../src/session/detectors/events-only.ts';
import { resolvePolicy } from '../src/session/policy.ts';
import { assessQuality } from '../src/session/quality.ts';
import { looped, runPrompt } from '../src/session/prompted.ts';
import { randomBetween, seededRandom, shuffle, type RandomSource } from '../src/session/random.ts';
import type { ClipEventType } from '../src/session/detectors/events-only.ts';
import type { FrameSignals } from '../src/session/signals.ts';

const SESSIONS = Number(process.env.SESSIONS ?? 300);
const MOTIONS: ClipEventType[] = ['blink', 'turn_left', 'turn_right'];
/** enough loop for the first prompt anywhere in one pass plus three challenges at their slowest */
const CHAIN_SPAN_MS = 40_000;

const [cacheDir, ...dirs] = process.argv.slice(2);
const policy = resolvePolicy();
const clips = cachedClips(cacheDir, dirs).filter((c) => c.signals.length > 1).map((c) => {
  const { clipMs } = looped(c.signals, 1);
  const loop = looped(c.signals, Math.ceil((clipMs + CHAIN_SPAN_MS) / clipMs));
  return { name: c.name, t0Ms: c.t0Ms, frontal: clipFrontalYaw(c.signals, policy), gateMs: gatePassMs(loop.frames, c.t0Ms), ...loop };
}).filter((c) => c.gateMs !== undefined);

/** When the session's quality gate passes on a recording played from its start (ms from the clip's start), if ever. */
function gatePassMs(frames: readonly FrameSignals[], t0Ms: number): number | undefined {
  let okSince: number | undefined;
  for (const f of frames) {
    if (f.tsMs - t0Ms > 20_000) return undefined;
    if (!assessQuality(f, policy.quality).ok) okSince = undefined;
    else if (f.tsMs - (okSince ??= f.tsMs) >= policy.quality.holdMs) return f.tsMs - t0Ms;
  }
  return undefined;
}

/**
 * A timing rule: the pause (ms) before the first prompt, after the gate passed; before each later prompt, after the
 * previous challenge passed. `phase`: the recording plays from its start when the session starts (as `eval
 * replay-attack` plays it), or at a random point of its loop (an attacker who starts the player at any time).
 */
interface Rule { name: string; firstPause: [number, number]; pause: [number, number]; phase: 'start' | 'random' }
const RULES: Rule[] = [
  { name: 'random phase, pauses 0.3–1.2 s', firstPause: [300, 1200], pause: [300, 1200], phase: 'random' },
  { name: 'from the start, pauses 0.3–1.2 s (shipped)', firstPause: [300, 1200], pause: [300, 1200], phase: 'start' },
  { name: 'from the start, pauses 0.3–2.5 s', firstPause: [300, 2500], pause: [300, 2500], phase: 'start' },
  { name: 'from the start, first pause 0.3–4.0 s, then 0.3–1.2 s', firstPause: [300, 4000], pause: [300, 1200], phase: 'start' },
  { name: 'from the start, first pause 0.3–6.0 s, then 0.3–1.2 s', firstPause: [300, 6000], pause: [300, 1200], phase: 'start' },
];
const meanOf = ([a, b]: [number, number]): number => (a + b) / 2;

function chainPasses(c: (typeof clips)[number], motions: number, rule: Rule, r: RandomSource): boolean {
  const plan = shuffle(r, [...MOTIONS]).slice(0, motions);
  const gateMs = rule.phase === 'start' ? (c.gateMs ?? 0) : randomBetween(r, policy.turn.prompted.baselineMs, c.clipMs);
  let promptMs = gateMs + randomBetween(r, ...rule.firstPause);
  for (let i = 0; i < plan.length; i++) {
    const out = runPrompt(c.frames, c.t0Ms, { type: plan[i], promptMs }, policy, c.frontal);
    if (!out.passed || out.answerMs === undefined) return false;
    promptMs += out.answerMs + randomBetween(r, ...rule.pause);
  }
  return true;
}

process.stdout.write(`${clips.length} clips, ${SESSIONS} simulated sessions per clip and rule\n\n`);
process.stdout.write('| timing | motions | recording passes (mean over clips) | worst clip | clips ever passed (%) | mean pauses per session |\n| --- | --- | --- | --- | --- | --- |\n');
for (const rule of RULES) {
  for (const motions of [2, 3]) {
    const perClip = clips.map((c) => {
      const r = seededRandom(`chains-${c.name}-${motions}`);
      let passed = 0;
      for (let s = 0; s < SESSIONS; s++) if (chainPasses(c, motions, rule, r)) passed++;
      return { name: c.name, rate: passed / SESSIONS };
    });
    const mean = perClip.reduce((a, c) => a + c.rate, 0) / perClip.length;
    const worst = perClip.reduce((a, b) => (b.rate > a.rate ? b : a));
    const ever = perClip.filter((c) => c.rate > 0).map((c) => `${c.name} ${(100 * c.rate).toFixed(1)}`);
    process.stdout.write(`| ${rule.name} | ${motions} | ${(100 * mean).toFixed(2)} % | ${worst.name} ${(100 * worst.rate).toFixed(1)} % | ${ever.join(', ')} | ${((meanOf(rule.firstPause) + (motions - 1) * meanOf(rule.pause)) / 1000).toFixed(2)} s |\n`);
  }
}
