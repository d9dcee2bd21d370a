/**
 * Per-frame signal trace of one clip around a time, from a `regterm eval events --cache DIR` cache (docs/blinks.md,
 * docs/turns.md: looking at the misses):
 *   npx tsx research/event-trace.ts CACHE_DIR FOLDER--CLIP FROM_S TO_S [BASELINE_AT_S]
 * Columns: time (s from the clip's first frame), faces, yaw (image convention) and yaw from the pre-prompt baseline
 * at BASELINE_AT_S (else from the clip's frontal), pitch, roll, eye-open probability and lid level per eye (subject's
 * left / right), face box width as a fraction of the frame.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clipFrontalYaw } from '../src/session/detectors/events-only.ts';
import { promptBaselineYaw } from '../src/session/detectors/turn.ts';
import { resolvePolicy } from '../src/session/policy.ts';
import type { FrameSignals } from '../src/session/signals.ts';

const [cacheDir, name, fromS, toS, atS] = process.argv.slice(2);
const { signals, t0Ms } = JSON.parse(readFileSync(join(cacheDir, `${name}.json`), 'utf8')) as { signals: FrameSignals[]; t0Ms: number };
const policy = resolvePolicy();
const frontal = clipFrontalYaw(signals, policy);
const readings = signals.filter((f) => f.face).map((f) => ({ tsMs: f.tsMs, yawDeg: f.face!.yawDeg }));
const base = atS === undefined ? frontal : promptBaselineYaw(readings, t0Ms + Number(atS) * 1000, policy.turn, frontal);
const f2 = (x: number | undefined): string => (x === undefined ? '  –  ' : x.toFixed(2).padStart(5));
const f1 = (x: number): string => x.toFixed(1).padStart(6);
process.stdout.write(`frontal ${frontal.toFixed(1)}, baseline ${base.toFixed(1)}\n  t s  n    yaw  d-yaw  pitch   roll  eyeL  eyeR  lidL  lidR  boxW\n`);
for (const f of signals) {
  const t = (f.tsMs - t0Ms) / 1000;
  if (t < Number(fromS) || t > Number(toS)) continue;
  const x = f.face;
  if (!x) {
    process.stdout.write(`${t.toFixed(2).padStart(5)}  ${f.faceCount}\n`);
    continue;
  }
  process.stdout.write(`${t.toFixed(2).padStart(5)}  ${f.faceCount} ${f1(x.yawDeg)} ${f1(x.yawDeg - base)} ${f1(x.pitchDeg)} ${f1(x.rollDeg)} `
    + `${f2(x.leftEyeOpen)} ${f2(x.rightEyeOpen)} ${f2(x.leftLidOpen)} ${f2(x.rightLidOpen)} ${f2((x.box.x2 - x.box.x1) / f.frameWidth)}\n`);
}
