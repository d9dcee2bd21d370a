/**
 * Face detector (fr_detect: the Ultra-Light-Fast-Generic-Face-Detector RFB-320 layout, 320×240 input, 4420 priors).
 * The exported graph already decodes its priors (min sizes [[10,16,24],[32,48],[64,96],[128,192,256]], steps
 * [8,16,32,64], variances [0.1,0.2]): `boxes` are corner-form (x1,y1,x2,y2) fractions of the input, `scores` are
 * softmaxed (background, face). The package's JS computes a prior decode and then discards it for the same reason.
 * We add what it lacks: greedy NMS that keeps the best-scoring box, and boxes in source-image coordinates.
 */
import type { RgbImage } from './image.ts';
import { param } from './manifest.ts';
import type { LoadedModel } from './model-registry.ts';
import { runModel } from './run-model.ts';
import { type Box, cropMap, warpToTensor } from './warp.ts';

export interface Detection {
  box: Box;
  score: number;
}

export interface DetectorOptions {
  scoreThreshold?: number;
  nmsIou?: number;
  topK?: number;
}

export class Detector {
  private readonly model: LoadedModel;
  private readonly input: Float32Array;
  private readonly width: number;
  private readonly height: number;
  private readonly scoreThreshold: number;
  private readonly nmsIou: number;
  private readonly topK: number;

  constructor(model: LoadedModel, opts: DetectorOptions = {}) {
    this.model = model;
    const [, , h, w] = model.entry.input.shape;
    this.width = w;
    this.height = h;
    this.input = new Float32Array(3 * w * h);
    this.scoreThreshold = opts.scoreThreshold ?? param(model.entry, 'scoreThreshold', 0.65);
    this.nmsIou = opts.nmsIou ?? param(model.entry, 'nmsIou', 0.4);
    this.topK = opts.topK ?? param(model.entry, 'topK', 750);
  }

  /** Zero the reusable input buffer (it holds the last frame or face crop); the session shell calls it when a session ends. */
  wipe(): void {
    this.input.fill(0);
  }

  /** Faces in `img`, best score first, boxes in `img` pixel coordinates (may extend past the edges). */
  async detect(img: RgbImage): Promise<Detection[]> {
    const whole = { x1: 0, y1: 0, x2: img.width, y2: img.height };
    warpToTensor(img, cropMap(whole, this.width, this.height), this.width, this.height, this.model.entry.input, this.input);
    const out = await runModel(this.model, this.input);
    const scores = out.scores;
    const boxes = out.boxes;
    const n = scores.length / 2;
    const candidates: Detection[] = [];
    for (let i = 0; i < n; i++) {
      const s = scores[2 * i + 1];
      if (s < this.scoreThreshold) continue;
      candidates.push({
        score: s,
        box: {
          x1: boxes[4 * i] * img.width,
          y1: boxes[4 * i + 1] * img.height,
          x2: boxes[4 * i + 2] * img.width,
          y2: boxes[4 * i + 3] * img.height,
        },
      });
    }
    candidates.sort((a, b) => b.score - a.score);
    return nms(candidates.slice(0, this.topK), this.nmsIou);
  }
}

/** Greedy non-maximum suppression: walk best-first, keep a box unless it overlaps a kept one by more than `iou`. */
export function nms(sorted: readonly Detection[], iou: number): Detection[] {
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (d.box.x2 <= d.box.x1 || d.box.y2 <= d.box.y1) continue;
    if (kept.every((k) => boxIou(k.box, d.box) <= iou)) kept.push(d);
  }
  return kept;
}

export function boxIou(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter);
}

export function boxArea(b: Box): number {
  return Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
}

/** Detections largest first, in place: a frame's primary face is its largest. */
export function largestFirst(dets: Detection[]): Detection[] {
  return dets.sort((a, b) => boxArea(b.box) - boxArea(a.box));
}
