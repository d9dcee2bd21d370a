/**
 * Study (issue #3, "detskip"): can a tracked stream skip the full-frame detector on K−1 of every K frames, taking the
 * primary face's box from the previous frames instead? Results and the decision: research/detskip.md.
 *   node --import tsx research/detskip-study.ts        (~75 s; DETSKIP_KS=2,3,4 DETSKIP_VARIANTS=bbox,hold,hold2)
 * The 13 annotated clips (test/hil/vision/pose-clips.ts: same list, order and halves) through the replay path
 * (recordingSignals: replay source, I420 -> RGB). Carry variants:
 *   bbox   the landmarks' bounding box mapped to the detector's box convention by a fixed transform (centre offset and
 *          size as medians of per-frame ratios, fitted on half A's detector frames; half B is held out);
 *   hold   the last detector box moved and scaled by the stable landmarks' (brows, nose, eyes) motion since that
 *          frame (landmark-box.ts: what ships; with K = 2 the previous frame's detector box as is);
 *   hold2  hold, plus a second landmark pass from the box moved by the frame's own first-pass landmarks.
 * Per frame the detector's largest face D and its landmarks L(D) are the reference; per variant and K a chain runs the
 * detector on every K-th frame of the clip and, on the others, predicts landmarks from the carried box (so errors may
 * compound across carried frames). Per carried frame: mean point error to L(D) over the 68 points in inter-ocular
 * units (eye centres of L(D)), the carried box's IoU with D, fr_eye's closed/open decision (0.3) flipped against the
 * one on L(D), and the position since the last detector frame (1 = the first carried frame). Frames where the
 * detector finds no face or a second face are counted. Numbers only: no pixels, no coordinates kept.
 */
import { join } from 'node:path';
import { createLogger } from '../src/lib/logger.ts';
import { faceDataRoot } from '../test/face-data.ts';
import { recordingSignals } from '../src/session/recording-signals.ts';
import { type Detection, Detector, boxArea, boxIou } from '../src/vision/detector.ts';
import { FaceEngine } from '../src/vision/engine.ts';
import type { RgbImage } from '../src/vision/image.ts';
import { EyeModel } from '../src/vision/eyes.ts';
import { LandmarkModel } from '../src/vision/landmarks.ts';
import { moveBox, stableFrame } from '../src/vision/landmark-box.ts';
import { median } from '../src/vision/metrics.ts';
import type { Box } from '../src/vision/warp.ts';
import { type ClipFile, clipFiles } from '../test/hil/vision/pose-clips.ts';
import { quantile } from '../scripts/models/measure.ts';

const KS = (process.env.DETSKIP_KS ?? '2,3,4').split(',').map(Number);
const logger = createLogger({ level: 'warn' });
const engine = new FaceEngine();
await engine.start();
const detector = new Detector(await engine.registry.load('detect'));
const landmarks = new LandmarkModel(await engine.registry.load('landmark'));
const eyes = new EyeModel(await engine.registry.load('eye'));
/** fr_eye's closed decision per eye (the blink policy's closedBelow 0.3) differs between two landmark sets: 0, 1 or 2 eyes */
async function eyeFlips(img: RgbImage, a: Float32Array, b: Float32Array): Promise<number> {
  const ea = await eyes.predict(img, a);
  const eb = await eyes.predict(img, b);
  return Number(ea.left < 0.3 !== eb.left < 0.3) + Number(ea.right < 0.3 !== eb.right < 0.3);
}
const data = faceDataRoot();

/** Runs `onImage` on every frame of the clip (through the replay path), analysing nothing else. */
async function eachFrame(clip: ClipFile, onImage: (img: RgbImage, i: number) => Promise<void>): Promise<void> {
  let i = 0;
  const visit: Pick<FaceEngine, 'tracker'> = {
    tracker: () => ({
      next: async (img: RgbImage) => {
        await onImage(img, i++);
        return [];
      },
      reset: () => {},
    }) as unknown as ReturnType<FaceEngine['tracker']>,
  };
  await recordingSignals(visit, join(data, clip.set, `${clip.name}.mp4`), logger);
}

const largest = (dets: Detection[]): Detection | undefined => [...dets].sort((a, b) => boxArea(b.box) - boxArea(a.box))[0];

/** Mean point distance between two 68-point sets over the reference's inter-ocular distance (eye centres). */
function pointError(a: Float32Array, ref: Float32Array): number {
  const eye = (from: number): [number, number] => {
    let x = 0;
    let y = 0;
    for (let k = from; k < from + 6; k++) {
      x += ref[2 * k];
      y += ref[2 * k + 1];
    }
    return [x / 6, y / 6];
  };
  const [rx, ry] = eye(36);
  const [lx, ly] = eye(42);
  const iod = Math.hypot(lx - rx, ly - ry);
  let sum = 0;
  for (let k = 0; k < 68; k++) sum += Math.hypot(a[2 * k] - ref[2 * k], a[2 * k + 1] - ref[2 * k + 1]);
  return sum / 68 / iod;
}

/** The 'bbox' variant's transform: detector box centre offset and size as fractions of the landmarks' bounding box. */
interface LandmarkBoxTransform { dx: number; dy: number; sw: number; sh: number }
function landmarkBounds(lm: Float32Array): Box {
  const xs = Array.from({ length: 68 }, (_, k) => lm[2 * k]);
  const ys = Array.from({ length: 68 }, (_, k) => lm[2 * k + 1]);
  return { x1: Math.min(...xs), y1: Math.min(...ys), x2: Math.max(...xs), y2: Math.max(...ys) };
}
function detectorBoxFrom(b: Box, t: LandmarkBoxTransform): Box {
  const w = b.x2 - b.x1;
  const h = b.y2 - b.y1;
  const cx = (b.x1 + b.x2) / 2 + t.dx * w;
  const cy = (b.y1 + b.y2) / 2 + t.dy * h;
  return { x1: cx - (t.sw * w) / 2, y1: cy - (t.sh * h) / 2, x2: cx + (t.sw * w) / 2, y2: cy + (t.sh * h) / 2 };
}

const clips = clipFiles(data);
// pass 1: the transform, on half A
const pairs: Array<{ lm: Box; det: Box }> = [];
for (const clip of clips.filter((c) => c.half === 'A')) {
  await eachFrame(clip, async (img) => {
    const d = largest(await detector.detect(img));
    if (d) pairs.push({ lm: landmarkBounds(await landmarks.predict(img, d.box)), det: d.box });
  });
}
const w = (b: Box): number => b.x2 - b.x1;
const h = (b: Box): number => b.y2 - b.y1;
const T: LandmarkBoxTransform = {
  dx: median(pairs.map((p) => ((p.det.x1 + p.det.x2) / 2 - (p.lm.x1 + p.lm.x2) / 2) / w(p.lm))),
  dy: median(pairs.map((p) => ((p.det.y1 + p.det.y2) / 2 - (p.lm.y1 + p.lm.y2) / 2) / h(p.lm))),
  sw: median(pairs.map((p) => w(p.det) / w(p.lm))),
  sh: median(pairs.map((p) => h(p.det) / h(p.lm))),
};
const derive = (lm: Float32Array): Box => detectorBoxFrom(landmarkBounds(lm), T);
console.log(`transform (half A, ${pairs.length} frames): ${JSON.stringify(T)}`);

// pass 2: chains per variant and K on every clip
/** 'hold' (what ships, landmark-box.ts): the last detector box moved and scaled by the stable points' motion since that frame (K = 2: the box as is) */
const held = (det: Box, anchor: Float32Array, prev: Float32Array): Box => moveBox(det, stableFrame(anchor), stableFrame(prev));
type Variant = 'bbox' | 'hold' | 'hold2';
const VARIANTS = (process.env.DETSKIP_VARIANTS ?? 'bbox,hold,hold2').split(',') as Variant[];
interface Row { v: Variant; k: number; pos: number; err: number; iou: number; flips: number; half: 'A' | 'B'; clip: string }
const rows: Row[] = [];
const selfErr: number[] = [];
let frames = 0;
let noFace = 0;
let twoFaces = 0;
let secondAppears = 0;
for (const clip of clips) {
  const chain = new Map<string, { lm?: Float32Array; anchor?: Float32Array; det?: Box; pos: number }>();
  for (const v of VARIANTS) for (const k of KS) chain.set(`${v} ${k}`, { pos: 0 });
  let prevCount = 0;
  await eachFrame(clip, async (img, i) => {
    frames++;
    const dets = await detector.detect(img);
    const d = largest(dets);
    if (dets.length >= 2) twoFaces++;
    if (dets.length >= 2 && prevCount < 2) secondAppears++;
    prevCount = dets.length;
    if (!d) noFace++;
    const ref = d ? await landmarks.predict(img, d.box) : undefined;
    if (ref) selfErr.push(pointError(await landmarks.predict(img, derive(ref)), ref));
    for (const v of VARIANTS) {
      for (const k of KS) {
        const c = chain.get(`${v} ${k}`)!;
        if (i % k === 0 || c.lm === undefined || c.anchor === undefined || c.det === undefined) {
          c.lm = ref;
          c.anchor = ref;
          c.det = d?.box;
          c.pos = 0;
          continue;
        }
        let box = v === 'bbox' ? derive(c.lm) : held(c.det, c.anchor, c.lm);
        let lm = await landmarks.predict(img, box);
        if (v === 'hold2') {
          // a second landmark pass from the box moved by this frame's own motion (one more fr_landmark call)
          box = held(c.det, c.anchor, lm);
          lm = await landmarks.predict(img, box);
        }
        c.pos++;
        if (ref && d) {
          rows.push({ v, k, pos: c.pos, err: pointError(lm, ref), iou: boxIou(box, d.box), flips: await eyeFlips(img, lm, ref), half: clip.half, clip: clip.name });
        }
        c.lm = lm;
      }
    }
  });
}
await engine.stop();

const f3 = (x: number): string => x.toFixed(3);
const summary = (rs: Row[]): string => {
  const e = rs.map((r) => r.err);
  const u = rs.map((r) => r.iou);
  return `n ${rs.length}  err median ${f3(quantile(e, 0.5))} p90 ${f3(quantile(e, 0.9))} p99 ${f3(quantile(e, 0.99))} max ${f3(Math.max(...e))}  ` +
    `IoU(D) median ${f3(quantile(u, 0.5))} p1 ${f3(quantile(u, 0.01))} min ${f3(Math.min(...u))}  ` +
    `eye closed/open flips ${rs.reduce((n, r) => n + r.flips, 0)} of ${2 * rs.length} eye readings`;
};
console.log(`frames ${frames}; no face ${noFace}; >= 2 faces ${twoFaces} (a second face appearing: ${secondAppears})`);
console.log(`same frame, landmarks from T(bbox(L(D))) vs L(D): n ${selfErr.length} median ${f3(quantile(selfErr, 0.5))} p99 ${f3(quantile(selfErr, 0.99))}`);
for (const v of VARIANTS) {
  for (const k of KS) {
    const mine = rows.filter((r) => r.v === v && r.k === k);
    console.log(`${v} K=${k} all: ${summary(mine)}`);
    console.log(`${v} K=${k} half B (held out from the fit): ${summary(mine.filter((r) => r.half === 'B'))}`);
    for (let pos = 1; pos < k; pos++) console.log(`${v} K=${k} position ${pos}: ${summary(mine.filter((r) => r.pos === pos))}`);
  }
  const perClip = [...new Set(rows.map((r) => r.clip))].map((clip) => {
    const mine = rows.filter((r) => r.v === v && r.k === 2 && r.clip === clip);
    const e = mine.map((r) => r.err);
    return `${clip} ${f3(quantile(e, 0.5))}/${f3(quantile(e, 0.99))} flips ${mine.reduce((n, r) => n + r.flips, 0)}`;
  });
  console.log(`${v} K=2 per clip (err median/p99, eye flips): ${perClip.join(', ')}`);
}
