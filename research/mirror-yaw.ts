/**
 * Question: how far does fr_pose's yaw of a frame differ from its yaw of the same frame mirrored (sign changed), and
 * is that a constant bias, an error that changes from frame to frame (which smoothing would remove), or one that
 * lasts (which it would not)? Reads the two eval-events caches that research/mirror-turns.sh fills (control and
 * mirrored, the same clips and frames) and prints, over every frame where both found a face: the difference's mean,
 * standard deviation and 95th percentile of its distance from the mean; its standard deviation once each clip's own
 * mean is taken out; and the correlation of that remainder between frames 1, 3, 10 and 30 apart. docs/turns.md has
 * the answer.
 *   npx tsx research/mirror-yaw.ts OUT/control-plain-cache OUT/mirrored-plain-cache
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameSignals } from '../src/session/signals.ts';
import { quantile } from '../src/vision/metrics.ts';

const [controlDir, mirroredDir] = process.argv.slice(2);
if (!controlDir || !mirroredDir) throw new Error('usage: mirror-yaw.ts CONTROL_CACHE MIRRORED_CACHE');

const signals = (dir: string, file: string) => (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { signals: FrameSignals[] }).signals;
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const round = (x: number) => +x.toFixed(2);

/** Per clip, frame by frame: mirrored yaw (sign changed) minus yaw; NaN where either found no face. */
const clips = readdirSync(controlDir).filter((f) => f.endsWith('.json')).map((file) => {
  const control = signals(controlDir, file);
  const mirrored = signals(mirroredDir, file);
  return Array.from({ length: Math.min(control.length, mirrored.length) }, (_, i) => {
    const a = control[i].face;
    const b = mirrored[i].face;
    return a && b ? -b.yawDeg - a.yawDeg : Number.NaN;
  });
});

const differences = clips.flat().filter((d) => !Number.isNaN(d));
const overall = mean(differences);
const sd = Math.sqrt(mean(differences.map((d) => (d - overall) ** 2)));

const remainders = clips.map((c) => {
  const m = mean(c.filter((d) => !Number.isNaN(d)));
  return c.map((d) => d - m);
});
const withinSd = Math.sqrt(mean(remainders.flat().filter((d) => !Number.isNaN(d)).map((d) => d * d)));
const lagCorrelation = (lag: number) => {
  const products = remainders.flatMap((r) => r.slice(lag).map((d, i) => d * r[i]).filter((p) => !Number.isNaN(p)));
  return round(mean(products) / withinSd ** 2);
};

console.log(JSON.stringify({
  frames: differences.length,
  meanDeg: round(overall),
  sdDeg: round(sd),
  p95DeviationDeg: round(quantile(differences.map((d) => Math.abs(d - overall)), 0.95)),
  withinClipSdDeg: round(withinSd),
  lagCorrelation: Object.fromEntries([1, 3, 10, 30].map((lag) => [lag, lagCorrelation(lag)])),
}));
