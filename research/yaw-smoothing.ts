/**
 * Question: fr_pose's yaw carries an error of ~2–3° that does not follow the head (research/mirror-yaw.ts); does the
 * turn detector do better on a yaw smoothed over the last N frames (median or mean) before its rule? Runs
 * any regterm command with every TurnDetector fed the smoothed yaw (YAW_SMOOTH=median3|mean3|median5|mean2):
 *   YAW_SMOOTH=median3 npx tsx research/yaw-smoothing.ts eval events DIR... --cache CACHE --json
 * (the session's logic reruns on the cached signals, so the cache of the plain run serves). docs/turns.md has the answer.
 */
import { TurnDetector } from '../src/session/detectors/turn.ts';
import type { FaceSignals } from '../src/session/signals.ts';
import { median } from '../src/vision/metrics.ts';

const mode = process.env.YAW_SMOOTH ?? 'median3';
const kind = mode.replace(/\d+$/, '');
const size = Number(mode.replace(/^\D+/, ''));
if ((kind !== 'median' && kind !== 'mean') || !(size >= 1)) throw new Error(`YAW_SMOOTH: median<N> or mean<N>, not ${mode}`);

const recent = new WeakMap<TurnDetector, number[]>();
const push = TurnDetector.prototype.push;
TurnDetector.prototype.push = function smoothed(tsMs: number, face: FaceSignals | undefined) {
  const yaws = recent.get(this) ?? [];
  recent.set(this, yaws);
  if (face === undefined) {
    yaws.length = 0;
    return push.call(this, tsMs, face);
  }
  yaws.push(face.yawDeg);
  if (yaws.length > size) yaws.shift();
  const yawDeg = kind === 'median' ? median(yaws) : yaws.reduce((s, y) => s + y, 0) / yaws.length;
  return push.call(this, tsMs, { ...face, yawDeg });
};

// src/main.ts reads the command line after the script's name
await import('../src/main.ts');
