/**
 * Synthetic but realistic FrameSignals for the session tests: per-frame Gaussian noise on every measure, camera
 * jitter on timestamps, dropped frames, and smooth (not step) eye and head motion. Deterministic for a given seed.
 * Not a spec file: helpers only.
 */
import type { Template } from '../../../src/session/face-template.ts';
import type { FaceSignals, FrameSignals } from '../../../src/session/signals.ts';

/** mulberry32: a tiny deterministic PRNG for test noise (not for anything security-related). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gauss(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const clamp01 = (v: number): number => Math.min(1, Math.max(0, v));

/** A face looking at the camera, centred in a 640x480 frame, with noise from `rand`. */
export function baseFace(rand: () => number, over: Partial<FaceSignals> = {}): FaceSignals {
  const x = 220 + gauss(rand) * 2;
  const y = 130 + gauss(rand) * 2;
  return {
    box: { x1: x, y1: y, x2: x + 200, y2: y + 220 },
    yawDeg: gauss(rand) * 1.5,
    pitchDeg: gauss(rand) * 1.5,
    rollDeg: gauss(rand) * 1,
    leftEyeOpen: clamp01(0.9 + gauss(rand) * 0.04),
    rightEyeOpen: clamp01(0.9 + gauss(rand) * 0.04),
    faceLuma: 120 + gauss(rand) * 1.5,
    antispoof: clamp01(0.8 + gauss(rand) * 0.08),
    quality: { sharpness: Math.max(0, 800 + gauss(rand) * 60) },
    ...over,
  };
}

/** Eye openness during a blink that starts closing at t0 and lasts `durMs`, bottoming out at `depth` (0 = shut). */
export function blinkEyes(t: number, t0: number, durMs: number, depth = 0.03): number | undefined {
  if (t < t0 || t >= t0 + durMs) return undefined;
  const x = (t - t0) / durMs; // 0..1: close in the first 40 %, stay shut 20 %, reopen in the last 40 %
  const closure = x < 0.4 ? x / 0.4 : x < 0.6 ? 1 : (1 - x) / 0.4;
  return 0.9 - (0.9 - depth) * closure;
}

/** Yaw of a turn: raised-cosine rise over riseMs to peak, hold, symmetric fall. Undefined outside. */
export function turnYaw(t: number, t0: number, riseMs: number, holdMs: number, peakDeg: number): number | undefined {
  const end = t0 + 2 * riseMs + holdMs;
  if (t < t0 || t >= end) return undefined;
  const ease = (x: number): number => (1 - Math.cos(Math.PI * x)) / 2;
  if (t < t0 + riseMs) return peakDeg * ease((t - t0) / riseMs);
  if (t < t0 + riseMs + holdMs) return peakDeg;
  return peakDeg * ease((end - t) / riseMs);
}

export interface ClipOptions {
  fps?: number;
  durationMs: number;
  seed?: number;
  /** probability of dropping each frame */
  dropRate?: number;
  /** timestamp jitter (ms, standard deviation) */
  jitterMs?: number;
  /** per-frame overrides on top of a noisy frontal face; return null for "no face in this frame" */
  face?: (t: number, base: FaceSignals, rand: () => number) => FaceSignals | null;
}

export function clip(o: ClipOptions): FrameSignals[] {
  const rand = prng(o.seed ?? 1);
  const period = 1000 / (o.fps ?? 30);
  const frames: FrameSignals[] = [];
  for (let i = 0, t = 0; t < o.durationMs; i++, t = i * period) {
    if (rand() < (o.dropRate ?? 0)) continue;
    const ts = Math.round(t + gauss(rand) * (o.jitterMs ?? 0));
    const base = baseFace(rand);
    const face = o.face ? o.face(t, base, rand) : base;
    frames.push(face === null
      ? { seq: i, tsMs: ts, frameWidth: 640, frameHeight: 480, faceCount: 0 }
      : { seq: i, tsMs: ts, frameWidth: 640, frameHeight: 480, faceCount: 1, face });
  }
  return frames;
}

/** Both eyes set to `v` plus per-eye noise. */
export function withEyes(f: FaceSignals, v: number, rand: () => number): FaceSignals {
  return { ...f, leftEyeOpen: clamp01(v + gauss(rand) * 0.02), rightEyeOpen: clamp01(v + gauss(rand) * 0.02) };
}

/** A random identity template (two embedders, unit vectors), and a noisy copy of one (same person, another frame). */
export function randomTemplate(rand: () => number, dim = 128): Template {
  const vec = (): Float32Array => {
    const v = new Float32Array(dim);
    for (let i = 0; i < dim; i++) v[i] = gauss(rand);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  return { feature: vec(), 'faceapi-resnet': vec() };
}

export function noisyCopy(t: Template, rand: () => number, sigma = 0.04): Template {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.map((x) => x + gauss(rand) * sigma)]));
}

export const isWiped = (t: Template): boolean => Object.values(t).every((v) => v.every((x) => x === 0));
