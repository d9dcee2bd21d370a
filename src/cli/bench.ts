/**
 * regterm bench [--json] [--image FILE] [--iterations N] [--models-dir DIR]
 *
 * Per-model latency (median, p90 over N runs after one warm-up) of the deployed model (`medianMs`; `variant` fp32
 * rewrite or int8, per models/manifest.json) beside the SOURCE fp32 model (`fp32Ms`), and both files' sizes, on a real photo scaled and centre-cropped to 640×480
 * (default: the demo asset's ID photo, models/demo/reference.jpg: one face, so the face track carries as in a
 * session), the whole per-frame tracking latency (detect + landmarks + pose + eyes + quality + anti-spoof for the
 * largest face), the embed latency, and the process's peak RSS. Runs on the engine's default session tuning (1
 * thread, no spinning).
 *
 * The frame is held as a camera delivers it (tight I420; full range, the conversion costs the same in every encoding)
 * and every timed tracking call first converts it to RGB, as the session runner does on every frame: `trackingMs` and
 * `trackingHybrid*` include that conversion, `frame.i420ToRgbMs` is its median alone.
 *
 * `frame.modelSumMs` is what the tracking stage's model calls cost timed alone (detect + landmark + 2 × eye + pose
 * + liveness medians); `trackingMs − modelSumMs` is the rest: crops and tensor fills, decoding, NMS, quality, and
 * the models running back to back with colder caches than when timed alone.
 *
 * `frame.trackingHybridMs` (median, p90, mean) is the same stage over consecutive calls on one face tracker
 * (`engine.tracker()`), as a session runs it (face-track.ts): fr_pose on every 5th frame, landmark pose + offset on the others, the anti-spoof
 * model on alternate frames that do not run fr_pose, and the iris lid model on both eyes of every 5th frame that runs
 * neither (and on eyes the eye-state model reads closed: never on the bench's open-eyed face). A steady track repeats
 * P S L S · (fr_pose, anti-spoof, lids, neither) with the detector on the S after P and on ·, the other frames
 * carrying their box (face-track.ts DETECTOR): the median is the carried fr_pose frame, the p90 a detector anti-spoof
 * frame, the mean the sustained per-frame cost. `frame.trackingHybridFrames` gives the timed frames of each kind
 * (fr_pose, anti-spoof, lids, several, neither) with their median; `frame.trackingHybridByBox` splits them by where
 * the frame's box came from (`detector`, or `landmarks`: carried from the last detector box, the detector skipped).
 */
import { existsSync } from 'node:fs';
import { FULL_BT601, i420ToRgb, tightLayout } from '../camera/i420.ts';
import { DEMO_REFERENCE } from '../compose/demo/asset.ts';
import { UsageError } from '../lib/errors.ts';
import { FaceEngine } from '../vision/engine.ts';
import { coverResize, type RgbImage } from '../vision/image.ts';
import { readImageFile } from '../vision/image-file.ts';
import { quantile } from '../vision/metrics.ts';
import { runModel } from '../vision/run-model.ts';
import { type CommandContext, parseCommandArgs, writeJson } from './command.ts';

interface ModelBench {
  /** the deployed model (what the engine runs) */
  medianMs: number;
  p90Ms: number;
  /** the source model, same input; absent when its file has not been fetched (npm run models:sources) */
  fp32Ms?: number;
  variant: 'fp32' | 'int8' | 'source';
  bytes: number;
  fp32Bytes: number;
}

export const USAGE = `usage: regterm bench [--json] [--image FILE] [--iterations N] [--models-dir DIR]
Per model: median and p90 latency of the deployed model beside the source fp32 model (fp32Ms), at one thread; per
frame: tracking (detect + landmarks + eyes + pose + anti-spoof; modelSumMs = its model calls timed alone), the
same over consecutive frames of one face track (trackingHybridMs: fr_pose on every 5th frame, anti-spoof on
alternate frames without fr_pose, the iris lid model on every 5th frame running neither, the detector on 2
frames in 5, never beside fr_pose or the iris model: trackingHybridByBox) and embedding latency;
peak RSS. The image is scaled and centre-cropped to a 640x480 camera frame and held as I420: every tracking call
converts it to RGB first, as a session does (i420ToRgbMs alone). The default is the demo asset's one-face ID photo
(models/demo/reference.jpg, in a development install); on a terminal pass --image.`;

const BENCH_MODELS = ['detect', 'landmark', 'eye', 'pose', 'liveness', 'iris', 'feature', 'faceapi-resnet'];
/** The model calls of one tracked face (FaceEngine.analyzeFrame with maxFaces 1): the eye model runs once per eye. */
const TRACKING_CALLS: [string, number][] = [['detect', 1], ['landmark', 1], ['eye', 2], ['pose', 1], ['liveness', 1]];

export async function run(ctx: CommandContext): Promise<number> {
  const parsed = parseCommandArgs('bench', {
    args: ctx.argv,
    options: {
      json: { type: 'boolean', default: false },
      image: { type: 'string' },
      iterations: { type: 'string', default: '30' },
      'models-dir': { type: 'string' },
    },
  });
  const iterations = Number(parsed.values.iterations);
  if (!Number.isInteger(iterations) || iterations < 1) throw new UsageError('--iterations must be a positive integer');
  const source = parsed.values.image ?? DEMO_REFERENCE;
  if (!parsed.values.image && !existsSync(source)) throw new UsageError(`the default bench photo ${source} is missing; pass --image FILE`);
  const img = await coverResize(await readImageFile(source), 640, 480);
  const camera = cameraFrame(img);
  const engine = new FaceEngine({ modelsDir: parsed.values['models-dir'] });
  await engine.start();
  try {
    const models: Record<string, ModelBench> = {};
    for (const name of BENCH_MODELS) {
      if (!engine.registry.has(name)) continue;
      const m = await engine.registry.load(name);
      const input = new Float32Array(m.entry.input.shape.reduce((a, b) => a * b, 1)).fill(0.1);
      // an int8 build's source is fetched by `npm run models:sources` (the release ships it): without it, no fp32 column
      if (!existsSync(engine.registry.sourcePathOf(name))) {
        models[name] = { ...stats(await time(iterations, () => runModel(m, input))), variant: m.entry.deployed?.variant ?? 'source',
          bytes: m.entry.deployed?.bytes ?? m.entry.bytes, fp32Bytes: m.entry.bytes };
        continue;
      }
      const source = await engine.registry.loadSource(name);
      let deployedMs: number[];
      let fp32Ms: number[];
      try {
        [deployedMs, fp32Ms] = await timeTurns(iterations, () => runModel(m, input), () => runModel(source, input));
      } finally {
        await source.session.release();
      }
      const deployed = stats(deployedMs);
      const fp32 = stats(fp32Ms);
      models[name] = {
        ...deployed,
        fp32Ms: fp32.medianMs,
        variant: m.entry.deployed?.variant ?? 'source',
        bytes: m.entry.deployed?.bytes ?? m.entry.bytes,
        fp32Bytes: m.entry.bytes,
      };
    }
    const [face] = await engine.analyzeFrame(camera.toRgb(), { maxFaces: 1 });
    if (!face) throw new UsageError(`${source}: no face found in the 640x480 bench frame`);
    const toRgb = stats(await time(iterations, async () => camera.toRgb()));
    const tracking = stats(await time(iterations, () => engine.analyzeFrame(camera.toRgb(), { maxFaces: 1 })));
    const tracker = engine.tracker();
    const ran: FrameKind[] = [];
    const boxes: BoxSource[] = [];
    const hybridMs = await time(iterations, async () => {
      const [f] = await tracker.next(camera.toRgb(), { maxFaces: 1 });
      const costly = (['pose', 'antispoof', 'lids'] as const).filter((k) =>
        k === 'pose' ? f?.poseSource === 'model' : k === 'antispoof' ? f?.antispoof !== undefined : f?.lids !== undefined);
      ran.push(costly.length > 1 ? 'several' : (costly[0] ?? 'neither'));
      boxes.push(f?.boxSource ?? 'detector');
    });
    const kinds = byKind(ran.slice(1), hybridMs); // ran[0] is the untimed warm-up call
    const byBox = byKindAndBox(ran.slice(1), boxes.slice(1), hybridMs);
    const hybrid = stats(hybridMs);
    const embed = stats(await time(iterations, () => engine.embed(img, face)));
    const modelSumMs = round2(TRACKING_CALLS.reduce((sum, [name, calls]) => sum + (models[name]?.medianMs ?? 0) * calls, 0));
    const report = {
      image: source,
      width: img.width,
      height: img.height,
      iterations,
      models,
      frame: {
        trackingMs: tracking.medianMs,
        trackingP90Ms: tracking.p90Ms,
        trackingHybridMs: hybrid.medianMs,
        trackingHybridP90Ms: hybrid.p90Ms,
        trackingHybridMeanMs: round2(hybridMs.reduce((a, b) => a + b, 0) / hybridMs.length),
        trackingHybridFrames: kinds,
        trackingHybridByBox: byBox,
        modelSumMs,
        i420ToRgbMs: toRgb.medianMs,
        embedMs: embed.medianMs,
        embedP90Ms: embed.p90Ms,
      },
      peakRssMb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
    };
    if (parsed.values.json) writeJson(ctx.stdout, report);
    else {
      for (const [n, s] of Object.entries(models)) {
        ctx.stdout.write(`${n.padEnd(14)} ${s.variant.padEnd(6)} median ${s.medianMs} ms  p90 ${s.p90Ms} ms  (source fp32 ${s.fp32Ms === undefined ? 'not fetched: npm run models:sources' : `${s.fp32Ms} ms`})\n`);
      }
      ctx.stdout.write(
        `frame tracking ${report.frame.trackingMs} ms (models alone ${modelSumMs} ms, I420 to RGB ${toRgb.medianMs} ms), ` +
          `on a face track (frames by what ran: ${FRAME_KINDS.map((k) => `${kinds[k].frames} ${KIND_LABEL[k]}${kinds[k].frames ? ` ${kinds[k].medianMs} ms` : ''}`).join(', ')}) ` +
          `median ${hybrid.medianMs} ms p90 ${hybrid.p90Ms} ms ` +
          `mean ${report.frame.trackingHybridMeanMs} ms, embed ${report.frame.embedMs} ms, ` +
          `peak RSS ${report.peakRssMb} MB\n`,
      );
    }
    return 0;
  } finally {
    await engine.stop();
  }
}

type FrameKind = 'pose' | 'antispoof' | 'lids' | 'several' | 'neither';
const FRAME_KINDS: FrameKind[] = ['pose', 'antispoof', 'lids', 'several', 'neither'];
const KIND_LABEL: Record<FrameKind, string> = { pose: 'fr_pose', antispoof: 'anti-spoof', lids: 'iris lids', several: 'several', neither: 'neither' };

type BoxSource = 'detector' | 'landmarks';

/** The same grouping split by where the frame's box came from (the detector, or carried from the landmarks): `kind/source`. */
function byKindAndBox(ran: FrameKind[], boxes: BoxSource[], ms: number[]): Record<string, { frames: number; medianMs: number }> {
  const out: Record<string, { frames: number; medianMs: number }> = {};
  for (const k of FRAME_KINDS) {
    for (const b of ['detector', 'landmarks'] as const) {
      const mine = ms.filter((_, i) => ran[i] === k && boxes[i] === b);
      if (mine.length > 0) out[`${k}/${b}`] = { frames: mine.length, medianMs: stats(mine).medianMs };
    }
  }
  return out;
}

/** The timed frames of a face track grouped by which of fr_pose / anti-spoof / iris they ran: count and median latency. */
function byKind(ran: FrameKind[], ms: number[]): Record<FrameKind, { frames: number; medianMs?: number }> {
  const out = {} as Record<FrameKind, { frames: number; medianMs?: number }>;
  for (const k of FRAME_KINDS) {
    const mine = ms.filter((_, i) => ran[i] === k);
    out[k] = { frames: mine.length, ...(mine.length > 0 ? { medianMs: stats(mine).medianMs } : {}) };
  }
  return out;
}

/**
 * The bench frame as the camera delivers it: tight full-range BT.601 I420 (the inverse of i420ToRgb, chroma averaged
 * over each 2x2 block). `toRgb()` converts it into one reused buffer, as the session runner does per frame.
 */
function cameraFrame(img: RgbImage): { toRgb: () => RgbImage } {
  const { width, height, data } = img;
  const l = tightLayout(width, height);
  const yuv = new Uint8Array(l.frameBytes);
  for (let y = 0; y < height; y += 2) {
    for (let x = 0; x < width; x += 2) {
      let u = 0;
      let v = 0;
      let n = 0;
      for (let dy = 0; dy < 2 && y + dy < height; dy++) {
        for (let dx = 0; dx < 2 && x + dx < width; dx++) {
          const i = (y + dy) * width + x + dx;
          const [r, g, b] = [data[i * 3], data[i * 3 + 1], data[i * 3 + 2]];
          yuv[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
          u += -0.168736 * r - 0.331264 * g + 0.5 * b;
          v += 0.5 * r - 0.418688 * g - 0.081312 * b;
          n++;
        }
      }
      const c = (y >> 1) * l.uvStride + (x >> 1);
      yuv[l.uOffset + c] = Math.max(0, Math.min(255, Math.round(128 + u / n)));
      yuv[l.vOffset + c] = Math.max(0, Math.min(255, Math.round(128 + v / n)));
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  const frame = { width, height, data: yuv, encoding: FULL_BT601 };
  return { toRgb: () => ({ width, height, data: i420ToRgb(frame, rgb) }) };
}

async function time(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Time two calls taking turns, so load from other processes falls on both alike (one warm-up each). */
async function timeTurns(n: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number[], number[]]> {
  await a();
  await b();
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < n; i++) {
    let t0 = performance.now();
    await a();
    ta.push(performance.now() - t0);
    t0 = performance.now();
    await b();
    tb.push(performance.now() - t0);
  }
  return [ta, tb];
}

function stats(ms: number[]): { medianMs: number; p90Ms: number } {
  return { medianMs: round2(quantile(ms, 0.5)), p90Ms: round2(quantile(ms, 0.9)) };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
