/**
 * Study (issue #5): per-frame eye signals on the 13 annotated clips for the blink cue. For every frame of every clip
 * (the replay path, one face track per clip): fr_eye's open probabilities and the iris model's raw lid opening per
 * eye (iris.ts lidOpening, measured on every frame here, outside the track's schedule).
 *   node --import tsx research/iris-blink-study.ts [--model models/iris.onnx] --out DIR
 * Writes DIR/<set>--<clip>.json: { tsMs[], frL[], frR[], yaw[], faces[], lidL[], lidR[] } (null where no face):
 * scalars only, in a tmp dir, never the repo. Existing files are kept (delete DIR after a model change).
 * research/iris-blink-sweep.ts scores blink rules on them.
 */
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { createLogger } from '../src/lib/logger.ts';
import { faceDataRoot } from '../test/face-data.ts';
import { recordingSignals } from '../src/session/recording-signals.ts';
import { FaceEngine } from '../src/vision/engine.ts';
import { EYE_CROP_FLOATS, IRIS_INPUT_SHAPE, eyeCrop, lidOpening } from '../src/vision/iris.ts';
import { DEFAULT_IRIS_OUT } from '../scripts/build-human-models.ts';
import { clipFiles } from '../test/hil/vision/pose-clips.ts';

const { values } = parseArgs({ options: { model: { type: 'string', default: DEFAULT_IRIS_OUT }, out: { type: 'string', default: '/tmp/iris-study' } } });
const out = values.out;
mkdirSync(out, { recursive: true });

const session = await ort.InferenceSession.create(values.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const engine = new FaceEngine();
await engine.start();
const logger = createLogger({ level: 'warn' });
for (const { set, name: clip } of clipFiles()) {
  const dest = join(out, `${set}--${clip}.json`);
  if (existsSync(dest)) continue;
  const crops: Array<[Float32Array, Float32Array] | null> = [];
  const { signals } = await recordingSignals(engine, join(faceDataRoot(), set, `${clip}.mp4`), logger, (f) => {
    const face = f.faces[0];
    if (!face) { crops.push(null); return; }
    const crop = (eye: 'left' | 'right'): Float32Array => eyeCrop(f.image, face.landmarks68, eye, new Float32Array(EYE_CROP_FLOATS), new Float32Array(EYE_CROP_FLOATS));
    crops.push([crop('left'), crop('right')]);
  });
  const lidL: Array<number | null> = [], lidR: Array<number | null> = [];
  for (const c of crops) {
    if (!c) { lidL.push(null); lidR.push(null); continue; }
    for (const [i, crop] of c.entries()) {
      const res = await session.run({ input_1: new ort.Tensor('float32', crop, [...IRIS_INPUT_SHAPE]) });
      (i === 0 ? lidL : lidR).push(lidOpening(res.Identity.data as Float32Array));
      crop.fill(0);
    }
  }
  writeFileSync(dest, JSON.stringify({
    tsMs: signals.map((s) => s.tsMs),
    frL: signals.map((s) => s.face?.leftEyeOpen ?? null), frR: signals.map((s) => s.face?.rightEyeOpen ?? null),
    yaw: signals.map((s) => s.face?.yawDeg ?? null), faces: signals.map((s) => s.faceCount),
    lidL, lidR,
  }));
  process.stdout.write(`${set} ${clip} ${signals.length}\n`);
}
await engine.stop();
await session.release();
