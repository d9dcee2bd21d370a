/**
 * Study (issue 13): how long after a prompt may the blink challenge's answer start? A customer blinks after a reaction
 * time; a replayed recording blinks at its own rate, whenever. From `regterm eval events --cache DIR` caches:
 *   npx tsx research/blink-window.ts CACHE_DIR DIR...        (DIR: the annotated clip folders, as for eval events)
 * For each start window W, through the session's own challenge (runPrompt):
 * - answered: prompted recall over the high/medium annotated blinks (prompt placed as in prompted mode), and when the
 *   answers start after their prompt;
 * - a recording's chance: the share of replay prompts (every 100 ms over the looped clip, annotations ignored:
 *   src/session/prompted.ts replayPrompts) that the recording answers, as `regterm eval events` reports it;
 * and the same recording's chance for the turn prompts at the shipped rule, for the pairs a session draws.
 */
import { cachedClips } from './cached-clips.ts';
import { clipFrontalYaw } from '../src/session/detectors/events-only.ts';
import { resolvePolicy, type SessionPolicy } from '../src/session/policy.ts';
import { loopedTwice, promptsForEvents, replayPrompts, runPrompt } from '../src/session/prompted.ts';
import type { ClipEventType } from '../src/session/detectors/events-only.ts';

const [cacheDir, ...dirs] = process.argv.slice(2);
const base = resolvePolicy();
const clips = cachedClips(cacheDir, dirs).map((c) => ({ ...c, frontal: clipFrontalYaw(c.signals, base), looped: loopedTwice(c.signals) }));

/** Share of a looped recording's replay prompts (prompted.ts replayPrompts) of `type` that pass under `p`, in total and per clip. */
function recordingRate(type: ClipEventType, p: SessionPolicy): { passed: number; prompts: number; perClip: Map<string, number> } {
  let passed = 0;
  let prompts = 0;
  const perClip = new Map<string, number>();
  for (const c of clips) {
    const grid = replayPrompts(type, c.looped.clipMs, p);
    const k = grid.filter((g) => runPrompt(c.looped.frames, c.t0Ms, g, p, c.frontal).passed).length;
    passed += k;
    prompts += grid.length;
    if (grid.length > 0) perClip.set(c.name, k / grid.length);
  }
  return { passed, prompts, perClip };
}

const pct = (a: number, b: number): string => `${((100 * a) / Math.max(1, b)).toFixed(1)} %`;
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

process.stdout.write(`${clips.length} clips, ${(clips.reduce((s, c) => s + c.looped.clipMs, 0) / 60000).toFixed(2)} min\n\n`);
process.stdout.write('| blink start window (ms) | answered (annotated blinks) | answer after prompt p50 / max (ms) | missed (clip at prompt s) | a recording answers |\n| --- | --- | --- | --- | --- |\n');
const blinkRates = new Map<number, ReturnType<typeof recordingRate>>();
for (const w of [1000, 1500, 2000, 3000, 7000]) {
  const p = resolvePolicy({ blink: { startWithinMs: w } });
  const outcomes = clips.flatMap((c) => promptsForEvents(c.truth, p).prompts.filter((x) => x.type === 'blink').map((x) => ({ clip: c.name, ...runPrompt(c.signals, c.t0Ms, x, p, c.frontal) })));
  const answers = outcomes.filter((o) => o.passed).map((o) => o.answerMs!);
  const rec = recordingRate('blink', p);
  blinkRates.set(w, rec);
  process.stdout.write(`| ${w} | ${answers.length}/${outcomes.length} | ${quantile(answers, 0.5)} / ${Math.max(...answers)} | ${outcomes.filter((o) => !o.passed).map((o) => `${o.clip.split('/')[1]} ${(o.promptMs / 1000).toFixed(2)}`).join(', ')} | ${rec.passed}/${rec.prompts} (${pct(rec.passed, rec.prompts)}) |\n`);
}

const turns = (['turn_left', 'turn_right'] as const).map((t) => ({ t, ...recordingRate(t, base) }));
process.stdout.write('\n| turn prompt (shipped rule) | a recording answers |\n| --- | --- |\n');
for (const r of turns) process.stdout.write(`| ${r.t} | ${r.passed}/${r.prompts} (${pct(r.passed, r.prompts)}) |\n`);

process.stdout.write('\nPer clip, the share of grid prompts a recording answers (blink at 1500 / 7000 ms, turn_left, turn_right):\n\n| clip | blink 1.5 s | blink 7 s | left | right |\n| --- | --- | --- | --- | --- |\n');
const b15 = blinkRates.get(1500)!.perClip;
const b7 = blinkRates.get(7000)!.perClip;
for (const c of clips) {
  const f = (m: Map<string, number>): string => (m.has(c.name) ? `${(100 * m.get(c.name)!).toFixed(0)} %` : '–');
  process.stdout.write(`| ${c.name} | ${f(b15)} | ${f(b7)} | ${f(turns[0].perClip)} | ${f(turns[1].perClip)} |\n`);
}
