/**
 * Real clip → FrameSignals through the face engine, and scoring of the events-only detectors against the clip's
 * ground truth. Frames are decoded by ffmpeg to stdout (no file), analysed, and zeroed; nothing is written.
 * The FaceAnalysis → FrameSignals mapping here is the minimal one the detectors need (the agent's adapter is the
 * composition root's job).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventsCsv } from '../../../src/camera/events-csv.ts';
import { scoreEvents, type EventScore, type TruthEvent } from '../../../src/session/detectors/event-score.ts';
import { detectClipEvents, type ClipEvent } from '../../../src/session/detectors/events-only.ts';
import { resolvePolicy, type PolicyInput } from '../../../src/session/policy.ts';
import type { FrameSignals } from '../../../src/session/signals.ts';
import type { FaceEngine } from '../../../src/vision/engine.ts';
import type { FaceTemplate } from '../../../src/vision/matcher.ts';
import { DATA } from '../vision/helpers.ts';

export interface ClipSpec {
  set: string;
  clip: string;
  width: number;
  height: number;
  fps: number;
}

/** Decode a clip with ffmpeg (stdout, no file) and analyse every frame; timestamps from the constant frame rate. */
export async function clipSignals(engine: FaceEngine, path: string, width: number, height: number, fps: number): Promise<FrameSignals[]> {
  const child = spawn('ffmpeg', ['-loglevel', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const size = width * height * 3;
  const frames: FrameSignals[] = [];
  let pending = Buffer.alloc(0);
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= size) {
      const data = new Uint8Array(pending.subarray(0, size));
      pending = pending.subarray(size);
      const faces = await engine.analyzeFrame({ width, height, data }, { maxFaces: 2 });
      data.fill(0);
      const tsMs = Math.round((frames.length * 1000) / fps);
      const f = faces[0];
      frames.push(f === undefined
        ? { tsMs, frameWidth: width, frameHeight: height, faceCount: 0 }
        : {
          tsMs, frameWidth: width, frameHeight: height, faceCount: faces.length,
          face: {
            box: f.box, yawDeg: f.pose.yaw, pitchDeg: f.pose.pitch, rollDeg: f.pose.roll,
            leftEyeOpen: f.eyes.left, rightEyeOpen: f.eyes.right, faceLuma: f.quality.brightness * 255,
            antispoof: f.antispoof, quality: { sharpness: f.quality.sharpness },
          },
        });
    }
  }
  return frames;
}

export function readTruth(spec: ClipSpec): TruthEvent[] {
  const text = readFileSync(join(DATA, spec.set, `${spec.clip}.events.csv`), 'utf8');
  return parseEventsCsv(text).map((e) => ({
    startS: e.startMs / 1000, endS: e.endMs / 1000, event: e.event, confidence: e.extra?.confidence,
  }));
}

export async function detectOnClip(engine: FaceEngine, spec: ClipSpec, policy: PolicyInput = {}): Promise<ClipEvent[]> {
  const frames = await clipSignals(engine, join(DATA, spec.set, `${spec.clip}.mp4`), spec.width, spec.height, spec.fps);
  return detectClipEvents(frames, resolvePolicy(policy));
}

export async function scoreClip(engine: FaceEngine, spec: ClipSpec, policy: PolicyInput = {}): Promise<EventScore[]> {
  return scoreEvents(await detectOnClip(engine, spec, policy), readTruth(spec));
}

/** Every `step`-th frame of a clip: its yaw and its template (for continuity measurements). */
export async function clipTemplates(
  engine: FaceEngine, spec: ClipSpec, step: number,
): Promise<Array<{ yawDeg: number; template: FaceTemplate }>> {
  const child = spawn('ffmpeg', [
    '-loglevel', 'error', '-i', join(DATA, spec.set, `${spec.clip}.mp4`), '-vf', `select=not(mod(n\\,${step}))`,
    '-vsync', 'vfr', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  const size = spec.width * spec.height * 3;
  const out: Array<{ yawDeg: number; template: FaceTemplate }> = [];
  let pending = Buffer.alloc(0);
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= size) {
      const img = { width: spec.width, height: spec.height, data: new Uint8Array(pending.subarray(0, size)) };
      pending = pending.subarray(size);
      const [f] = await engine.analyzeFrame(img, { maxFaces: 1 });
      if (f) out.push({ yawDeg: f.pose.yaw, template: await engine.embed(img, { points5: f.points5, landmarks68: f.landmarks68 }) });
      img.data.fill(0);
    }
  }
  return out;
}
