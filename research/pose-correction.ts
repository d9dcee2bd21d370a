/**
 * Can a correction of the landmark-fit yaw replace fr_pose on the turn detector's frames? (docs/pose.md)
 * Reads research/pose-dump.ts's output; fits each correction on half A of the photos (sorted by file name, even
 * positions) and reports it on half B (odd positions) with src/vision/pose-accuracy.ts, beside fr_pose and the raw
 * landmark yaw on the same half B. The corrections map the landmark yaw alone (the tracked frames' only input):
 * - linear: least-squares line true = a·lm + b;
 * - isotonic: the monotone (non-decreasing) least-squares map |lm| → |true| (pool-adjacent-violators), applied with
 *   the sign of lm and linear interpolation between the fitted points: the best any monotone correction can do on A.
 *   npx tsx research/pose-correction.ts /tmp/pose-dump.jsonl
 */
import { readFileSync } from 'node:fs';
import { MIN_IOU } from '../src/cli/eval-pose.ts';
import type { Pose } from '../src/vision/pose.ts';
import { type PoseSample, linearFit, poseAccuracy } from '../src/vision/pose-accuracy.ts';

interface Row { file: string; yaw: number; pitch: number; roll: number; iou?: number; model?: Pose; lm?: Pose | null; mirrorModel?: Pose }

const rows = readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row)
  .filter((r) => r.model && r.lm && (r.iou ?? 0) >= MIN_IOU)
  .sort((a, b) => a.file.localeCompare(b.file));
const A = rows.filter((_, i) => i % 2 === 0);
const B = rows.filter((_, i) => i % 2 === 1);
const inRange = (r: Row): boolean => Math.abs(r.yaw) <= 60;
const lmYaw = (r: Row): number => (r.lm as Pose).yaw;

/** Pool-adjacent-violators: the non-decreasing least-squares fit of y over sorted x, as (x, y) knots. */
function isotonic(points: Array<[number, number]>): Array<[number, number]> {
  const s = [...points].sort((p, q) => p[0] - q[0]);
  const blocks: Array<{ sum: number; n: number; x: number }> = [];
  for (const [x, y] of s) {
    blocks.push({ sum: y, n: 1, x });
    while (blocks.length > 1 && blocks[blocks.length - 2].sum / blocks[blocks.length - 2].n > blocks[blocks.length - 1].sum / blocks[blocks.length - 1].n) {
      const b = blocks.pop() as (typeof blocks)[number];
      const a = blocks[blocks.length - 1];
      a.x = (a.x * a.n + b.x * b.n) / (a.n + b.n);
      a.sum += b.sum;
      a.n += b.n;
    }
  }
  return blocks.map((b) => [b.x, b.sum / b.n]);
}

function interpolate(knots: Array<[number, number]>, x: number): number {
  if (x <= knots[0][0]) return knots[0][1] * (knots[0][0] > 0 ? x / knots[0][0] : 1);
  for (let i = 1; i < knots.length; i++) {
    const [x0, y0] = knots[i - 1];
    const [x1, y1] = knots[i];
    if (x <= x1) return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
  }
  return knots[knots.length - 1][1];
}

const fitA = A.filter(inRange);
const line = linearFit(fitA.map(lmYaw), fitA.map((r) => r.yaw));
const knots = isotonic(fitA.map((r) => [Math.abs(lmYaw(r)), Math.sign(lmYaw(r)) * r.yaw]));
const estimators: Record<string, (r: Row) => number> = {
  'fr_pose': (r) => (r.model as Pose).yaw,
  'landmark raw': lmYaw,
  [`landmark linear (${line.slope.toFixed(3)}·lm ${line.intercept >= 0 ? '+' : '−'} ${Math.abs(line.intercept).toFixed(2)})`]: (r) => line.slope * lmYaw(r) + line.intercept,
  'landmark isotonic': (r) => Math.sign(lmYaw(r)) * interpolate(knots, Math.abs(lmYaw(r))),
};
process.stdout.write(`half A ${A.length} photos (fit), half B ${B.length} (reported); isotonic map |lm| → |yaw| at |lm| 20/30/35/40: ${[20, 30, 35, 40].map((x) => interpolate(knots, x).toFixed(1)).join(' / ')}\n`);
process.stdout.write('| estimator (half B) | n | yaw MAE | slope | left | right | mean |est| / |true| per bin 0-10 10-20 20-30 30-45 45-60 |\n| --- | --- | --- | --- | --- | --- | --- |\n');
for (const [name, est] of Object.entries(estimators)) {
  const samples: PoseSample[] = B.map((r) => ({ trueYaw: r.yaw, truePitch: r.pitch, trueRoll: r.roll, yaw: est(r), pitch: 0, roll: 0 }));
  const a = poseAccuracy(samples);
  const f = (x: number): string => x.toFixed(3);
  const bins = a.yaw.byBin.map((b) => `${b.meanAbsEst.toFixed(1)}/${b.meanAbsTrue.toFixed(1)}`).join(' ');
  process.stdout.write(`| ${name} | ${a.n} | ${a.yaw.mae.toFixed(2)} | ${f(a.yaw.slope)} | ${f(a.yaw.slopeLeft)} | ${f(a.yaw.slopeRight)} | ${bins} |\n`);
}
