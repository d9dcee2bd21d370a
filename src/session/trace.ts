import type { SessionPolicy } from './policy.ts';
import type { AnalysedFrame, ProgressEvent } from './runner.ts';

/**
 * A session's numeric trace: the per-frame numbers its decision used (yaw, eye openness, lid opening, anti-spoof
 * score, face luminance), the prompts, challenge and state events, the light challenge's LED sequence, the thresholds
 * they were read against and the decision. Never an image, a crop, a landmark set or an embedding: only the scalars below exist in it, so it may be
 * kept on the terminal and sent to the carrier for field debugging. `regterm replay --report` and `regterm trace`
 * render the same structure (report-html.ts).
 */
export const TRACE_VERSION = 1;
/** ~4 minutes at 25 fps: longer sessions keep their first MAX_POINTS frames (a session times out long before). */
export const MAX_POINTS = 6000;
const MAX_MARKS = 500;

/** One frame; a face frame without `antispoof` was not scored, one without `lids` had no lid reading. */
export interface TracePoint {
  tS: number;
  faces: number;
  yaw?: number;
  eyes?: number;
  lids?: number;
  antispoof?: number;
  luma?: number;
}

/**
 * `answer_started`: when the blink or turn that passed a challenge started; `answer_outside_window`: when the first
 * one of the asked kind started outside the reaction window of a failed challenge (too soon or too late).
 */
export type TraceMarkKind =
  | 'prompt' | 'state' | 'challenge_started' | 'challenge_passed' | 'challenge_failed' | 'answer_started' | 'answer_outside_window' | 'other';

export interface TraceMark {
  tS: number;
  kind: TraceMarkKind;
  /** the prompt, the state entered, or the challenge type */
  label: string;
}

/** What the lanes are read against (policy values of the session). */
export interface TraceThresholds {
  /** |yaw| from the customer's frontal a turn must reach */
  turnDeg?: number;
  /** an eye reads closed below this */
  eyeClosedBelow?: number;
  /** the iris lid reading that vetoes a closure (relative to the eye's usual opening) */
  lidOpenAbove?: number;
  /** anti-spoof scores below this count as spoof */
  antispoof?: number;
}

/** The LED sequence the light challenge flashed: chip i (1 = on) lasts from startS + i·chipMs. */
export interface TraceLight {
  startS: number;
  chipMs: number;
  chips: string;
}

export interface SessionTrace {
  v: typeof TRACE_VERSION;
  sessionId?: string;
  startedAt?: string;
  thresholds: TraceThresholds;
  points: TracePoint[];
  marks: TraceMark[];
  light?: TraceLight;
  decision?: { decision: string; decidedBy: string; reason?: string };
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

/** Builds a trace from the runner's `onFrame` and `onProgress` hooks. Keeps numbers only. */
export class TraceCollector {
  private readonly points: TracePoint[] = [];
  private readonly marks: TraceMark[] = [];
  private light?: TraceLight;
  /** the open challenge's prompt time: answer marks are placed from it */
  private promptS = 0;

  constructor(private readonly thresholds: TraceThresholds = {}, private readonly meta: { sessionId?: string; startedAt?: string } = {}) {}

  /**
   * Frames from a session carry their session time (`atMs`, the axis of the progress events); frames from a bare
   * recording are placed at `tsMs - t0Ms`.
   */
  frame(f: AnalysedFrame, t0Ms = 0): void {
    if (this.points.length >= MAX_POINTS) return;
    const s = f.signals.face;
    const tS = round((f.atMs ?? f.tsMs - t0Ms) / 1000, 3);
    if (!s) {
      this.points.push({ tS, faces: f.faces.length });
      return;
    }
    const lids = [s.leftLidOpen, s.rightLidOpen].filter((v): v is number => v !== undefined);
    this.points.push({
      tS, faces: f.faces.length, yaw: round(s.yawDeg, 2), eyes: round(Math.max(s.leftEyeOpen, s.rightEyeOpen), 3),
      luma: round(s.faceLuma, 2),
      ...(s.antispoof === undefined ? {} : { antispoof: round(s.antispoof, 4) }),
      ...(lids.length > 0 ? { lids: round(Math.max(...lids), 3) } : {}),
    });
  }

  progress(e: ProgressEvent): void {
    if (this.marks.length >= MAX_MARKS) return;
    const tS = round(e.atMs / 1000, 3);
    const d = e.detail;
    if (typeof d?.lightChips === 'string' && /^[01]{1,256}$/.test(d.lightChips) && typeof d.lightStartMs === 'number'
      && typeof d.lightChipMs === 'number') {
      this.light = { startS: round(d.lightStartMs / 1000, 3), chipMs: d.lightChipMs, chips: d.lightChips };
    }
    if (e.event === 'prompt' && e.prompt) this.marks.push({ tS, kind: 'prompt', label: e.prompt });
    else if (e.event === 'state') this.marks.push({ tS, kind: 'state', label: e.state });
    else if (e.event === 'challenge_started' || e.event === 'challenge_passed' || e.event === 'challenge_failed') {
      const label = String(e.detail?.challenge ?? '');
      if (e.event === 'challenge_started') this.promptS = tS;
      const answer = e.event === 'challenge_passed' ? d?.answerStartMs : d?.outsideWindowStartMs;
      if (typeof answer === 'number') {
        this.marks.push({ tS: round(this.promptS + answer / 1000, 3), kind: e.event === 'challenge_passed' ? 'answer_started' : 'answer_outside_window', label });
      }
      this.marks.push({ tS, kind: e.event, label });
    } else this.marks.push({ tS, kind: 'other', label: e.event });
  }

  trace(decision?: SessionTrace['decision']): SessionTrace {
    return {
      v: TRACE_VERSION, ...this.meta, thresholds: this.thresholds, points: [...this.points], marks: [...this.marks],
      ...(this.light ? { light: this.light } : {}),
      ...(decision ? { decision } : {}),
    };
  }
}

/** The thresholds a session's lanes are read against, from its resolved policy. */
export function traceThresholds(policy: SessionPolicy): TraceThresholds {
  return { turnDeg: policy.turn.enterDeg, eyeClosedBelow: policy.blink.closedBelow, lidOpenAbove: policy.blink.lidOpenAbove,
    antispoof: policy.antispoof.threshold };
}
