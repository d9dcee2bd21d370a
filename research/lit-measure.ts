/**
 * Measurement, not a test: the light challenge through the real pipeline on real clips seen by the lit camera
 * (lit-replay.ts), for the README and the margins light.spec.ts asserts.
 *   npx tsx research/lit-measure.ts            (18 sessions, ~2 minutes on one core)
 * Per clip: the session lit by its own sequence (gain 12, 1-frame delay) and unlit; then, without rerunning the
 * engine, the same face-luminance samples against 1000 other nonces' sequences (a video lit for / recorded in another
 * session gives exactly these samples: same seed → same timing) — the lit samples give the replay-of-another-session
 * acceptance rate, the unlit ones the noise floor; the passive anti-spoof score lit vs unlit (same frames up to
 * the light decision). Then a gain and a delay sweep on d10, and a blink-then-light session on d13.
 */
import { join } from 'node:path';
import { createLogger } from '../src/lib/logger.ts';
import { evaluateLight, lightChips } from '../src/session/light.ts';
import { FaceEngine } from '../src/vision/engine.ts';
import { DATA } from '../test/hil/vision/helpers.ts';
import { frameJpeg, withTmp } from '../test/hil/session/session-clips.ts';
import { clipSegment, litSession, type LightReplay, type LitSessionOptions } from '../test/hil/session/lit-session.ts';

const engine = new FaceEngine();
await engine.start();
const logger = createLogger({ level: 'silent' });
const clip = (name: string): string => join(DATA, 'liveportrait_driving_videos', `${name}.mp4`);
const NONCE = 'hil-nonce-0123456789';
const OTHERS = 1000;

const f2 = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(2));

/** the same samples, same timing, against OTHERS other nonces' sequences */
function againstOthers(r: LightReplay): { passRate: number; p99: number; max: number } {
  const corr: number[] = [];
  let passed = 0;
  for (let k = 0; k < OTHERS; k++) {
    const chips = lightChips(`other-session-${k}`, new Uint8Array(16), r.schedule.chips.length / 2);
    const o = evaluateLight({ ...r.schedule, chips }, r.samples, r.policy);
    corr.push(o.correlation);
    if (o.passed) passed++;
  }
  corr.sort((a, b) => a - b);
  return { passRate: passed / OTHERS, p99: corr[Math.floor(0.99 * OTHERS)], max: corr[OTHERS - 1] };
}

interface Run {
  decision: string;
  light: LightReplay;
  antispoof: number | undefined;
}

async function session(o: Omit<LitSessionOptions, 'nonce' | 'script'>, script: LitSessionOptions['script'] = ['light']): Promise<Run> {
  const s = await litSession(engine, logger, { ...o, nonce: NONCE, script });
  if (!s.light) throw new Error(`no light challenge: ${s.decision.decision} by ${s.decision.decidedBy}`);
  return { decision: `${s.decision.decision}/${s.decision.decidedBy}`, light: s.light, antispoof: s.decision.scores.antispoof };
}

const row = (label: string, r: Run): string =>
  `${label.padEnd(22)} ${r.decision.padEnd(34)} corr ${f2(r.light.correlation)} lag ${String(r.light.lagMs).padStart(3)} ms ` +
  `delta ${f2(r.light.deltaLuma)} cov ${f2(r.light.coverage)} n ${r.light.samples.length} antispoof ${f2(r.antispoof)}`;

console.log('== per clip: own sequence (gain 12, delay 1) vs unlit; the same samples vs 1000 other sequences');
const cases: Array<{ label: string; video: string; segment?: [number, number]; refT: number }> = [
  { label: 'd10', video: clip('d10'), refT: 12 },
  { label: 'd13', video: clip('d13'), refT: 11 },
  { label: 'd6', video: clip('d6'), refT: 20 },
  { label: 'd6 26-33.6 s (roll)', video: clip('d6'), segment: [26, 7.6], refT: 20 },
];
for (const c of cases) {
  await withTmp(async (dir) => {
    const video = c.segment ? await clipSegment(dir, c.video, c.segment[0], c.segment[1]) : c.video;
    const reference = await frameJpeg(c.video, c.refT);
    const lit = await session({ video, reference: reference.slice(), gain: 12, delayFrames: 1 });
    const unlit = await session({ video, reference: reference.slice(), gain: 0 });
    const lo = againstOthers(lit.light);
    const uo = againstOthers(unlit.light);
    console.log(row(`${c.label} lit`, lit));
    console.log(`${''.padEnd(22)} other sequences on these samples: pass ${(100 * lo.passRate).toFixed(1)}%, corr p99 ${f2(lo.p99)} max ${f2(lo.max)}`);
    console.log(row(`${c.label} unlit`, unlit));
    console.log(`${''.padEnd(22)} any sequence on these samples (noise floor): pass ${(100 * uo.passRate).toFixed(1)}%, corr p99 ${f2(uo.p99)} max ${f2(uo.max)}`);
  });
}

console.log('== d10 gain sweep (delay 1)');
const d10 = clip('d10');
const ref10 = await frameJpeg(d10, 12);
for (const gain of [1, 2, 3, 4, 6, 8]) {
  const s = await session({ video: d10, reference: ref10.slice(), gain, delayFrames: 1 });
  console.log(row(`gain ${gain}`, s));
}
console.log('== d10 delay sweep (gain 12)');
for (const delayFrames of [0, 2, 3]) {
  const s = await session({ video: d10, reference: ref10.slice(), gain: 12, delayFrames });
  console.log(row(`delay ${delayFrames} frames`, s));
}
console.log('== d13 blink then light (gain 12, delay 1)');
const d13 = clip('d13');
console.log(row('blink, light', await session({ video: d13, reference: await frameJpeg(d13, 11), gain: 12, delayFrames: 1 }, ['blink', 'light'])));
await engine.stop();
