import type { Component } from '../lib/agent.ts';
import type { ResultDecision, SessionRequest } from '../carrier/protocol.ts';
import type { OutboxEntry } from '../carrier/store.ts';
import type { Logger } from '../lib/logger.ts';
import { errorMessage } from '../lib/errors.ts';
import type { SessionRequestInput } from '../session/runner.ts';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** What the session shell (src/session/runner.ts) offers the agent. */
export interface SessionRunnerPort {
  /** always resolves with a decision (`cancelled` when `signal` aborts); called for one session at a time */
  run(request: SessionRequestInput, signal: AbortSignal): Promise<ResultDecision>;
  /** verdict LEDs; only after the result is durable */
  showVerdict(decision: ResultDecision): void;
}

/** The part of CarrierLink the session service uses. */
export interface SessionLink {
  onSessionRequest(listener: (request: SessionRequest) => void): () => void;
  submitResult(decision: ResultDecision): Promise<OutboxEntry>;
}

export interface SessionServiceOptions {
  runner: SessionRunnerPort;
  link: SessionLink;
  logger: Logger;
  /** called once per decided session, after its result was committed (or given up at stop) */
  onDecided?: (decision: ResultDecision, committed: boolean) => void;
  /** pause between attempts to commit a result that could not be made durable (disk full, outbox full) */
  commitRetryMs?: number;
}

/**
 * Runs accepted carrier requests through the session shell, one at a time, and owns the DESIGN §6 order: decision →
 * submitResult (fsync) → verdict LEDs. It is the agent's one busy guard (`busy`): the link's admission asks it and
 * refuses a second request as `busy`; the shell runs what it is given.
 * A result that could not be made durable (disk full, outbox full) is kept in memory, signed once, and its commit
 * retried every `commitRetryMs` until it succeeds; only then is the verdict shown (and the result published). The
 * session stays `busy` meanwhile. If the agent stops first, the result is given up: the session's accepted record
 * is still on disk, so the next start reports it as `interrupted`.
 *
 * INVARIANTS:
 * - stop() unsubscribes first, then aborts the running session and waits until its `cancelled` result is committed
 *   (one attempt), so the carrier learns of every session it started, and the link (stopped after this component)
 *   can still publish it.
 * - the decoded reference photo is zeroed when the session ends, whatever the runner did with it.
 */
export class SessionService implements Component {
  readonly name = 'session';
  private readonly log: Logger;
  private readonly outcomes: Record<string, number> = {};
  private unsubscribe?: () => void;
  private current?: { controller: AbortController; done: Promise<void> };

  constructor(private readonly options: SessionServiceOptions) {
    this.log = options.logger.child({ component: 'session' });
  }

  /** true while a session runs or its result waits to be durable: new requests are refused as `busy` */
  get busy(): boolean {
    return this.current !== undefined;
  }

  /** counts of decided sessions by decision since start (telemetry) */
  counts(): Record<string, number> {
    return { ...this.outcomes };
  }

  /** Resolves when the running session (if any) has ended and its result was handled. */
  async idle(): Promise<void> {
    await this.current?.done;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    this.unsubscribe = this.options.link.onSessionRequest((request) => this.accept(request));
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const current = this.current;
    if (!current) return;
    current.controller.abort();
    await current.done;
  }

  private accept(request: SessionRequest): void {
    if (this.current) {
      this.log.warn({ sessionId: request.sessionId }, 'request while a session runs; ignored');
      return;
    }
    const controller = new AbortController();
    const done = this.runOne(request, controller.signal).finally(() => { this.current = undefined; });
    this.current = { controller, done };
  }

  private async runOne(request: SessionRequest, signal: AbortSignal): Promise<void> {
    const { sessionId } = request;
    const reference = new Uint8Array(Buffer.from(request.reference.data, 'base64'));
    const startedAt = new Date().toISOString();
    this.log.info({ sessionId }, 'session started');
    let decision: ResultDecision;
    try {
      decision = await this.options.runner.run({
        sessionId, nonce: request.nonce, reference, referenceFormat: request.reference.format, policy: request.policy,
      }, signal);
    } catch (e: unknown) {
      // The runner promises to resolve; if it breaks that promise this is a bug, reported, and the accepted session
      // still gets its one answer.
      this.log.error({ sessionId, err: e }, `session runner threw: ${errorMessage(e)}`);
      decision = { sessionId, nonce: request.nonce, decision: 'error', decidedBy: 'agent', reason: 'internal_error',
        scores: {}, thresholds: {}, challenges: [], startedAt, finishedAt: new Date().toISOString() };
    } finally {
      reference.fill(0);
    }
    this.outcomes[decision.decision] = (this.outcomes[decision.decision] ?? 0) + 1;
    const committed = await this.commit(decision, signal);
    if (committed) this.options.runner.showVerdict(decision);
    this.log.info({ sessionId, decision: decision.decision, decidedBy: decision.decidedBy, committed }, 'session ended');
    this.options.onDecided?.(decision, committed);
  }

  /** Commits the result, retrying while it is not durable; false only when stopped before it could be. */
  private async commit(decision: ResultDecision, signal: AbortSignal): Promise<boolean> {
    const { sessionId } = decision;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.link.submitResult(decision);
        if (attempt > 1) this.log.info({ sessionId, attempts: attempt }, 'result committed after retries; verdict shown');
        return true;
      } catch (e: unknown) {
        if (signal.aborted) {
          this.log.error({ sessionId, decision: decision.decision, err: e },
            `result not durable at stop; the next start reports the session as interrupted: ${errorMessage(e)}`);
          return false;
        }
        if (attempt === 1) {
          this.log.error({ sessionId, decision: decision.decision, err: e },
            `result not durable yet; kept in memory and retried, verdict waits: ${errorMessage(e)}`);
        }
      }
      await sleep(this.options.commitRetryMs ?? 2000, signal);
    }
  }
}
