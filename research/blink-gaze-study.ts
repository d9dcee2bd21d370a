/**
 * Study (issue #5, the last false blinks): does the iris's position and visible size separate a downward glance or a
 * wink from a blink? For every frame of the 13 annotated clips (the replay path on one face track per clip, exactly as
 * `score:events` runs them) it keeps the session's frame signals (fr_eye, the shipped relative lid readings, pose) and
 * measures BOTH eyes with the iris model on EVERY frame (outside the track's lid schedule): per eye, in the eye's own
 * corner frame (origin = midpoint of the two corners, x along the corner axis, y perpendicular, positive down the
 * face, everything over the corner distance, so face size and roll cancel; `gazeGeometry` in blink-gaze-geometry.ts):
 *   lid  lid opening (iris.ts lidOpening)     up / lo  mean upper-lid / inner lower-lid offset from the corner line
 *   ix / iy  iris centre                       ir  mean iris radius (4 edge points from the centre)
 *   vis  fraction of the iris's vertical diameter between the two lid lines (1 = all of it visible)
 *   disk / gap / gapShare  the crop's darkness at the iris (irisDarkness: a visible iris is darker than a lid)
 *   node --import tsx research/blink-gaze-study.ts [--model models/iris.onnx] [--out /tmp/blink-gaze]
 * Writes OUT/<set>--<clip>.json: { t0Ms, signals: FrameSignals[], eyes: [{L, R} | null] } — scalars only, in a tmp
 * dir, never the repo (no pixels, no landmark coordinates). Existing files are kept (delete OUT after a model change).
 * research/blink-gaze-analysis.ts reads them.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { createLogger } from '../src/lib/logger.ts';
import { faceDataRoot } from '../test/face-data.ts';
import { resolvePolicy } from '../src/session/policy.ts';
import { recordingSignals } from '../src/session/recording-signals.ts';
import { FaceEngine } from '../src/vision/engine.ts';
import { EYE_CROP_FLOATS, IRIS_INPUT_SHAPE, eyeCrop } from '../src/vision/iris.ts';
import { gazeGeometry, irisDarkness } from './blink-gaze-geometry.ts';
import { DEFAULT_IRIS_OUT } from '../scripts/build-human-models.ts';
import { clipFiles } from '../test/hil/vision/pose-clips.ts';

const { values } = parseArgs({
  options: { model: { type: 'string', default: DEFAULT_IRIS_OUT }, out: { type: 'string', default: '/tmp/blink-gaze' } },
});
const out = values.out;
mkdirSync(out, { recursive: true });

const r4 = (x: number): number => Math.round(x * 10000) / 10000;
const session = await ort.InferenceSession.create(values.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const engine = new FaceEngine();
await engine.start();
const logger = createLogger({ level: 'warn' });
const policy = resolvePolicy({});
try {
  for (const { set, name: clip } of clipFiles()) {
    const dest = join(out, `${set}--${clip}.json`);
    if (existsSync(dest)) continue;
    const crops: Array<[Float32Array, Float32Array] | null> = [];
    const { signals, t0Ms } = await recordingSignals(engine, join(faceDataRoot(), set, `${clip}.mp4`), logger, (f) => {
      const face = f.faces[0];
      if (!face) {
        crops.push(null);
        return;
      }
      const crop = (eye: 'left' | 'right'): Float32Array =>
        eyeCrop(f.image, face.landmarks68, eye, new Float32Array(EYE_CROP_FLOATS), new Float32Array(EYE_CROP_FLOATS));
      crops.push([crop('left'), crop('right')]);
    }, { lidMeasureBelow: policy.blink.closedBelow });
    const eyes: Array<Record<'L' | 'R', Record<string, number>> | null> = [];
    for (const c of crops) {
      if (!c) {
        eyes.push(null);
        continue;
      }
      const pair: Array<Record<string, number>> = [];
      for (const crop of c) {
        const res = await session.run({ input_1: new ort.Tensor('float32', crop, [...IRIS_INPUT_SHAPE]) });
        const o = res.Identity.data as Float32Array;
        const g = gazeGeometry(o);
        const dark = g ? irisDarkness(crop, o) : {};
        pair.push(Object.fromEntries(Object.entries({ ...g, ...dark }).map(([k, v]) => [k, r4(v)])));
        crop.fill(0);
      }
      eyes.push({ L: pair[0], R: pair[1] });
    }
    writeFileSync(dest, JSON.stringify({ t0Ms, signals, eyes }));
    process.stdout.write(`${set} ${clip} ${signals.length}\n`);
  }
} finally {
  await engine.stop();
  await session.release();
}
