import type { ClipEvent } from './detectors/events-only.ts';
import type { SessionTrace, TracePoint } from './trace.ts';

/**
 * Renders a session trace (trace.ts) as a self-contained HTML page (inline SVG, no network, no script from outside):
 * one lane per signal with axes and the thresholds it is read against, phase bands, challenge windows shaded by
 * outcome, prompt labels written out, detected events, a legend, and optional key-frame thumbnails (replay only).
 * `regterm replay --report` and `regterm trace --report` both use it.
 */
export interface KeyFrame {
  tS: number;
  /** a data: URI of the thumbnail */
  uri: string;
  /** face box and landmarks in thumbnail pixels */
  box: number[];
  points: number[];
  size: number;
}

export interface ReportSummary {
  title: string;
  result?: Record<string, unknown>;
  notes: string[];
}

type Lane = 'yaw' | 'eyes' | 'lids' | 'antispoof' | 'luma';
interface LaneSpec { key: Lane; label: string; lo: number; hi: number; thresholds: Array<{ v: number; label: string }> }

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const LEFT = 64;
const PLOT_W = 900;
const W = LEFT + PLOT_W + 16;
const LANE_H = 90;
const AXIS_H = 18;
const TOP_PAD = 6;
const COLORS = {
  signal: '#1565c0', threshold: '#d500f9', prompt: '#c62828', passed: '#43a047', failed: '#e53935', blink: '#ffb300',
  turn: '#00897b', led: '#fdd835', phase: ['#eceff1', '#e3f2fd', '#fff8e1', '#f3e5f5', '#e8f5e9'],
};

/** A tick step of 1, 2 or 5 × 10^n giving about `target` ticks over `span`. */
function niceStep(span: number, target: number): number {
  const raw = span / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

/** Luminance is plotted over the session's own range: on 0..255 a light challenge's few levels would be flat. */
function lumaRange(points: readonly TracePoint[]): [number, number] {
  const values = points.map((p) => p.luma).filter((v): v is number => v !== undefined);
  if (values.length === 0) return [0, 255];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = Math.max(1, (hi - lo) * 0.1);
  return [Math.floor(lo - pad), Math.ceil(hi + pad)];
}

function lanes(trace: SessionTrace): LaneSpec[] {
  const t = trace.thresholds;
  const [lumaLo, lumaHi] = lumaRange(trace.points);
  return [
    { key: 'yaw', label: 'yaw (deg, + = image right)', lo: -45, hi: 45,
      thresholds: t.turnDeg === undefined ? [] : [{ v: t.turnDeg, label: `turn +${t.turnDeg}° (from frontal)` }, { v: -t.turnDeg, label: `turn −${t.turnDeg}°` }] },
    { key: 'eyes', label: 'eye openness (more open eye)', lo: 0, hi: 1,
      thresholds: t.eyeClosedBelow === undefined ? [] : [{ v: t.eyeClosedBelow, label: `closed below ${t.eyeClosedBelow}` }] },
    { key: 'lids', label: 'lid opening, iris model (1 = the eye’s usual opening)', lo: 0, hi: 1.2,
      thresholds: t.lidOpenAbove === undefined ? [] : [{ v: t.lidOpenAbove, label: `open above ${t.lidOpenAbove}` }] },
    { key: 'antispoof', label: 'anti-spoof score', lo: 0, hi: 1,
      thresholds: t.antispoof === undefined ? [] : [{ v: t.antispoof, label: `spoof below ${t.antispoof}` }] },
    { key: 'luma', label: `face luminance (${lumaLo}–${lumaHi} of 0–255; the light challenge’s input)`, lo: lumaLo, hi: lumaHi, thresholds: [] },
  ];
}

interface Window { from: number; to: number; label: string; cls: 'passed' | 'failed' | 'open' }

/** Challenge windows (started → passed/failed) and phase bands (state → next state) from the trace's marks. */
function windows(trace: SessionTrace, end: number): { challenges: Window[]; phases: Array<{ from: number; to: number; state: string }> } {
  const challenges: Window[] = [];
  let open: { from: number; label: string } | undefined;
  const phases: Array<{ from: number; to: number; state: string }> = [];
  for (const m of trace.marks) {
    if (m.kind === 'challenge_started') open = { from: m.tS, label: m.label };
    else if ((m.kind === 'challenge_passed' || m.kind === 'challenge_failed') && open) {
      challenges.push({ from: open.from, to: m.tS, label: open.label, cls: m.kind === 'challenge_passed' ? 'passed' : 'failed' });
      open = undefined;
    } else if (m.kind === 'state') {
      const last = phases.at(-1);
      if (last) last.to = m.tS;
      phases.push({ from: m.tS, to: end, state: m.label });
    }
  }
  if (open) challenges.push({ from: open.from, to: end, label: open.label, cls: 'open' });
  return { challenges, phases };
}

function polyline(points: readonly TracePoint[], key: Lane, lo: number, hi: number, x: (t: number) => number): string {
  const segs: string[] = [];
  let cur: string[] = [];
  for (const p of points) {
    const v = p[key];
    // a face frame without this value (not scored / not measured) is skipped; a frame without a face breaks the line
    if (v === undefined && p.faces > 0) continue;
    if (v === undefined) {
      if (cur.length) segs.push(cur.join(' '));
      cur = [];
      continue;
    }
    const y = LANE_H - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * LANE_H;
    cur.push(`${x(p.tS).toFixed(1)},${y.toFixed(1)}`);
  }
  if (cur.length) segs.push(cur.join(' '));
  return segs.map((s) => `<polyline fill="none" stroke="${COLORS.signal}" stroke-width="1.2" points="${s}"/>`).join('');
}

function xAxis(end: number, x: (t: number) => number, y: number, withLabels: boolean): string {
  const step = niceStep(end, 10);
  const out: string[] = [];
  for (let t = 0; t <= end + 1e-9; t += step) {
    const px = x(t).toFixed(1);
    out.push(`<line x1="${px}" x2="${px}" y1="0" y2="${y}" stroke="#e0e0e0"/>`);
    if (withLabels) out.push(`<text class="tick" x="${px}" y="${y + 13}" text-anchor="middle">${Number(t.toFixed(2))} s</text>`);
  }
  return out.join('');
}

/** The LED chips that were on, as bands behind the luminance lane: the face's luminance should follow them. */
function lightBands(trace: SessionTrace, x: (t: number) => number): string {
  const l = trace.light;
  if (!l) return '';
  return [...l.chips].map((c, i) => (c === '1'
    ? `<rect class="led-on" x="${x(l.startS + (i * l.chipMs) / 1000).toFixed(1)}" y="0" width="${Math.max(1, x(l.chipMs / 1000) - x(0)).toFixed(1)}" height="${LANE_H}" fill="${COLORS.led}" opacity="0.35"/>`
    : '')).join('');
}

function laneSvg(spec: LaneSpec, trace: SessionTrace, end: number, shade: string): string {
  const x = (t: number): number => LEFT + (t / end) * PLOT_W;
  if (spec.key === 'luma') shade += lightBands(trace, x);
  const y = (v: number): number => LANE_H - ((v - spec.lo) / (spec.hi - spec.lo)) * LANE_H;
  const ticks = [spec.lo, (spec.lo + spec.hi) / 2, spec.hi].map((v) =>
    `<text class="tick" x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Number(v.toFixed(2))}</text>`).join('');
  const thresholds = spec.thresholds.filter((t) => t.v >= spec.lo && t.v <= spec.hi).map((t) =>
    `<line class="threshold" data-value="${t.v}" x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${y(t.v).toFixed(1)}" y2="${y(t.v).toFixed(1)}" stroke="${COLORS.threshold}" stroke-width="2" stroke-dasharray="6 3"/>` +
    `<text class="threshold-label" x="${LEFT + PLOT_W - 4}" y="${(y(t.v) - 4).toFixed(1)}" text-anchor="end" fill="${COLORS.threshold}">${esc(t.label)}</text>`).join('');
  // the plot starts TOP_PAD down so the top tick label is not cut
  return `<h3>${esc(spec.label)}</h3><svg class="lane" data-series="${spec.key}" width="${W}" height="${TOP_PAD + LANE_H + AXIS_H}" viewBox="0 0 ${W} ${TOP_PAD + LANE_H + AXIS_H}"><g transform="translate(0,${TOP_PAD})">` +
    `<rect x="${LEFT}" width="${PLOT_W}" height="${LANE_H}" fill="#fafafa" stroke="#bdbdbd"/>${shade}${xAxis(end, x, LANE_H, true)}${ticks}` +
    `${thresholds}${polyline(trace.points, spec.key, spec.lo, spec.hi, x)}</g></svg>`;
}

/**
 * Prompt labels written out in up to PROMPT_ROWS staggered rows. A label that fits in no row (prompts seconds apart
 * during the quality gate) keeps its line and says its text on hover only, rather than overprinting its neighbours.
 */
const PROMPT_ROWS = 4;
const CHAR_PX = 6.5;

function promptLane(trace: SessionTrace, end: number): string {
  const x = (t: number): number => LEFT + (t / end) * PLOT_W;
  const height = 8 + PROMPT_ROWS * 15;
  const rowEnds: number[] = Array(PROMPT_ROWS).fill(-Infinity);
  const items = trace.marks.filter((m) => m.kind === 'prompt').map((m) => {
    const px = x(m.tS);
    const text = `${m.label} ${m.tS.toFixed(2)} s`;
    const line = `<line x1="${px.toFixed(1)}" x2="${px.toFixed(1)}" y1="0" y2="${height}" stroke="${COLORS.prompt}" stroke-dasharray="3 2"><title>${esc(text)}</title></line>`;
    const row = rowEnds.findIndex((e) => e + 4 < px);
    if (row < 0) return line;
    rowEnds[row] = px + 3 + CHAR_PX * text.length;
    return `${line}<text class="prompt-label" x="${(px + 3).toFixed(1)}" y="${12 + row * 15}" fill="${COLORS.prompt}">${esc(text)}</text>`;
  });
  return `<svg class="prompts" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}"><text class="tick" x="${LEFT - 6}" y="12" text-anchor="end">prompts</text>${items.join('')}</svg>`;
}

function phaseLane(phases: Array<{ from: number; to: number; state: string }>, challenges: Window[], end: number): string {
  const x = (t: number): number => LEFT + (t / end) * PLOT_W;
  const bands = phases.map((p, i) => `<rect class="phase" x="${x(p.from).toFixed(1)}" y="0" width="${Math.max(1, x(p.to) - x(p.from)).toFixed(1)}" height="20" fill="${COLORS.phase[i % COLORS.phase.length]}" stroke="#9e9e9e"/>` +
    `<text class="phase-label" x="${(x(p.from) + 3).toFixed(1)}" y="14">${esc(p.state)}</text>`).join('');
  const wins = challenges.map((c) => `<rect class="challenge ${c.cls}" x="${x(c.from).toFixed(1)}" y="24" width="${Math.max(1, x(c.to) - x(c.from)).toFixed(1)}" height="20" fill="${c.cls === 'failed' ? COLORS.failed : COLORS.passed}" opacity="${c.cls === 'open' ? 0.15 : 0.35}"/>` +
    `<text class="challenge-label" x="${(x(c.from) + 3).toFixed(1)}" y="38">${esc(c.label)} ${c.cls === 'passed' ? '✓' : c.cls === 'failed' ? '✗' : '…'}</text>`).join('');
  return `<svg class="phases" width="${W}" height="48" viewBox="0 0 ${W} 48"><text class="tick" x="${LEFT - 6}" y="14" text-anchor="end">phase</text>` +
    `<text class="tick" x="${LEFT - 6}" y="38" text-anchor="end">challenge</text>${bands}${wins}</svg>`;
}

function legend(): string {
  const item = (swatch: string, text: string): string => `<span class="item">${swatch}${esc(text)}</span>`;
  const line = (color: string, dash = ''): string => `<svg width="22" height="10"><line x1="0" x2="22" y1="5" y2="5" stroke="${color}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''}/></svg>`;
  const box = (color: string, opacity: number): string => `<svg width="16" height="10"><rect width="16" height="10" fill="${color}" opacity="${opacity}"/></svg>`;
  return `<div id="legend">${[
    item(line(COLORS.signal), 'signal'), item(line(COLORS.threshold, '6 3'), 'threshold the signal is read against'),
    item(line(COLORS.prompt, '3 2'), 'prompt shown'), item(box(COLORS.passed, 0.35), 'challenge passed'),
    item(box(COLORS.failed, 0.35), 'challenge failed'), item(box(COLORS.blink, 0.35), 'detected blink'),
    item(box(COLORS.turn, 0.35), 'detected turn'), item(box(COLORS.led, 0.35), 'LEDs on (light challenge)'),
  ].join('')}</div>`;
}

export function renderReport(summary: ReportSummary, trace: SessionTrace, events: readonly ClipEvent[], keyFrames: readonly KeyFrame[] = []): string {
  const end = Math.max(1, ...trace.points.map((p) => p.tS), ...events.map((e) => e.endS), ...trace.marks.map((m) => m.tS));
  const x = (t: number): number => LEFT + (t / end) * PLOT_W;
  const { challenges, phases } = windows(trace, end);
  const shade = [
    ...challenges.filter((c) => c.cls !== 'open').map((c) => `<rect class="window ${c.cls}" x="${x(c.from).toFixed(1)}" y="0" width="${Math.max(1, x(c.to) - x(c.from)).toFixed(1)}" height="${LANE_H}" fill="${c.cls === 'passed' ? COLORS.passed : COLORS.failed}" opacity="0.12"/>`),
    ...events.map((e) => `<rect class="event" x="${x(e.startS).toFixed(1)}" y="0" width="${Math.max(1, x(e.endS) - x(e.startS)).toFixed(1)}" height="${LANE_H}" fill="${e.type === 'blink' ? COLORS.blink : COLORS.turn}" opacity="0.35"><title>${e.type} ${e.startS}-${e.endS} s</title></rect>`),
    ...trace.marks.filter((m) => m.kind === 'prompt').map((m) => `<line x1="${x(m.tS).toFixed(1)}" x2="${x(m.tS).toFixed(1)}" y1="0" y2="${LANE_H}" stroke="${COLORS.prompt}" stroke-dasharray="3 2"/>`),
  ].join('');
  const svgs = lanes(trace).map((spec) => laneSvg(spec, trace, end, shade)).join('\n');
  const thumbs = keyFrames.map((k) => `<figure><svg width="${k.size * 1.5}" height="${k.size * 1.5}" viewBox="0 0 ${k.size} ${k.size}">` +
    `<image href="${k.uri}" width="${k.size}" height="${k.size}"/><rect x="${k.box[0].toFixed(1)}" y="${k.box[1].toFixed(1)}" width="${(k.box[2] - k.box[0]).toFixed(1)}" height="${(k.box[3] - k.box[1]).toFixed(1)}" fill="none" stroke="#00e676"/>` +
    Array.from({ length: k.points.length / 2 }, (_, i) => `<circle cx="${k.points[2 * i].toFixed(1)}" cy="${k.points[2 * i + 1].toFixed(1)}" r="0.8" fill="#ff1744"/>`).join('') +
    `</svg><figcaption>${k.tS.toFixed(2)} s</figcaption></figure>`).join('');
  const rows = events.map((e) => `<tr><td>${e.type}</td><td>${e.startS.toFixed(2)}</td><td>${e.endS.toFixed(2)}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(summary.title)}</title>
<style>body{font:14px sans-serif;margin:16px}h3{margin:8px 0 2px;font-size:13px}figure{display:inline-block;margin:4px}
.warn{background:#fff3e0;padding:6px}pre{background:#f5f5f5;padding:8px}svg text{font:11px sans-serif}
#legend .item{margin-right:14px;white-space:nowrap}#legend svg{vertical-align:middle;margin-right:4px}</style></head><body>
<h1>${esc(summary.title)}</h1>
${keyFrames.length > 0 ? '<p class="warn">Debug artefact: contains face thumbnails. Delete it when done; never attach it to tickets outside the project.</p>' : '<p>Numbers only: this report holds no image, landmark or embedding.</p>'}
${summary.notes.map((n) => `<p>${esc(n)}</p>`).join('')}
${summary.result ? `<h2>Decision</h2><pre id="result">${esc(JSON.stringify(summary.result, null, 2))}</pre>` : ''}
<h2>Timeline (0–${end.toFixed(1)} s)</h2>
${legend()}
<div id="timeline">${phaseLane(phases, challenges, end)}${promptLane(trace, end)}${svgs}</div>
<h2>Detected events</h2><table id="events"><tr><th>type</th><th>start s</th><th>end s</th></tr>${rows}</table>
${keyFrames.length > 0 ? `<h2>Key frames</h2><div id="keyframes">${thumbs}</div>` : ''}
<script>
// Self-check for the headless browser test: what is drawn, and whether any two prompt labels overlap.
const boxes = [...document.querySelectorAll('text.prompt-label')].map((t) => t.getBoundingClientRect());
let overlaps = 0;
for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
  const a = boxes[i], b = boxes[j];
  if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlaps++;
}
const d = document.body.dataset;
d.lanes = String(document.querySelectorAll('#timeline svg.lane polyline').length);
d.thresholds = String(document.querySelectorAll('line.threshold').length);
d.promptLabels = String(boxes.length);
d.thresholdLabelsShown = String([...document.querySelectorAll('text.threshold-label')].filter((t) => {
  const r = t.getBoundingClientRect();
  return r.width > 0 && r.left >= 0 && r.right <= document.documentElement.scrollWidth;
}).length);
d.labelOverlaps = String(overlaps);
d.ready = 'ok';
</script>
</body></html>
`;
}
