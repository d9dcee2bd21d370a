import { AntispoofAggregator } from './evidence.ts';
import type { SessionPolicy } from './policy.ts';
import { assessQuality } from './quality.ts';
import type { FrameSignals } from './signals.ts';

/**
 * The session's passive anti-spoof decision replayed over a whole clip (`regterm replay --events-only --json`,
 * `regterm eval events`): every window of WINDOW_MS, STEP_MS apart, aggregates the frames a session
 * would have aggregated (quality-passing frames that carry their own score) with the session's own
 * AntispoofAggregator. A window with fewer than `minFrames` scored frames is not counted (the session would decide
 * quality_failed there, not spoof); a counted window that is not `live` is one where a session would decide `spoof`.
 * Five seconds is shorter than any session (quality hold + four challenges + match), so a window holds less
 * evidence than a session and errs towards refusing.
 */
export const ANTISPOOF_WINDOW_MS = 5000;
export const ANTISPOOF_STEP_MS = 1000;

/** One frame as the window rule reads it: its time, whether the session would count it, its score if scored. */
export interface WindowFrame {
  readonly tsMs: number;
  readonly score: number | undefined;
}

export interface AntispoofWindows {
  /** windows with enough scored frames for a session to decide */
  windows: number;
  /** of those, windows a session would decide `spoof` */
  spoofWindows: number;
  /** the lowest window aggregate (the session's statistic), absent when no window counted */
  lowest?: number;
}

/**
 * Windows over frames that count: [t, t + WINDOW_MS) from the first counted frame, STEP_MS apart, while the window
 * ends by the last counted frame. `score` undefined = a frame that adds no evidence (not scored, or not counted).
 */
export function windowDecisions(frames: readonly WindowFrame[], cfg: SessionPolicy['antispoof']): AntispoofWindows {
  const counted = frames.filter((f): f is { tsMs: number; score: number } => f.score !== undefined && Number.isFinite(f.score));
  const out: AntispoofWindows = { windows: 0, spoofWindows: 0 };
  const endMs = counted.at(-1)?.tsMs ?? 0;
  for (let t = counted[0]?.tsMs ?? 0; counted.length > 0 && t + ANTISPOOF_WINDOW_MS <= endMs; t += ANTISPOOF_STEP_MS) {
    const agg = new AntispoofAggregator(cfg);
    for (const f of counted) if (f.tsMs >= t && f.tsMs < t + ANTISPOOF_WINDOW_MS) agg.add(f.score);
    const s = agg.summary();
    if (!s.enough) continue;
    out.windows++;
    if (!s.live) out.spoofWindows++;
    out.lowest = Math.min(out.lowest ?? s.score, s.score);
  }
  return out;
}

/** The frames of a clip as a session counts them: quality-passing frames (assessQuality) with their own score. */
export function sessionWindowFrames(signals: readonly FrameSignals[], quality: SessionPolicy['quality']): WindowFrame[] {
  return signals.map((f) => ({
    tsMs: f.tsMs,
    score: f.face?.antispoof !== undefined && assessQuality(f, quality).ok ? f.face.antispoof : undefined,
  }));
}

/** Anti-spoof windows of a clip under `policy`, exactly as a session would aggregate and decide them. */
export function antispoofWindows(signals: readonly FrameSignals[], policy: Pick<SessionPolicy, 'quality' | 'antispoof'>): AntispoofWindows {
  return windowDecisions(sessionWindowFrames(signals, policy.quality), policy.antispoof);
}
