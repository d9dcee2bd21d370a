/**
 * Question: how far does fr_pose's yaw of a frame differ from its yaw of the same frame mirrored (sign changed), and
 * how much of that is a constant bias against an error that changes frame by frame? Reads the two eval-events caches
 * that research/mirror-turns.sh fills (control and mirrored, the same clips and frames) and prints, over every frame
 * where both found a face: the mean difference, its standard deviation and the 95th percentile of its distance from
 * the mean. docs/turns.md has the answer.
 *   npx tsx research/mirror-yaw.ts OUT/control-plain-cache OUT/mirrored-plain-cache
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameSignals } from '../src/session/signals.ts';

const [controlDir, mirroredDir] = process.argv.slice(2);
if (!controlDir || !mirroredDir) throw new Error('usage: mirror-yaw.ts CONTROL_CACHE MIRRORED_CACHE');

const signals = (dir: string, file: string) => (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { signals: FrameSignals[] }).signals;

const differences: number[] = [];
for (const file of readdirSync(controlDir).filter((f) => f.endsWith('.json'))) {
  const control = signals(controlDir, file);
  const mirrored = signals(mirroredDir, file);
  for (let i = 0; i < Math.min(control.length, mirrored.length); i++) {
    const a = control[i].face;
    const b = mirrored[i].face;
    if (a && b) differences.push(-b.yawDeg - a.yawDeg);
  }
}
const mean = differences.reduce((s, d) => s + d, 0) / differences.length;
const sd = Math.sqrt(differences.reduce((s, d) => s + (d - mean) ** 2, 0) / differences.length);
const deviations = differences.map((d) => Math.abs(d - mean)).sort((x, y) => x - y);
const p95 = deviations[Math.floor(0.95 * (deviations.length - 1))];
console.log(JSON.stringify({ frames: differences.length, meanDeg: +mean.toFixed(2), sdDeg: +sd.toFixed(2), p95DeviationDeg: +p95.toFixed(2) }));
