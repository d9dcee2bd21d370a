import type { SessionPolicy } from '../policy.ts';
import type { FrameSignals } from '../signals.ts';
import { BlinkDetector } from './blink.ts';
import { TurnDetector, frontalYaw } from './turn.ts';

export type ClipEventType = 'blink' | 'turn_left' | 'turn_right';

/** One detected event, in seconds from the clip start, [startS, endS) like the data set's *.events.csv. */
export interface ClipEvent {
  type: ClipEventType;
  startS: number;
  endS: number;
}

/**
 * Events-only mode (`regterm replay --events-only`): the same blink and turn detectors the challenges use, run over a
 * whole clip's signals, for scoring against hand-made ground truth. Turns are reported whether or not they started
 * from frontal (a clip may open mid-turn). `clipStartMs` is the timestamp of the clip's first frame.
 *
 * FRONTAL BASELINE: a session measures the subject's frontal yaw during its quality gate; a clip has no gate, so turns
 * are measured from `clipFrontalYaw` (the whole clip is read before detecting: offline mode).
 */
export function detectClipEvents(
  frames: Iterable<FrameSignals>,
  policy: Pick<SessionPolicy, 'blink' | 'turn' | 'mirrored' | 'quality'>,
  clipStartMs = 0,
): ClipEvent[] {
  const all = [...frames];
  const blink = new BlinkDetector(policy.blink);
  const turn = new TurnDetector(policy.turn, policy.mirrored, clipFrontalYaw(all, policy));
  const events: ClipEvent[] = [];
  const s = (t: number): number => Math.round((t - clipStartMs)) / 1000;
  const addTurns = (list: ReturnType<TurnDetector['push']>): void => {
    for (const t of list) {
      if (t.type !== 'turn_end' || t.endMs === undefined) continue;
      events.push({ type: t.direction === 'left' ? 'turn_left' : 'turn_right', startS: s(t.startMs), endS: s(t.endMs) });
    }
  };
  for (const f of all) {
    const face = f.faceCount > 0 ? f.face : undefined;
    const b = blink.push(f.tsMs, face);
    if (b) events.push({ type: 'blink', startS: s(b.startMs), endS: s(b.endMs) });
    addTurns(turn.push(f.tsMs, face));
  }
  addTurns(turn.finish());
  return events.sort((a, b) => a.startS - b.startS || a.endS - b.endS);
}

/**
 * A clip's frontal yaw: the median yaw of its frames that pass the quality gate's facing test (|yaw| <= maxYawDeg,
 * |pitch| <= maxPitchDeg), provided the clip holds such frames for quality.holdMs without a break at least once
 * (the gate would have passed). A clip without that frontal phase (turned from its first frame to its last) has no
 * frontal reference: 0, absolute yaw. Frames of a turn inside the band are a minority the median ignores.
 */
export function clipFrontalYaw(frames: readonly FrameSignals[], policy: Pick<SessionPolicy, 'turn' | 'quality'>): number {
  const q = policy.quality;
  const yaws: number[] = [];
  let runStart: number | undefined;
  let lastTs: number | undefined;
  let held = false;
  for (const f of frames) {
    const face = f.faceCount > 0 ? f.face : undefined;
    const facing = face !== undefined && Math.abs(face.yawDeg) <= q.maxYawDeg && Math.abs(face.pitchDeg) <= q.maxPitchDeg;
    if (!facing || (lastTs !== undefined && f.tsMs - lastTs > q.maxGapMs)) runStart = undefined;
    lastTs = f.tsMs;
    if (!facing) continue;
    yaws.push(face.yawDeg);
    runStart ??= f.tsMs;
    held ||= f.tsMs - runStart >= q.holdMs;
  }
  return held ? frontalYaw(yaws, policy.turn.maxFrontalBiasDeg) : 0;
}
