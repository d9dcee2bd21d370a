import type { QualityAssessment } from './quality.ts';
import type { SessionState } from './session-types.ts';
import type { FrameSignals } from './signals.ts';

/**
 * Which frames get an embedding (the embedders are the most expensive models; most frames need none):
 * - quality and match: frames that pass the quality gate (they anchor continuity and compete for the best-K match),
 *   at most one per `intervalMs` in quality, every such frame in match (it needs topK of them quickly);
 * - challenges: one frame per `intervalMs` whatever its pose, so continuity covers turned faces too — a swap of
 *   person mid-challenge is caught within about that interval.
 */
export class EmbedSelector {
  private lastMs = -Infinity;

  constructor(private readonly intervalMs = 400) {}

  /** `quality`: the frame's assessment under the session's policy (`assessQuality`) */
  want(state: SessionState, f: FrameSignals, quality: QualityAssessment): boolean {
    if (!f.face || f.faceCount === 0) return false;
    const due = f.tsMs - this.lastMs >= this.intervalMs;
    let yes = false;
    if (state === 'challenges') yes = due;
    else if (state === 'match') yes = quality.ok;
    else if (state === 'quality') yes = due && quality.ok;
    if (yes) this.lastMs = f.tsMs;
    return yes;
  }
}
