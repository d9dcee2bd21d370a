/**
 * The per-frame pose data of the annotated clips and the hybrid pose's quality-gate agreement with fr_pose, for
 * test/hil/vision/hybrid-gate.spec.ts and the studies in research/ that read the same clips (landmark-pose-clips.ts,
 * detskip-study.ts, iris-blink-*.ts, blink-gaze-*.ts).
 *
 * Clips: every annotated clip (*.events.csv) of the four video sets, in set order then file name, alternating half A
 * and half B (the split of test/hil/session/score-events.ts). Each goes through the SAME path as
 * `regterm replay --events-only` (recordingSignals: replay source, I420 -> RGB, face engine, vision adapter) on a
 * face track with fr_pose and the detector on every frame: per frame the frame signals (fr_pose's angles) and the
 * landmark fit's angles.
 * A cache DIR keeps them as JSON (angles and signals only: no pixels, no coordinates, no embeddings; a tmp dir, never
 * the repo).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../../src/lib/logger.ts';
import { faceDataRoot } from '../../face-data.ts';
import type { SessionPolicy } from '../../../src/session/policy.ts';
import { recordingSignals } from '../../../src/session/recording-signals.ts';
import type { FrameSignals } from '../../../src/session/signals.ts';
import type { FaceEngine } from '../../../src/vision/engine.ts';
import { landmarkPose } from '../../../src/vision/landmark-pose.ts';
import { hybridPoses } from './hybrid-poses.ts';
import type { Angles } from './hybrid-poses.ts';

const SETS = ['liveportrait_driving_videos', 'sadtalker_hdtf_ref_videos', 'pcavs_pose_source', 'dagan_driving_video'];

export interface ClipFile {
  set: string;
  name: string;
  half: 'A' | 'B';
}

export interface PoseClip extends ClipFile {
  /** the clip's events.csv text */
  csv: string;
  /** per frame: the session's signals with fr_pose's angles */
  signals: FrameSignals[];
  t0Ms: number;
  /** per frame: the landmark fit of the primary face (null: no face or no fit) */
  landmark: Array<Angles | null>;
}

/** The 13 annotated clips in the study's order with their halves. */
export function clipFiles(data = faceDataRoot()): ClipFile[] {
  const files: ClipFile[] = [];
  for (const set of SETS) {
    for (const file of readdirSync(join(data, set)).filter((f) => f.endsWith('.events.csv')).sort()) {
      files.push({ set, name: file.replace('.events.csv', ''), half: files.length % 2 === 0 ? 'A' : 'B' });
    }
  }
  return files;
}

/** One clip's per-frame fr_pose signals and landmark angles, from `cacheDir` when it holds them. */
export async function loadPoseClip(
  engine: Pick<FaceEngine, 'tracker'>, logger: Logger, clip: ClipFile, cacheDir?: string, data = faceDataRoot(),
): Promise<PoseClip> {
  const cached = cacheDir ? join(cacheDir, `${clip.set}--${clip.name}.json`) : undefined;
  let frames: { signals: FrameSignals[]; t0Ms: number; landmark: Array<Angles | null> };
  if (cached && existsSync(cached)) frames = JSON.parse(readFileSync(cached, 'utf8'));
  else {
    const landmark: Array<Angles | null> = [];
    // fr_pose and the detector on every frame (a track with poseEvery 1, detectEvery 1): the study's reference source
    const r = await recordingSignals(engine, join(data, clip.set, `${clip.name}.mp4`), logger, (f) => {
      const p = f.faces[0] ? landmarkPose(f.faces[0].landmarks68) : null;
      landmark.push(p ? { yaw: p.yaw, pitch: p.pitch, roll: p.roll } : null);
    }, { poseEvery: 1, detectEvery: 1 });
    frames = { ...r, landmark };
    if (cacheDir && cached) {
      mkdirSync(cacheDir, { recursive: true });
      writeFileSync(cached, JSON.stringify(frames));
    }
  }
  return { ...clip, csv: readFileSync(join(data, clip.set, `${clip.name}.events.csv`), 'utf8'), ...frames };
}

export const frPose = (f: FrameSignals): Angles => ({ yaw: f.face!.yawDeg, pitch: f.face!.pitchDeg, roll: f.face!.rollDeg });

/**
 * The hybrid's angles per frame (fr_pose on every `every`-th tracked frame, landmark angles + offset between; the
 * engine's FaceTrack, hybrid-poses.ts); undefined where the frame has no face or no landmark fit.
 */
export function clipHybridPoses(c: PoseClip, every: number): Array<Angles | undefined> {
  const frames = c.signals.map((g, k) => (g.face && c.landmark[k] ? { model: frPose(g), landmark: c.landmark[k]!, box: g.face.box, tsMs: g.tsMs } : undefined));
  return hybridPoses(frames, every).poses;
}

/** The pose part of the quality gate (src/session/quality.ts): |yaw|, |pitch|, |roll| within the policy's limits. */
export function poseGate(q: SessionPolicy['quality']): (p: Angles | undefined) => boolean {
  return (p) => p !== undefined && Math.abs(p.yaw) <= q.maxYawDeg && Math.abs(p.pitch) <= q.maxPitchDeg && Math.abs(p.roll) <= q.maxRollDeg;
}

/**
 * Frames of the clip on which the hybrid 1/`every` makes the same pose-gate decision as fr_pose (a frame without a
 * face fails the gate under both), and the clip's frame count.
 */
export function hybridGateAgreement(c: PoseClip, every: number, inGate: (p: Angles | undefined) => boolean): { agree: number; frames: number } {
  const hybrid = clipHybridPoses(c, every);
  let agree = 0;
  c.signals.forEach((f, i) => {
    if (inGate(f.face ? frPose(f) : undefined) === inGate(hybrid[i])) agree++;
  });
  return { agree, frames: c.signals.length };
}
