/**
 * Measurement, not a test: how the pose model's yaw scales against yaw from landmark GEOMETRY, on every analysed
 * frame of the scored clips (no event annotations are used). Reads a per-frame cache that carries `noseOffset`, as
 * written by the former score:events script (`git show 2330a11:test/hil/session/score-events.ts`; `regterm eval
 * events --cache` keeps no landmark geometry)
 * and prints the least-squares slope pose_yaw = k * geometric_yaw (through the origin) per |yaw| band.
 *   npx tsx test/hil/session/yaw-calibration.ts DIR [D_OVER_W]
 *
 * Geometric yaw (weak perspective, a cylinder head about the vertical yaw axis): the jaw-contour landmarks 0 and 16
 * are the face's occluding contour at about the tragion level, so they stay near +-W while the nose tip, D in front
 * of the axis, moves by D sin(yaw). With r = (x_nose - x_mid) / half_width: yaw = asin(r * W / D).
 * D/W from adult anthropometry (Farkas): half bizygomatic width W ~ 67-70 mm, tragion to pronasale depth D
 * ~ 105-120 mm, so D/W ~ 1.6 (1.5-1.75 spans the population; the slope scales with it).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameSignals } from '../../../src/session/signals.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: yaw-calibration.ts CACHE_DIR [D_OVER_W]');
const dOverW = Number(process.argv[3] ?? 1.6);
const bands: Array<[number, number]> = [[0, 5], [5, 10], [10, 20], [20, 30], [30, 60], [8, 60]];
const acc = bands.map(() => ({ sxy: 0, sxx: 0, n: 0 }));
const deg = 180 / Math.PI;
for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
  const data = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { signals: FrameSignals[]; noseOffset?: Array<number | null> };
  data.signals.forEach((s, i) => {
    const r = data.noseOffset?.[i];
    if (!s.face || r === null || r === undefined || s.faceCount !== 1) return;
    const geo = Math.asin(Math.max(-1, Math.min(1, r / dOverW))) * deg;
    bands.forEach(([lo, hi], b) => {
      if (Math.abs(geo) < lo || Math.abs(geo) >= hi) return;
      acc[b].sxy += s.face!.yawDeg * geo;
      acc[b].sxx += geo * geo;
      acc[b].n++;
    });
  });
}
process.stdout.write(`D/W = ${dOverW}\n| geometric |yaw| band (deg) | frames | slope pose/geometric |\n| --- | --- | --- |\n`);
bands.forEach(([lo, hi], b) => {
  const a = acc[b];
  process.stdout.write(`| ${lo}-${hi} | ${a.n} | ${a.n ? (a.sxy / a.sxx).toFixed(3) : '-'} |\n`);
});
