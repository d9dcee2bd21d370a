/**
 * Measurement, not a test: score the events-only detectors on EVERY annotated DEV clip (blink, turn_left,
 * turn_right), per clip and in total, with the default policy or one given as JSON:
 *   npx tsx test/hil/session/score-dev-events.ts ['{"turn":{"enterDeg":15,"exitDeg":10}}']
 * ~4000 frames through the face engine: a few minutes on 2 cores. d20 is left out of the blink totals (its README:
 * eye state could not be annotated), kept for turns (a no-turn negative).
 */
import type { EventScore } from '../../../src/session/detectors/event-score.ts';
import { FaceEngine } from '../../../src/vision/engine.ts';
import { scoreClip, type ClipSpec } from './clip-signals.ts';

const LP = 'liveportrait_driving_videos';
const CLIPS: ClipSpec[] = [
  { set: LP, clip: 'd0', width: 512, height: 512, fps: 25 },
  { set: LP, clip: 'd3', width: 512, height: 512, fps: 30 },
  { set: LP, clip: 'd6', width: 480, height: 480, fps: 30 },
  { set: LP, clip: 'd10', width: 512, height: 512, fps: 30 },
  { set: LP, clip: 'd13', width: 720, height: 1280, fps: 30 },
  { set: LP, clip: 'd14', width: 512, height: 512, fps: 30 },
  { set: LP, clip: 'd18', width: 480, height: 480, fps: 30 },
  { set: LP, clip: 'd19', width: 480, height: 480, fps: 30 },
  { set: LP, clip: 'd20', width: 480, height: 480, fps: 25 },
  { set: 'pcavs_pose_source', clip: '517600055', width: 224, height: 224, fps: 25 },
  { set: 'pcavs_pose_source', clip: '796100172', width: 224, height: 224, fps: 25 },
  { set: 'sadtalker_hdtf_ref_videos', clip: 'WDA_AlexandriaOcasioCortez_000', width: 512, height: 512, fps: 25 },
  { set: 'dagan_driving_video', clip: 'driving', width: 256, height: 256, fps: 25 },
];

const policy = process.argv[2] ? JSON.parse(process.argv[2]) : {};
const engine = new FaceEngine();
await engine.start();
const total: Record<string, { tp: number; fp: number; fn: number }> = {};
try {
  for (const spec of CLIPS) {
    const scores: EventScore[] = await scoreClip(engine, spec, policy);
    const cells: string[] = [];
    for (const s of scores) {
      if (spec.clip === 'd20' && s.type === 'blink') continue;
      cells.push(`${s.type} tp ${s.truePositives} fp ${s.falsePositives} fn ${s.falseNegatives}`);
      const t = (total[s.type] ??= { tp: 0, fp: 0, fn: 0 });
      t.tp += s.truePositives;
      t.fp += s.falsePositives;
      t.fn += s.falseNegatives;
    }
    process.stdout.write(`${spec.clip.padEnd(32)} ${cells.join(' | ')}\n`);
  }
} finally {
  await engine.stop();
}
for (const [type, t] of Object.entries(total)) {
  const precision = t.tp + t.fp > 0 ? t.tp / (t.tp + t.fp) : 1;
  const recall = t.tp + t.fn > 0 ? t.tp / (t.tp + t.fn) : 1;
  process.stdout.write(`${type.padEnd(11)} tp ${t.tp} fp ${t.fp} fn ${t.fn}  precision ${precision.toFixed(2)}  recall ${recall.toFixed(2)}\n`);
}
