/**
 * Study (issue 13): how many motion challenges should a session ask besides the light? Each motion alone is answered
 * by chance by a looped recording of a person who blinks or moves a lot; a session needs every one of them, so its
 * chance is about the product of its challenges' chances, and so is a customer's chance of passing.
 *   node bin/regterm.js eval events DIR... --json > EVENTS.json      (the annotated folders)
 *   npx tsx research/plan-size.ts EVENTS.json
 * From the per-clip `replayAnswers / replayPrompts` (share of prompt times at which the looped recording itself
 * answers) and the total prompted recalls, for each plan size (every set of distinct motions of that size, equally
 * likely, as planChallenges draws them):
 * - a recording's predicted `match` chance: per clip the mean over plans of the product of its answer rates, then the
 *   mean over clips (what `eval replay-attack` measures, up to sessions that fail for other reasons);
 * - a customer's predicted pass: the mean over plans of the product of the prompted recalls;
 * - how long the session keeps a cooperative customer: the simulated customer of the session unit tests (reacts
 *   after 400 ms, 250 ms blinks, 30° turns) over 40 seeds, median `timings.total`.
 */
import { readFileSync } from 'node:fs';
import { resolvePolicy } from '../src/session/policy.ts';
import { median } from '../src/vision/metrics.ts';
import { runSession } from '../test/unit/session/customer.ts';

const MOTIONS = ['blink', 'turn_left', 'turn_right'] as const;
type Motion = (typeof MOTIONS)[number];
interface PromptedType { answered: number; prompts: number; replayAnswers?: number; replayPrompts?: number }
interface EventsReport { clips: Array<{ folder: string; clip: string; prompted: Record<Motion, PromptedType> }>; prompted: Record<Motion, PromptedType> }

const report = JSON.parse(readFileSync(process.argv[2], 'utf8')) as EventsReport;

/** Every set of `k` distinct motions. */
function plans(k: number, from: readonly Motion[] = MOTIONS): Motion[][] {
  if (k === 0) return [[]];
  return from.flatMap((m, i) => plans(k - 1, from.slice(i + 1)).map((rest) => [m, ...rest]));
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const product = (xs: number[]): number => xs.reduce((a, b) => a * b, 1);
const replayRate = (t: PromptedType): number => (t.replayPrompts ? (t.replayAnswers ?? 0) / t.replayPrompts : 0);
const recall = (t: PromptedType): number => t.answered / t.prompts;

process.stdout.write(`${report.clips.length} clips; prompted recall ${MOTIONS.map((m) => `${m} ${report.prompted[m].answered}/${report.prompted[m].prompts}`).join(', ')}\n\n`);
process.stdout.write('| motions per session | a recording matches (predicted) | worst clip | a customer passes (predicted) | session, cooperative customer (median) |\n| --- | --- | --- | --- | --- |\n');
for (const k of [1, 2, 3]) {
  const ps = plans(k);
  const perClip = report.clips.map((c) => ({ clip: `${c.folder}/${c.clip}`, p: mean(ps.map((plan) => product(plan.map((m) => replayRate(c.prompted[m]))))) }));
  const worst = perClip.reduce((a, b) => (b.p > a.p ? b : a));
  const customer = mean(ps.map((plan) => product(plan.map((m) => recall(report.prompted[m])))));
  const policy = { challenges: { count: k + 1 } };
  const totals = Array.from({ length: 40 }, (_, i) => runSession({ seed: i + 1 }, { policy, seed: `plan-size-${i}` }).session.result?.timings.total ?? NaN);
  if (totals.some(Number.isNaN)) throw new Error('a simulated session did not decide');
  const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
  process.stdout.write(`| ${k}${k + 1 === resolvePolicy().challenges.count ? ' (default)' : ''} | ${pct(mean(perClip.map((c) => c.p)))} | ${worst.clip} ${pct(worst.p)} | ${pct(customer)} | ${(median(totals) / 1000).toFixed(1)} s |\n`);
}
