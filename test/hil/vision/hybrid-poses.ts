/**
 * The hybrid pose source of the landmark-pose study (research/landmark-pose.md) replayed over recorded angle
 * pairs: the engine's own `FaceTrack` (src/vision/face-track.ts) driven frame by frame, so the study scores exactly
 * the pose a face tracker (`FaceEngine.tracker().next`) reports. A frame without a face or without a landmark fit
 * loses the track (the study's rule; the engine instead runs fr_pose on a failed fit and keeps the track).
 */
import type { Box } from '../../../src/vision/warp.ts';
import { FaceTrack } from '../../../src/vision/face-track.ts';

/** Head pose in degrees. */
export type Angles = { yaw: number; pitch: number; roll: number };

/**
 * Per tracked frame both readings (only model frames' `model` is read), and optionally the primary box and frame time
 * (the track's jump and gap rules); undefined = no face / no landmark fit.
 */
export type PairedFrame = { model: Angles; landmark: Angles; box?: Box; tsMs?: number } | undefined;

/** The hybrid's angles per frame (undefined where the frame has no face), and how many frames ran fr_pose. */
export function hybridPoses(frames: readonly PairedFrame[], every: number, samples = 3): { poses: Array<Angles | undefined>; modelFrames: number } {
  const track = new FaceTrack({ poseEvery: every, poseSamples: samples });
  const poses: Array<Angles | undefined> = [];
  let modelFrames = 0;
  for (const f of frames) {
    if (!f) {
      track.lost();
      poses.push(undefined);
    } else if (track.next(f.box, f.tsMs, true).pose === 'model') {
      modelFrames++;
      poses.push(track.fromModel(f.model, f.landmark));
    } else poses.push(track.fromLandmarks(f.landmark));
  }
  return { poses, modelFrames };
}
