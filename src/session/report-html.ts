import sharp from 'sharp';
import type { ClipEvent } from './detectors/events-only.ts';
import type { AnalysedFrame, ProgressEvent } from './runner.ts';

/**
 * The `regterm replay --report` page: a self-contained HTML file (inline SVG and JPEG data URIs, no network) with a
 * timeline of yaw, eye openness, anti-spoof score and face luminance, the prompts and detected events, and
 * thumbnails of key frames with the face box and landmarks.
 * DEBUG ARTEFACT: the thumbnails are faces. It is written only when an engineer asks for it with --report; nothing
 * else in regterm writes face pixels to disk. The collector's thumbnail buffers are zeroed after rendering.
 */
const THUMB = 112;
const THUMB_EVERY_MS = 400;
const MAX_THUMBS = 12;

/**
 * One frame on the timeline; a face frame without `antispoof` was not scored, one without `lids` had no lid reading
 * (the line joins its neighbours). `lids` = the more open of the eyes the iris model measured, relative to open.
 */
interface Point { tS: number; faces: number; yaw?: number; eyes?: number; lids?: number; antispoof?: number; luma?: number }
type Lane = 'yaw' | 'eyes' | 'lids' | 'antispoof' | 'luma';
interface Thumb { tS: number; rgb: Uint8Array; box: number[]; points: number[] }

export interface ReportSummary {
  title: string;
  result?: Record<string, unknown>;
  notes: string[];
}

export class ReportCollector {
  private readonly points: Point[] = [];
  private readonly thumbs: Thumb[] = [];
  private readonly prompts: Array<{ tS: number; label: string }> = [];
  private lastThumbMs = -Infinity;

  /** Runner `onFrame` hook: keeps the signals and, every THUMB_EVERY_MS, a small crop of the face (in memory). */
  frame(f: AnalysedFrame, t0Ms = 0): void {
    const face = f.faces[0];
    const s = f.signals.face;
    const tS = (f.tsMs - t0Ms) / 1000;
    const lids = s ? [s.leftLidOpen, s.rightLidOpen].filter((v): v is number => v !== undefined) : [];
    this.points.push(s
      ? {
        tS, faces: f.faces.length, yaw: s.yawDeg, eyes: Math.max(s.leftEyeOpen, s.rightEyeOpen), luma: s.faceLuma,
        ...(s.antispoof === undefined ? {} : { antispoof: s.antispoof }),
        ...(lids.length > 0 ? { lids: Math.max(...lids) } : {}),
      }
      : { tS, faces: f.faces.length });
    if (!face || f.tsMs - this.lastThumbMs < THUMB_EVERY_MS) return;
    this.lastThumbMs = f.tsMs;
    this.thumbs.push(cropThumb(f, face.box, face.landmarks68, tS));
  }

  /** Runner `onProgress` hook: prompts and challenge events for the timeline. */
  progress(e: ProgressEvent): void {
    if (e.event === 'prompt' && e.prompt) this.prompts.push({ tS: e.atMs / 1000, label: e.prompt });
    else if (e.event.startsWith('challenge_')) this.prompts.push({ tS: e.atMs / 1000, label: `${e.event.slice(10)} ${e.detail?.challenge ?? ''}` });
  }

  async render(summary: ReportSummary, events: readonly ClipEvent[]): Promise<string> {
    try {
      const keys = pickKeyFrames(this.thumbs, [...events.map((e) => e.startS), ...this.prompts.map((p) => p.tS)]);
      const imgs = await Promise.all(keys.map(async (k) => ({ k, uri: await jpegUri(k.rgb) })));
      return page(summary, this.points, this.prompts, events, imgs);
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

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const W = 960;
const H = 90;

function series(points: Point[], key: Lane, lo: number, hi: number, x: (t: number) => number): string {
  const segs: string[] = [];
  let cur: string[] = [];
  for (const p of points) {
    const v = p[key];
    // a face without this value (anti-spoof or lids on a frame the track did not run them) is skipped; no face breaks the line
    if (v === undefined && p.faces > 0) continue;
    if (v === undefined) {
      if (cur.length) segs.push(cur.join(' '));
      cur = [];
      continue;
    }
    const y = H - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * H;
    cur.push(`${x(p.tS).toFixed(1)},${y.toFixed(1)}`);
  }
  if (cur.length) segs.push(cur.join(' '));
  return segs.map((s) => `<polyline fill="none" stroke="#1565c0" stroke-width="1.2" points="${s}"/>`).join('');
}

function page(
  summary: ReportSummary, points: Point[], prompts: Array<{ tS: number; label: string }>, events: readonly ClipEvent[],
  imgs: Array<{ k: Thumb; uri: string }>,
): string {
  const end = Math.max(1, ...points.map((p) => p.tS), ...events.map((e) => e.endS), ...prompts.map((p) => p.tS));
  const x = (t: number): number => (t / end) * W;
  const lanes: Array<[Lane, string, number, number]> = [
    ['yaw', 'yaw (deg, + = image right)', -45, 45], ['eyes', 'eye openness (more open eye)', 0, 1],
    ['lids', 'lid opening, iris model (more open measured eye, 1 = its usual open level)', 0, 1.2],
    ['antispoof', 'anti-spoof score', 0, 1], ['luma', 'face luminance (light challenge input)', 0, 255],
  ];
  const marks = [
    ...events.map((e) => `<rect class="event" x="${x(e.startS).toFixed(1)}" y="0" width="${Math.max(1, x(e.endS) - x(e.startS)).toFixed(1)}" height="${H}" fill="${e.type === 'blink' ? '#ffb300' : '#43a047'}" opacity="0.35"><title>${e.type} ${e.startS}-${e.endS} s</title></rect>`),
    ...prompts.map((p) => `<line x1="${x(p.tS).toFixed(1)}" x2="${x(p.tS).toFixed(1)}" y1="0" y2="${H}" stroke="#c62828" stroke-dasharray="3 2"><title>${esc(p.label)} @ ${p.tS.toFixed(2)} s</title></line>`),
  ].join('');
  const svgs = lanes.map(([key, label, lo, hi]) => `<h3>${esc(label)}</h3><svg class="lane" data-series="${key}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">` +
    `<rect width="${W}" height="${H}" fill="#fafafa" stroke="#ccc"/>${marks}${series(points, key, lo, hi, x)}</svg>`).join('\n');
  const thumbs = imgs.map(({ k, uri }) => `<figure><svg width="${THUMB * 1.5}" height="${THUMB * 1.5}" viewBox="0 0 ${THUMB} ${THUMB}">` +
    `<image href="${uri}" width="${THUMB}" height="${THUMB}"/><rect x="${k.box[0].toFixed(1)}" y="${k.box[1].toFixed(1)}" width="${(k.box[2] - k.box[0]).toFixed(1)}" height="${(k.box[3] - k.box[1]).toFixed(1)}" fill="none" stroke="#00e676"/>` +
    Array.from({ length: k.points.length / 2 }, (_, i) => `<circle cx="${k.points[2 * i].toFixed(1)}" cy="${k.points[2 * i + 1].toFixed(1)}" r="0.8" fill="#ff1744"/>`).join('') +
    `</svg><figcaption>${k.tS.toFixed(2)} s</figcaption></figure>`).join('');
  const rows = events.map((e) => `<tr><td>${e.type}</td><td>${e.startS.toFixed(2)}</td><td>${e.endS.toFixed(2)}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(summary.title)}</title>
<style>body{font:14px sans-serif;margin:16px}h3{margin:8px 0 2px;font-size:13px}figure{display:inline-block;margin:4px}
.warn{background:#fff3e0;padding:6px}pre{background:#f5f5f5;padding:8px}</style></head><body>
<h1>${esc(summary.title)}</h1>
<p class="warn">Debug artefact: contains face thumbnails. Delete it when done; never attach it to tickets outside the project.</p>
${summary.notes.map((n) => `<p>${esc(n)}</p>`).join('')}
${summary.result ? `<h2>Decision</h2><pre id="result">${esc(JSON.stringify(summary.result, null, 2))}</pre>` : ''}
<h2>Timeline (0-${end.toFixed(1)} s; dashed red = prompts and challenge events, shaded = detected blinks (amber) and turns (green))</h2>
<div id="timeline">${svgs}</div>
<h2>Detected events</h2><table id="events"><tr><th>type</th><th>start s</th><th>end s</th></tr>${rows}</table>
<h2>Key frames</h2><div id="keyframes">${thumbs}</div>
<script>document.body.dataset.lanes=String(document.querySelectorAll('#timeline svg.lane polyline').length);document.body.dataset.ready='ok';</script>
</body></html>
`;
}
