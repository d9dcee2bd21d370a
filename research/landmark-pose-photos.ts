/**
 * Study (issue #3): head pose from the 68 landmarks (src/vision/landmark-pose.ts) against the deployed fr_pose,
 * on the evaluation photos the model gates use (scripts/models/sets.ts: LFW view1 every N-th pair's images, NUAA
 * subjects 0002-0013 every N-th photo), each through FaceEngine.analyzeFrame (largest face), which returns both.
 *   node --import tsx research/landmark-pose-photos.ts [--every 10]
 * Prints markdown: per axis |fr_pose - landmark| median/p90/p99 on all photos, per source, and on photos fr_pose
 * reads inside the quality gate (|yaw|, |pitch|, |roll| <= 15); the per-axis linear calibration is fitted on the
 * even-indexed photos of each row and reported on the odd-indexed ones. Then the same for model-point ablations,
 * and the photos where the two sources disagree most on yaw (file name and angles only). Nothing is written;
 * images and landmarks are zeroed after use (the ablations refit on copies held in memory for the run).
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { FaceEngine } from '../src/vision/engine.ts';
import { readImageFile } from '../src/vision/image-file.ts';
import { MODEL_POINTS, type ModelPoint, landmarkPose } from '../src/vision/landmark-pose.ts';
import { type Angles, axisReport, reportHeader, reportRows } from './landmark-pose-stats.ts';
import { quantile } from '../scripts/models/measure.ts';
import { lfwPairs, nuaaEval } from '../scripts/models/sets.ts';

const { values } = parseArgs({ options: { every: { type: 'string', default: '10' } } });
const every = Number(values.every);
const files = [...new Set(lfwPairs(every).flatMap((p) => [p.a, p.b]))].concat(nuaaEval(every).map((n) => n.file));
const engine = new FaceEngine();
await engine.start();
const faces: Array<{ file: string; model: Angles; landmarks68: Float32Array }> = [];
let noFace = 0;
try {
  for (const file of files) {
    const img = await readImageFile(file);
    const [face] = await engine.analyzeFrame(img, { maxFaces: 1 });
    img.data.fill(0);
    if (!face) noFace++;
    else faces.push({ file, model: face.pose, landmarks68: face.landmarks68 });
  }
} finally {
  await engine.stop();
}

const ablations: Record<string, readonly ModelPoint[]> = {
  'all 15 points': MODEL_POINTS,
  'without jaw 0/16': MODEL_POINTS.filter((p) => p[0] !== 0 && p[0] !== 16),
  'without mouth corners': MODEL_POINTS.filter((p) => p[0] !== 48 && p[0] !== 54),
};
const fits = Object.fromEntries(Object.entries(ablations).map(([k, pts]) => [k, faces.map((f) => landmarkPose(f.landmarks68, pts))]));
for (const f of faces) f.landmarks68.fill(0);
const out: string[] = [];
const main = fits['all 15 points'];
const ok = faces.flatMap((_, i) => (main[i] ? [i] : []));
const modelOf = (idx: number[]): Angles[] => idx.map((i) => faces[i].model);
const lmOf = (idx: number[], fit = main): Angles[] => idx.map((i) => fit[i]!);
const even = (i: number): boolean => i % 2 === 0;
const residuals = ok.map((i) => main[i]!.residualMm);
out.push(`images ${files.length}, no face ${noFace}, faces ${faces.length}, no landmark fit ${faces.length - ok.length}; fit residual median ${quantile(residuals, 0.5).toFixed(1)} mm, p99 ${quantile(residuals, 0.99).toFixed(1)} mm`);
const range = (axis: keyof Angles): string => `${Math.round(quantile(ok.map((i) => faces[i].model[axis]), 0.01))}..${Math.round(quantile(ok.map((i) => faces[i].model[axis]), 0.99))}`;
out.push(`fr_pose p01..p99: yaw ${range('yaw')}, pitch ${range('pitch')}, roll ${range('roll')}\n`);
const HEADER = reportHeader('photos', 'even half', 'odd half');
out.push(HEADER);
const subsets: Record<string, number[]> = {
  all: ok,
  LFW: ok.filter((i) => faces[i].file.includes('lfw_view1')),
  NUAA: ok.filter((i) => faces[i].file.includes('nuaa')),
  'fr_pose inside gate (all 3 <= 15)': ok.filter((i) => Object.values(faces[i].model).every((v) => Math.abs(v) <= 15)),
};
for (const [label, idx] of Object.entries(subsets)) out.push(reportRows(`${label}`, axisReport(modelOf(idx), lmOf(idx), even)));
out.push(`\nModel-point ablations (all photos):\n\n${HEADER}`);
for (const [label, fit] of Object.entries(fits)) {
  const idx = faces.flatMap((_, i) => (fit[i] ? [i] : []));
  out.push(reportRows(label, axisReport(modelOf(idx), lmOf(idx, fit), even)));
}
out.push('\nLargest yaw disagreements (fr_pose vs landmark; yaw, pitch, roll in deg):\n');
const worst = [...ok].sort((a, b) => Math.abs(faces[b].model.yaw - main[b]!.yaw) - Math.abs(faces[a].model.yaw - main[a]!.yaw)).slice(0, 8);
const tri = (a: Angles): string => `${a.yaw.toFixed(1)}, ${a.pitch.toFixed(1)}, ${a.roll.toFixed(1)}`;
for (const i of worst) out.push(`- ${basename(faces[i].file)}: fr_pose ${tri(faces[i].model)}; landmark ${tri(main[i]!)}`);
process.stdout.write(`${out.join('\n')}\n`);
