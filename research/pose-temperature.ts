/**
 * Question: fr_pose's int8 softmax is so peaked that its yaw moves in ~3° steps (docs/turns.md); does decoding its
 * bins at a softmax temperature T > 1 (angle = Σ softmax(logits / T)[i]·i × 3 − 99) give a finer, more mirror-symmetric
 * yaw without compressing it? Runs any regterm command with every fr_pose reading decoded at T (POSE_T, default 1):
 *   POSE_T=2 npx tsx research/pose-temperature.ts eval pose --labels ../shared/data/aflw2000_pose/labels.csv --json
 *   POSE_T=2 npx tsx research/pose-temperature.ts eval events DIR... --cache CACHE_DIR --json  (a cache per T)
 */
import type { RgbImage } from '../src/vision/image.ts';
import { squareAround } from '../src/vision/landmarks.ts';
import type { LoadedModel } from '../src/vision/model-registry.ts';
import { binExpectation, PoseModel } from '../src/vision/pose.ts';
import { runModel } from '../src/vision/run-model.ts';
import { type Box, cropMap, warpToTensor } from '../src/vision/warp.ts';

const temperature = Number(process.env.POSE_T ?? '1');

/** fr_pose's own decoding (binExpectation) of the logits divided by the temperature. */
const decode = (logits: ArrayLike<number>) => binExpectation(Float32Array.from(logits, (l) => l / temperature));

interface PoseInternals { model: LoadedModel; input: Float32Array; size: number; cropScale: number; signs: { yaw: number; pitch: number; roll: number } }

PoseModel.prototype.predict = async function atTemperature(img: RgbImage, box: Box) {
  const m = this as unknown as PoseInternals;
  warpToTensor(img, cropMap(squareAround(box, m.cropScale), m.size, m.size), m.size, m.size, m.model.entry.input, m.input);
  const out = await runModel(m.model, m.input);
  return { yaw: m.signs.yaw * decode(out.output), pitch: m.signs.pitch * decode(out['617']), roll: m.signs.roll * decode(out['618']) };
};

// src/main.ts reads the command line after the script's name
await import('../src/main.ts');
