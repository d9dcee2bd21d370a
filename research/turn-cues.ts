/**
 * Study (issue 13): does another cue see the head turns that fr_pose under-reads on small or rolled faces?
 * Every annotated clip through the same path as `regterm eval events` (recordingSignals with the events track: fr_pose
 * on every frame); per frame fr_pose's yaw, the landmark fit's yaw (src/vision/landmark-pose.ts), the nose offset
 * (the nose tip's distance from the outer eye corners' midpoint along the eye line, so roll does not move it, per
 * eye-line length, mapped to degrees by a least-squares line against fr_pose over all frames), and an independent
 * model's yaw: MediaPipe's face mesh (research/mesh-yaw.ts; calibrated on AFLW2000 by research/mesh-pose-photos.ts).
 *   npx tsx research/turn-cues.ts OUT_DIR DIR...
 * keeps one JSON per clip in OUT_DIR (angles and ratios only: no pixels, no coordinates, no embeddings; reruns reuse
 * them) and prints, per high/medium annotated turn with its prompt placed as in prompted mode, each cue's peak in the
 * asked direction from its own pre-prompt baseline (median of the 500 ms before the prompt).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventsCsv } from '../src/camera/events-csv.ts';
import { annotatedClips } from '../src/cli/eval-events.ts';
import { createLogger } from '../src/lib/logger.ts';
import { deploymentPolicyBase } from '../src/session/deployment-policy.ts';
import { resolvePolicy } from '../src/session/policy.ts';
import { eventsTrack, recordingSignals } from '../src/session/recording-signals.ts';
import { promptsForEvents } from '../src/session/prompted.ts';
import { FaceEngine } from '../src/vision/engine.ts';
import { median } from '../src/vision/metrics.ts';
import { landmarkPose } from '../src/vision/landmark-pose.ts';
import { MeshYaw } from './mesh-yaw.ts';

/** Nose tip (30) from the outer eye corners' (36, 45) midpoint, along the eye line, per eye-line length: + = image right. */
function noseOffset(lm: ArrayLike<number>): number {
  const [x36, y36, x45, y45, x30, y30] = [lm[72], lm[73], lm[90], lm[91], lm[60], lm[61]];
  const ex = x45 - x36;
  const ey = y45 - y36;
  const len2 = ex * ex + ey * ey;
  return ((x30 - (x36 + x45) / 2) * ex + (y30 - (y36 + y45) / 2) * ey) / len2;
}

const [out, ...dirs] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const engine = new FaceEngine();
await engine.start();
const policy = resolvePolicy({}, deploymentPolicyBase(engine));
const mesh = await MeshYaw.load();
try {
  for (const c of annotatedClips(dirs)) {
    const file = join(out, `${c.folder}--${c.clip}.json`);
    if (existsSync(file)) continue;
    const cues: Array<{ lmYaw: number; nose: number } | null> = [];
    // the mesh runs after the clip: the frame callback is synchronous, so it keeps each face's crop (8-bit) till then
    const meshCrops: Array<Uint8Array | null> = [];
    const r = await recordingSignals(engine, c.recording, createLogger({ level: 'warn' }), (f) => {
      const face = f.faces[0];
      const p = face ? landmarkPose(face.landmarks68) : null;
      cues.push(face && p ? { lmYaw: p.yaw, nose: noseOffset(face.landmarks68) } : null);
      meshCrops.push(face ? mesh.crop(f.image, face.box) : null);
    }, eventsTrack(policy));
    const meshYaws: Array<number | undefined> = [];
    for (const crop of meshCrops) meshYaws.push(crop ? await mesh.yaw(crop) : undefined);
    writeFileSync(file, JSON.stringify({ t0Ms: r.t0Ms, frames: r.signals.map((s, i) => ({ tsMs: s.tsMs, yaw: s.face?.yawDeg, ...cues[i], meshYaw: meshYaws[i] })) }));
  }
} finally {
  await engine.stop();
}

interface Frame { tsMs: number; yaw?: number; lmYaw?: number; nose?: number; meshYaw?: number }
const clips = annotatedClips(dirs).map((c) => ({
  name: `${c.folder}/${c.clip}`,
  truth: parseEventsCsv(readFileSync(c.annotations, 'utf8')).map((e) => ({ startS: e.startMs / 1000, endS: e.endMs / 1000, event: e.event, confidence: e.extra?.confidence })),
  ...(JSON.parse(readFileSync(join(out, `${c.folder}--${c.clip}.json`), 'utf8')) as { t0Ms: number; frames: Frame[] }),
}));

// the nose offset in degrees: a least-squares line against fr_pose's yaw over every frame with both
const pairs = clips.flatMap((c) => c.frames.flatMap((f) => (f.yaw !== undefined && f.nose !== undefined ? [[f.nose, f.yaw]] : [])));
const mx = pairs.reduce((s, [x]) => s + x, 0) / pairs.length;
const my = pairs.reduce((s, [, y]) => s + y, 0) / pairs.length;
const slope = pairs.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / pairs.reduce((s, [x]) => s + (x - mx) ** 2, 0);
const CUES = {
  'fr_pose': (f: Frame) => f.yaw,
  'landmark fit': (f: Frame) => f.lmYaw,
  'nose offset': (f: Frame) => (f.nose === undefined ? undefined : my + slope * (f.nose - mx)),
  'face mesh': (f: Frame) => f.meshYaw,
};
process.stdout.write(`nose offset → degrees: ${slope.toFixed(1)}° per eye-line length (${pairs.length} frames)\n\n`);
process.stdout.write(`| clip | turn | prompt s | ${Object.keys(CUES).map((k) => `${k}: peak from baseline`).join(' | ')} |\n|${' --- |'.repeat(3 + Object.keys(CUES).length)}\n`);
for (const c of clips) {
  for (const p of promptsForEvents(c.truth, policy).prompts.filter((x) => x.type !== 'blink')) {
    const at = c.t0Ms + p.promptMs;
    const sign = p.type === 'turn_left' ? 1 : -1;
    const cells = Object.values(CUES).map((cue) => {
      const before = c.frames.filter((f) => f.tsMs < at && f.tsMs >= at - policy.turn.prompted.baselineMs).flatMap((f) => cue(f) ?? []);
      const after = c.frames.filter((f) => f.tsMs >= at + policy.challenges.minReactionMs && f.tsMs <= at + policy.challenges.timeoutMs).flatMap((f) => cue(f) ?? []);
      if (before.length < policy.turn.prompted.minBaselineFrames || after.length === 0) return '–';
      const base = median(before);
      return Math.max(...after.map((y) => sign * (y - base))).toFixed(1);
    });
    process.stdout.write(`| ${c.name} | ${p.type} | ${(p.promptMs / 1000).toFixed(2)} | ${cells.join(' | ')} |\n`);
  }
}
