/**
 * The hybrid pose source of the landmark-pose study (scripts/models/landmark-pose.md): what an engine running fr_pose
 * on a fraction of the tracked frames would report. fr_pose runs on the first tracked frame and on every `every`-th
 * tracked frame after it (the count restarts when the face is lost); every other frame reports the landmark angles,
 * each axis shifted by the median (fr_pose - landmark) over the last `samples` fr_pose frames. The offset carries
 * fr_pose's absolute reference (the person-dependent pitch the generic landmark face gets wrong); the landmarks carry
 * the motion between samples.
 */
import type { Angles } from './landmark-pose-stats.ts';

/** Per tracked frame both readings (only sampled frames' `model` is read); undefined = no face / no landmark fit. */
export type PairedFrame = { model: Angles; landmark: Angles } | undefined;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The hybrid's angles per frame (undefined where the frame has no face), and which frames ran fr_pose. */
export function hybridPoses(frames: readonly PairedFrame[], every: number, samples = 3): { poses: Array<Angles | undefined>; modelFrames: number } {
  const poses: Array<Angles | undefined> = [];
  let tracked = 0;
  let offsets: Angles[] = [];
  let modelFrames = 0;
  for (const f of frames) {
    if (!f) {
      tracked = 0;
      offsets = [];
      poses.push(undefined);
      continue;
    }
    if (tracked++ % every === 0) {
      modelFrames++;
      const { model: m, landmark: l } = f;
      offsets = [...offsets, { yaw: m.yaw - l.yaw, pitch: m.pitch - l.pitch, roll: m.roll - l.roll }].slice(-samples);
      poses.push(m);
      continue;
    }
    const l = f.landmark;
    poses.push({
      yaw: l.yaw + median(offsets.map((o) => o.yaw)),
      pitch: l.pitch + median(offsets.map((o) => o.pitch)),
      roll: l.roll + median(offsets.map((o) => o.roll)),
    });
  }
  return { poses, modelFrames };
}
