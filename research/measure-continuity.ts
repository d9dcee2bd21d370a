/**
 * Measurement, not a test: identity-continuity scores with the engine's fusion on real clips.
 *   npx tsx research/measure-continuity.ts
 * Per clip: every 5th frame against the clip's first frontal frame (same person: min / median, and min over frames
 * turned >= 15 deg); then every frame of each clip against every OTHER clip's anchor (other people: max, p99).
 */
import { FaceEngine } from '../src/vision/engine.ts';
import { clipTemplates, type ClipSpec } from '../test/hil/session/clip-signals.ts';

const CLIPS: ClipSpec[] = [
  { set: 'dagan_driving_video', clip: 'driving', width: 256, height: 256, fps: 25 },
  { set: 'liveportrait_driving_videos', clip: 'd3', width: 512, height: 512, fps: 30 },
  { set: 'pcavs_pose_source', clip: '796100172', width: 224, height: 224, fps: 25 },
  { set: 'liveportrait_driving_videos', clip: 'd18', width: 480, height: 480, fps: 30 },
  { set: 'sadtalker_hdtf_ref_videos', clip: 'WDA_AlexandriaOcasioCortez_000', width: 512, height: 512, fps: 25 },
  { set: 'liveportrait_driving_videos', clip: 'd13', width: 720, height: 1280, fps: 30 },
];

const engine = new FaceEngine();
await engine.start();
try {
  const perClip = [];
  for (const spec of CLIPS) {
    const items = await clipTemplates(engine, spec, 5);
    const anchor = items.find((x) => Math.abs(x.yawDeg) < 10) ?? items[0];
    const sims = items.map((x) => ({ yaw: x.yawDeg, s: engine.compare(anchor.template, x.template).similarity }));
    const sorted = sims.map((x) => x.s).sort((a, b) => a - b);
    const turned = sims.filter((x) => Math.abs(x.yaw) >= 15).map((x) => x.s);
    process.stdout.write(`${spec.clip.padEnd(32)} frames ${sims.length} min ${sorted[0].toFixed(2)} median ${sorted[sorted.length >> 1].toFixed(2)}`
      + ` turned>=15 min ${turned.length ? Math.min(...turned).toFixed(2) : '-'}\n`);
    perClip.push({ anchor: anchor.template, items });
  }
  const impostor: number[] = [];
  for (const a of perClip) for (const b of perClip) if (a !== b) for (const x of b.items) impostor.push(engine.compare(a.anchor, x.template).similarity);
  impostor.sort((a, b) => a - b);
  process.stdout.write(`other people: n ${impostor.length} max ${impostor.at(-1)?.toFixed(2)} p99 ${impostor[Math.floor(impostor.length * 0.99)].toFixed(2)}\n`);
} finally {
  await engine.stop();
}
