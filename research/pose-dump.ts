/**
 * Per-photo head-pose readings on a labelled set (file,yaw_deg,pitch_deg,roll_deg + face_boxes.csv) for the
 * estimator study of docs/pose.md: truth, fr_pose on the photo and on its mirror image, and the landmark fit, for the
 * face whose detector box best overlaps the labelled box. Angles only (no landmarks, no pixels), as JSON lines.
 *   npx tsx research/pose-dump.ts --labels ../shared/data/aflw2000_pose/labels.csv --out /tmp/pose-dump.jsonl
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readCsv } from '../src/vision/csv.ts';
import { boxIou } from '../src/vision/detector.ts';
import { FaceEngine } from '../src/vision/engine.ts';
import { mirror } from '../src/vision/image.ts';
import { readImageFile } from '../src/vision/image-file.ts';
import { landmarkPose } from '../src/vision/landmark-pose.ts';

const { values } = parseArgs({ options: { labels: { type: 'string' }, out: { type: 'string' } } });
if (!values.labels || !values.out) throw new Error('usage: --labels CSV --out FILE');
const root = dirname(resolve(values.labels));
const rows = await readCsv(values.labels, ['file', 'yaw_deg', 'pitch_deg', 'roll_deg']);
const boxes = new Map((await readCsv(join(root, 'face_boxes.csv'), ['file', 'x1', 'y1', 'x2', 'y2'])).map((r) => [r.file, { x1: +r.x1, y1: +r.y1, x2: +r.x2, y2: +r.y2 }]));
const engine = new FaceEngine();
await engine.start();
const lines: string[] = [];
try {
  for (const [i, row] of rows.entries()) {
    const img = await readImageFile(resolve(root, row.file));
    const label = boxes.get(row.file)!;
    const faces = await engine.analyzeFrame(img);
    const best = faces.map((f) => ({ f, iou: boxIou(f.box, label) })).sort((a, b) => b.iou - a.iou)[0];
    const rec: Record<string, unknown> = { file: row.file, yaw: +row.yaw_deg, pitch: +row.pitch_deg, roll: +row.roll_deg, faces: faces.length };
    if (best) {
      const lm = landmarkPose(best.f.landmarks68);
      const m = mirror(img);
      const mbox = { x1: img.width - label.x2, y1: label.y1, x2: img.width - label.x1, y2: label.y2 };
      const mfaces = await engine.analyzeFrame(m);
      const mbest = mfaces.map((f) => ({ f, iou: boxIou(f.box, mbox) })).sort((a, b) => b.iou - a.iou)[0];
      const mlm = mbest ? landmarkPose(mbest.f.landmarks68) : null;
      Object.assign(rec, {
        iou: best.iou, largest: best.f === faces[0], model: best.f.pose,
        lm: lm && { yaw: lm.yaw, pitch: lm.pitch, roll: lm.roll, residualMm: lm.residualMm },
        mirrorModel: mbest?.f.pose, mirrorLm: mlm && { yaw: mlm.yaw, pitch: mlm.pitch, roll: mlm.roll },
      });
    }
    lines.push(JSON.stringify(rec));
    if ((i + 1) % 100 === 0) process.stderr.write(`${i + 1}\n`);
  }
} finally {
  await engine.stop();
}
writeFileSync(values.out, `${lines.join('\n')}\n`);
