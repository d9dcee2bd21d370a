import type { ResultDecision } from '../carrier/protocol.ts';
import type { Logger } from '../lib/logger.ts';
import { errorMessage } from '../lib/errors.ts';
import type { AnalysedFrame, ProgressEvent } from '../session/runner.ts';
import type { TraceStore } from '../session/trace-store.ts';
import { TraceCollector, type TraceThresholds } from '../session/trace.ts';

/**
 * Keeps a numeric trace of every session the agent runs (session/trace.ts: no image, landmark or embedding) and
 * stores it once the session's result is handled. One session runs at a time: a progress event of a new session id
 * starts a new trace. `thresholds` are the deployment's (a carrier request may tighten its own session's).
 */
export class TraceRecorder {
  private current?: { sessionId: string; collector: TraceCollector };

  constructor(private readonly store: TraceStore | undefined, private readonly thresholds: () => TraceThresholds,
    private readonly logger: Logger, private readonly now: () => number = Date.now) {}

  progress(sessionId: string, e: ProgressEvent): void {
    if (!this.store) return;
    if (this.current?.sessionId !== sessionId) {
      this.current = { sessionId, collector: new TraceCollector(this.thresholds(), { sessionId, startedAt: new Date(this.now() - e.atMs).toISOString() }) };
    }
    this.current.collector.progress(e);
  }

  frame(f: AnalysedFrame): void {
    this.current?.collector.frame(f);
  }

  /** The session's result was handled: its trace is saved (a failure to save is logged, never fatal). */
  end(decision: ResultDecision): void {
    const current = this.current;
    this.current = undefined;
    if (!this.store || current?.sessionId !== decision.sessionId) return;
    try {
      this.store.save({ ...current.collector.trace({ decision: decision.decision, decidedBy: decision.decidedBy,
        ...(decision.reason ? { reason: decision.reason } : {}) }), sessionId: current.sessionId });
    } catch (e: unknown) {
      this.logger.warn({ sessionId: decision.sessionId, err: errorMessage(e) }, 'session trace not saved');
    }
  }
}
