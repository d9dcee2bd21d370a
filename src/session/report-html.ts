import sharp from 'sharp';
import type { ClipEvent } from './detectors/events-only.ts';
import type { AnalysedFrame, ProgressEvent } from './runner.ts';
import { TraceCollector, type TraceThresholds } from './trace.ts';
import { renderReport, type KeyFrame, type ReportSummary } from './report-svg.ts';

export type { ReportSummary };

/**
 * The `regterm replay --report` page: the session's trace rendered by report-svg.ts, plus thumbnails of key frames
 * with the face box and landmarks.
 * DEBUG ARTEFACT: the thumbnails are faces. It is written only when an engineer asks for it with --report; nothing
 * else in regterm writes face pixels to disk. The collector's thumbnail buffers are zeroed after rendering.
 */
const THUMB = 112;
const THUMB_EVERY_MS = 400;
const MAX_THUMBS = 12;

interface Thumb { tS: number; rgb: Uint8Array; box: number[]; points: number[] }

/**
 * The replay report's collector: the numeric trace (trace.ts) plus, every THUMB_EVERY_MS, a small crop of the face
 * kept in memory for the key-frame strip. A session trace kept by the agent has no thumbnails and renders without them.
 */
export class ReportCollector {
  readonly trace: TraceCollector;
  private readonly thumbs: Thumb[] = [];
  private lastThumbMs = -Infinity;

  constructor(thresholds: TraceThresholds = {}) {
    this.trace = new TraceCollector(thresholds);
  }

  /** Runner `onFrame` hook; `t0Ms` as in TraceCollector.frame. */
  frame(f: AnalysedFrame, t0Ms = 0): void {
    this.trace.frame(f, t0Ms);
    const face = f.faces[0];
    if (!face || f.tsMs - this.lastThumbMs < THUMB_EVERY_MS) return;
    this.lastThumbMs = f.tsMs;
    this.thumbs.push(cropThumb(f, face.box, face.landmarks68, (f.tsMs - t0Ms) / 1000));
  }

  /** Runner `onProgress` hook: prompts, states and challenge events for the timeline. */
  progress(e: ProgressEvent): void {
    this.trace.progress(e);
  }

  async render(summary: ReportSummary, events: readonly ClipEvent[]): Promise<string> {
    try {
      const trace = this.trace.trace();
      const keys = pickKeyFrames(this.thumbs, [...events.map((e) => e.startS), ...trace.marks.map((m) => m.tS)]);
      const frames: KeyFrame[] = await Promise.all(keys.map(async (k) => ({ tS: k.tS, uri: await jpegUri(k.rgb), box: k.box, points: k.points, size: THUMB })));
      return renderReport(summary, trace, events, frames);
    } finally {
      for (const t of this.thumbs) t.rgb.fill(0);
    }
  }
}

function cropThumb(f: AnalysedFrame, box: { x1: number; y1: number; x2: number; y2: number }, lm: Float32Array, tS: number): Thumb {
  const { width, height, data } = f.image;
  const cx = (box.x1 + box.x2) / 2;
  const cy = (box.y1 + box.y2) / 2;
  const side = Math.max(box.x2 - box.x1, box.y2 - box.y1) * 1.6;
  const x0 = cx - side / 2;
  const y0 = cy - side / 2;
  const k = side / THUMB;
  const rgb = new Uint8Array(THUMB * THUMB * 3);
  for (let y = 0; y < THUMB; y++) {
    const sy = Math.floor(y0 + y * k);
    if (sy < 0 || sy >= height) continue;
    for (let x = 0; x < THUMB; x++) {
      const sx = Math.floor(x0 + x * k);
      if (sx < 0 || sx >= width) continue;
      const si = (sy * width + sx) * 3;
      const di = (y * THUMB + x) * 3;
      rgb[di] = data[si];
      rgb[di + 1] = data[si + 1];
      rgb[di + 2] = data[si + 2];
    }
  }
  const map = (px: number, py: number): number[] => [(px - x0) / k, (py - y0) / k];
  const points: number[] = [];
  for (let i = 0; i + 1 < lm.length; i += 2) points.push(...map(lm[i], lm[i + 1]));
  return { tS, rgb, box: [...map(box.x1, box.y1), ...map(box.x2, box.y2)], points };
}

/** Thumbnails nearest to the key moments (events, prompts), then evenly spaced ones, at most MAX_THUMBS, by time. */
function pickKeyFrames(thumbs: Thumb[], moments: number[]): Thumb[] {
  const chosen = new Set<Thumb>();
  for (const m of moments) {
    if (chosen.size >= MAX_THUMBS) break;
    let best: Thumb | undefined;
    for (const t of thumbs) if (t.tS >= m && (!best || t.tS < best.tS)) best = t;
    if (best) chosen.add(best);
  }
  const step = Math.max(1, Math.floor(thumbs.length / 4));
  for (let i = 0; i < thumbs.length && chosen.size < MAX_THUMBS; i += step) chosen.add(thumbs[i]);
  return [...chosen].sort((a, b) => a.tS - b.tS);
}

async function jpegUri(rgb: Uint8Array): Promise<string> {
  const buf = await sharp(rgb, { raw: { width: THUMB, height: THUMB, channels: 3 } }).jpeg({ quality: 80 }).toBuffer();
  const uri = `data:image/jpeg;base64,${buf.toString('base64')}`;
  buf.fill(0);
  return uri;
}

