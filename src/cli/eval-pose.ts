/**
 * regterm eval pose --labels CSV [--root DIR] [--boxes CSV] [--estimator track|model|landmarks] [--json]
 *
 * The engine's head pose per photo against `file,yaw_deg,pitch_deg,roll_deg` labels (pose.ts sign convention: yaw + =
 * face turned toward the image right), summarised by pose-accuracy.ts over |true yaw| ≤ 60°. The labelled face is the
 * detected face whose box best overlaps the row's box in `--boxes` (`file,x1,y1,x2,y2`; default: face_boxes.csv beside
 * the labels, when there is one; a row without a box: the largest face); a photo where no face overlaps it by at least
 * MIN_IOU counts as not detected.
 *
 * ESTIMATORS (what is measured; docs/pose.md):
 * - `model`: fr_pose alone on the labelled face (the stateless engine, as for a single image).
 * - `track` (default): what the session's turn detector reads on a tracked frame while a turn challenge is open. A
 *   turn challenge opens after the quality gate held the face frontal, so the face track arrives with the (fr_pose −
 *   landmark fit) offsets of a frontal face. The photo is run as a two-frame stream on a real FaceTrack, as the
 *   session runner sets it up for an open turn challenge: frame 1 is a pose frame whose offset is the FRONTAL OFFSET,
 *   frame 2 is the photo through a FaceTracker on that track (the session's own per-frame logic, face-tracker.ts).
 * - `landmarks`: the same two-frame stream on a track without the turn challenge's switch: frame 2 is a landmark
 *   frame, the landmark fit plus the frontal offset (the hybrid's yaw on the frames between fr_pose readings; how the
 *   turn detector read 4 frames in 5 before the switch).
 * FRONTAL OFFSET: a photo has no frontal frame of its own person, so it is the median, per axis, of (fr_pose −
 * landmark fit) over the set's photos that fr_pose reads inside the quality gate's facing limits. It uses no labels.
 * On a still photo a fr_pose frame followed by a landmark frame of the same photo would just repeat fr_pose: the
 * hybrid's error is in the motion between fr_pose readings, which is what the frontal offset stands for.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError, isRegtermError } from '../lib/errors.ts';
import { resolvePolicy } from '../session/policy.ts';
import { readCsv } from '../vision/csv.ts';
import { boxIou } from '../vision/detector.ts';
import type { FaceAnalysis, FaceEngine } from '../vision/engine.ts';
import { FaceTrack } from '../vision/face-track.ts';
import { FaceTracker } from '../vision/face-tracker.ts';
import { readImageFile } from '../vision/image-file.ts';
import { landmarkPose } from '../vision/landmark-pose.ts';
import { median } from '../vision/metrics.ts';
import type { Pose } from '../vision/pose.ts';
import { type PoseAccuracy, type PoseSample, poseAccuracy } from '../vision/pose-accuracy.ts';
import type { Box } from '../vision/warp.ts';
import type { Progress } from './progress.ts';

export const POSE_ESTIMATORS = ['track', 'model', 'landmarks'] as const;
export type PoseEstimator = (typeof POSE_ESTIMATORS)[number];
/** The columns of the labels CSV and of the boxes CSV beside it. */
export const POSE_COLUMNS = ['file', 'yaw_deg', 'pitch_deg', 'roll_deg'] as const;
export const BOXES_COLUMNS = ['file', 'x1', 'y1', 'x2', 'y2'] as const;

/** A detected box overlapping the labelled box less than this is not the labelled face. */
export const MIN_IOU = 0.1;
/** The track's primary face is the labelled one when its box overlaps the labelled face's detector box this much. */
const SAME_FACE_IOU = 0.5;

export interface PoseLabel {
  file: string;
  yaw: number;
  pitch: number;
  roll: number;
  box?: Box;
}

export interface PoseEvalReport extends Omit<PoseAccuracy, 'n'> {
  estimator: PoseEstimator;
  images: number;
  detected: number;
  /** detected photos inside the yaw range (the ones summarised) */
  inRange: number;
  /** the frontal offset the tracked estimators start from (absent for `model`) */
  frontalOffset?: Pose;
}

/** The labels CSV (and the boxes CSV, when given) as rows; a bad number is a UsageError naming the row. */
export async function readPoseLabels(labelsCsv: string, boxesCsv?: string): Promise<PoseLabel[]> {
  const rows = await readCsv(labelsCsv, POSE_COLUMNS);
  const boxes = new Map<string, Box>();
  if (boxesCsv) {
    for (const [i, r] of (await readCsv(boxesCsv, BOXES_COLUMNS)).entries()) {
      const [x1, y1, x2, y2] = [r.x1, r.y1, r.x2, r.y2].map((v) => numberAt(v, boxesCsv, i));
      if (!(x2 > x1 && y2 > y1)) throw new UsageError(`${boxesCsv}: row ${i + 2}: the box is empty`);
      boxes.set(r.file, { x1, y1, x2, y2 });
    }
  }
  return rows.map((r, i) => ({
    file: r.file,
    yaw: numberAt(r.yaw_deg, labelsCsv, i),
    pitch: numberAt(r.pitch_deg, labelsCsv, i),
    roll: numberAt(r.roll_deg, labelsCsv, i),
    ...(boxes.has(r.file) ? { box: boxes.get(r.file) } : {}),
  }));
}

function numberAt(cell: string, csv: string, i: number): number {
  const x = cell === '' ? Number.NaN : Number(cell);
  if (!Number.isFinite(x)) throw new UsageError(`${csv}: row ${i + 2}: '${cell}' is not a number`);
  return x;
}

/** The boxes CSV to use: the given one, else face_boxes.csv beside the labels when it exists. */
export function boxesCsvFor(labelsCsv: string, given?: string): string | undefined {
  if (given) return given;
  const beside = join(dirname(resolve(labelsCsv)), 'face_boxes.csv');
  return existsSync(beside) ? beside : undefined;
}

/** The labelled face among the detected ones: the best overlap with its box (at least MIN_IOU), else the largest. */
export function labelledFace<F extends { box: Box }>(faces: readonly F[], box: Box | undefined): F | undefined {
  if (!box) return faces[0];
  let best: { face: F; iou: number } | undefined;
  for (const face of faces) {
    const iou = boxIou(face.box, box);
    if (iou >= MIN_IOU && iou > (best?.iou ?? -1)) best = { face, iou };
  }
  return best?.face;
}

interface Reading {
  label: PoseLabel;
  model: Pose;
  landmarks: Pose | null;
  box: Box;
}

/** Progress steps of evalPose: one read per photo, and a second pass per photo unless the model is measured alone. */
export function poseSteps(photos: number, estimator: PoseEstimator): number {
  return estimator === 'model' ? photos : 2 * photos;
}

export async function evalPose(
  engine: FaceEngine, labels: readonly PoseLabel[], root: string, estimator: PoseEstimator, bar?: Progress,
): Promise<PoseEvalReport> {
  const readings: Reading[] = [];
  for (const label of labels) {
    const face = await readLabelledFace(engine, root, label, (line) => (bar ? bar.note(line) : undefined));
    if (face) readings.push({ label, model: face.pose, landmarks: landmarkPose(face.landmarks68), box: face.box });
    face?.landmarks68.fill(0);
    bar?.tick();
  }
  let samples: PoseSample[];
  let frontalOffset: Pose | undefined;
  if (estimator === 'model') samples = readings.map((r) => sample(r.label, r.model));
  else {
    frontalOffset = facingOffset(readings);
    samples = [];
    bar?.tick(labels.length - readings.length); // photos without a face have no second pass
    for (const r of readings) {
      const pose = await trackedPose(engine, root, r, frontalOffset, estimator === 'track');
      if (pose) samples.push(sample(r.label, pose));
      bar?.tick();
    }
  }
  const { n, ...accuracy } = poseAccuracy(samples);
  return {
    estimator, images: labels.length, detected: samples.length, inRange: n, ...accuracy, ...(frontalOffset ? { frontalOffset } : {}),
  };
}

function sample(label: PoseLabel, est: Pose): PoseSample {
  return { trueYaw: label.yaw, truePitch: label.pitch, trueRoll: label.roll, yaw: est.yaw, pitch: est.pitch, roll: est.roll };
}

/** The labelled face of one photo, every model run on it (the stateless engine); undefined when none or unreadable. */
async function readLabelledFace(
  engine: FaceEngine, root: string, label: PoseLabel, progress: (line: string) => void,
): Promise<FaceAnalysis | undefined> {
  try {
    const img = await readImageFile(resolve(root, label.file));
    const faces = await engine.analyzeFrame(img);
    img.data.fill(0);
    const face = labelledFace(faces, label.box);
    for (const f of faces) if (f !== face) f.landmarks68.fill(0);
    return face;
  } catch (e: unknown) {
    if (!isRegtermError(e)) throw e;
    progress(`eval: ${e.message}`);
    return undefined;
  }
}

/** FRONTAL OFFSET (header): the median (fr_pose − landmark fit) per axis over photos fr_pose reads as facing. */
function facingOffset(readings: readonly Reading[]): Pose {
  const q = resolvePolicy().quality;
  const facing = readings.filter((r) => r.landmarks
    && Math.abs(r.model.yaw) <= q.maxYawDeg && Math.abs(r.model.pitch) <= q.maxPitchDeg && Math.abs(r.model.roll) <= q.maxRollDeg);
  if (facing.length === 0) throw new UsageError('eval pose: no photo reads as facing the camera: no frontal offset for a tracked estimator');
  const axis = (k: keyof Pose): number => median(facing.map((r) => r.model[k] - (r.landmarks as Pose)[k]));
  return { yaw: axis('yaw'), pitch: axis('pitch'), roll: axis('roll') };
}

/**
 * The photo as frame 2 of a face track that recorded `offset` on a frontal pose frame (ESTIMATORS in the header);
 * undefined when the track's primary face on the photo is not the labelled one.
 */
async function trackedPose(engine: FaceEngine, root: string, r: Reading, offset: Pose, turnOpen: boolean): Promise<Pose | undefined> {
  const track = new FaceTrack();
  track.next(r.box, 0, true);
  track.fromModel(offset, { yaw: 0, pitch: 0, roll: 0 });
  const img = await readImageFile(resolve(root, r.label.file));
  try {
    const [face] = await new FaceTracker(engine, track).next(img, { maxFaces: 1, tsMs: 33, poseEveryFrame: turnOpen });
    face?.landmarks68.fill(0);
    // the detector sees the same photo as in the first pass: the labelled face comes back with the same box
    return face && boxIou(face.box, r.box) >= SAME_FACE_IOU ? face.pose : undefined;
  } finally {
    img.data.fill(0);
  }
}
