/**
 * Study (issue 13): is the face mesh's yaw (research/mesh-yaw.ts) calibrated, so that it can stand as an independent
 * check of fr_pose on clips? Per labelled photo (file,yaw_deg,pitch_deg,roll_deg + face_boxes.csv), the labelled
 * face as `regterm eval pose` picks it: the mesh's yaw at crop scales 1.2–1.7 and fr_pose's, each scored as
 * `regterm eval pose` scores an estimator (|yaw| ≤ 60°: MAE, slope of est = a·true + b, per-side slopes).
 *   npx tsx research/mesh-pose-photos.ts ../shared/data/aflw2000_pose/labels.csv
 */
import { dirname, resolve } from 'node:path';
import { boxesCsvFor, labelledFace, readPoseLabels } from '../src/cli/eval-pose.ts';
import { FaceEngine } from '../src/vision/engine.ts';
import { readImageFile } from '../src/vision/image-file.ts';
import { poseAccuracy, type PoseSample } from '../src/vision/pose-accuracy.ts';
import { MeshYaw } from './mesh-yaw.ts';

const SCALES = [1.2, 1.3, 1.5, 1.7];
const labels = process.argv[2];
if (!labels) throw new Error('usage: npx tsx research/mesh-pose-photos.ts LABELS_CSV');
const root = dirname(resolve(labels));
const rows = await readPoseLabels(labels, boxesCsvFor(labels));
const engine = new FaceEngine();
await engine.start();
const mesh = await MeshYaw.load();
const samples: Record<string, PoseSample[]> = Object.fromEntries(['fr_pose', ...SCALES.map((s) => `mesh ${s}`)].map((k) => [k, []]));
try {
  for (const row of rows) {
    const img = await readImageFile(resolve(root, row.file));
    // the labelled face as `regterm eval pose` picks it
    const face = labelledFace(await engine.analyzeFrame(img), row.box);
    if (!face) continue;
    const truth = { trueYaw: row.yaw, truePitch: row.pitch, trueRoll: row.roll };
    samples.fr_pose.push({ ...truth, ...face.pose });
    // the mesh gives yaw only: pitch and roll are fr_pose's so that only the yaw columns compare
    for (const s of SCALES) samples[`mesh ${s}`].push({ ...truth, ...face.pose, yaw: await mesh.yaw(mesh.crop(img, face.box, s)) });
    img.data.fill(0);
  }
} finally {
  await engine.stop();
}
const accuracy = Object.entries(samples).map(([name, s]) => ({ name, a: poseAccuracy(s) }));
const bins = accuracy[0].a.yaw.byBin.map((b) => `|yaw| ${b.from}–${b.to}° (n ${b.n}): mean |est|, true ${b.meanAbsTrue.toFixed(1)}`);
process.stdout.write(`| estimator | photos | yaw MAE | slope | slope left | slope right | ${bins.join(' | ')} |\n|${' --- |'.repeat(6 + bins.length)}\n`);
for (const { name, a } of accuracy) {
  const cells = [a.n, a.yaw.mae.toFixed(2), a.yaw.slope.toFixed(3), a.yaw.slopeLeft.toFixed(3), a.yaw.slopeRight.toFixed(3), ...a.yaw.byBin.map((b) => b.meanAbsEst.toFixed(1))];
  process.stdout.write(`| ${name} | ${cells.join(' | ')} |\n`);
}
