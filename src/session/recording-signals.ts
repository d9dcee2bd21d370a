import { i420ToRgb } from '../camera/i420.ts';
import { ReplaySource } from '../camera/replay-source.ts';
import type { Logger } from '../lib/logger.ts';
import type { FaceEngine } from '../vision/engine.ts';
import type { FaceTrackOptions } from '../vision/face-track.ts';
import type { TrackedFrameOptions } from '../vision/face-tracker.ts';
import type { SessionPolicy } from './policy.ts';
import type { AnalysedFrame } from './runner.ts';
import type { FrameSignals } from './signals.ts';
import { frameSignals } from './vision-signals.ts';

/**
 * Every frame of a recording (directory or video file) through the face engine, as session `FrameSignals` — the
 * same replay source, I420→RGB conversion and vision adapter the session runner uses, so events-only scores measure
 * what a session sees: one face tracker per recording, as a session has one (the hybrid head pose, the iris lid cue, anti-spoof on
 * alternate frames and the carried detector box; a study passes `{ poseEvery: 1 }` for fr_pose on every frame), reset when the
 * recording ends. Frames, RGB buffers and landmarks are zeroed as soon as they are analysed; `t0Ms` is the first
 * frame's recorded time.
 */
export async function recordingSignals(
  engine: Pick<FaceEngine, 'tracker'>, path: string, logger: Logger, onFrame?: (f: AnalysedFrame) => void,
  tracking: Tracking = {},
): Promise<{ signals: FrameSignals[]; t0Ms: number }> {
  const source = new ReplaySource({ path, pace: 'fast', logger: logger.child({ component: 'camera' }) });
  await source.start();
  const { poseEveryFrame, ...trackOptions } = tracking;
  const tracker = engine.tracker(trackOptions);
  const signals: FrameSignals[] = [];
  let rgb: Uint8Array | undefined;
  let t0Ms: number | undefined;
  try {
    for await (const f of source.frames()) {
      t0Ms ??= f.tsMs;
      if (rgb?.length !== f.width * f.height * 3) {
        rgb?.fill(0);
        rgb = new Uint8Array(f.width * f.height * 3);
      }
      const image = { width: f.width, height: f.height, data: i420ToRgb(f, rgb) };
      f.data.fill(0);
      const faces = await tracker.next(image, { maxFaces: 2, tsMs: f.tsMs, poseEveryFrame });
      const s = frameSignals(faces, { tsMs: f.tsMs, width: f.width, height: f.height, seq: f.seq });
      onFrame?.({ tsMs: f.tsMs, image, faces, signals: s });
      image.data.fill(0);
      for (const face of faces) face.landmarks68.fill(0);
      signals.push(s);
    }
  } finally {
    rgb?.fill(0);
    tracker.reset();
    await source.stop();
  }
  return { signals, t0Ms: t0Ms ?? 0 };
}

/** How a recording's face tracker is set up: its track's options, and fr_pose on every frame or not. */
export type Tracking = FaceTrackOptions & Pick<TrackedFrameOptions, 'poseEveryFrame'>;

/**
 * The face track of events-only scoring (`regterm replay --events-only`, `regterm eval events`), whose detectors look for
 * every event on every frame: the session's track with fr_pose on every frame, as while a session's turn challenge is
 * open (face-track.ts, POSE ON EVERY FRAME); the rest of its plan, and so the blink evidence, is the session's own.
 */
export function eventsTrack(policy: SessionPolicy): Tracking {
  return { lidMeasureBelow: policy.blink.closedBelow, poseEveryFrame: true };
}
