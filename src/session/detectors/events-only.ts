import type { SessionPolicy } from '../policy.ts';
import type { FrameSignals } from '../signals.ts';
import { BlinkDetector } from './blink.ts';
import { TurnDetector } from './turn.ts';

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
 */
export function detectClipEvents(
  frames: Iterable<FrameSignals>,
  policy: Pick<SessionPolicy, 'blink' | 'turn' | 'mirrored'>,
  clipStartMs = 0,
): ClipEvent[] {
  const blink = new BlinkDetector(policy.blink);
  const turn = new TurnDetector(policy.turn, policy.mirrored);
  const events: ClipEvent[] = [];
  const s = (t: number): number => Math.round((t - clipStartMs)) / 1000;
  const addTurns = (list: ReturnType<TurnDetector['push']>): void => {
    for (const t of list) {
      if (t.type !== 'turn_end' || t.endMs === undefined) continue;
      events.push({ type: t.direction === 'left' ? 'turn_left' : 'turn_right', startS: s(t.startMs), endS: s(t.endMs) });
    }
  };
  for (const f of frames) {
    const face = f.faceCount > 0 ? f.face : undefined;
    const b = blink.push(f.tsMs, face);
    if (b) events.push({ type: 'blink', startS: s(b.startMs), endS: s(b.endMs) });
    addTurns(turn.push(f.tsMs, face));
  }
  addTurns(turn.finish());
  return events.sort((a, b) => a.startS - b.startS || a.endS - b.endS);
}
