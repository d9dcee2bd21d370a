import type { Logger } from './logger.ts';
import { errorMessage, isCanceled } from './errors.ts';

/**
 * A part of the running agent with side effects. Constructors only assign; start() takes resources (processes,
 * sockets, files, timers) and stop() releases everything start() took. stop() must be safe after a failed or partial
 * start() and must not throw for "already stopped".
 */
export interface Component {
  readonly name: string;
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Lifecycle of the agent.
 *
 * INVARIANTS:
 * - components start in the given (dependency) order and stop in reverse;
 * - only components whose start() was entered are stopped;
 * - stop() is guarded: concurrent or repeated calls share one run;
 * - a stop() during start() aborts the start signal, start() stops between phases and the started ones are stopped;
 * - each stop runs in its own try/catch; a failing stop is logged and sets a non-zero exit code, the rest still run.
 */
export class Agent {
  private readonly startAbort = new AbortController();
  private readonly entered: Component[] = [];
  private stopping: Promise<number> | undefined;

  constructor(
    private readonly components: readonly Component[],
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    for (const component of this.components) {
      if (this.startAbort.signal.aborted) return;
      this.entered.push(component);
      const t0 = performance.now();
      await component.start(this.startAbort.signal);
      this.logger.info({ component: component.name, ms: Math.round(performance.now() - t0) }, 'started');
    }
  }

  /** Resolves to the exit code: 0 when every component stopped cleanly. */
  stop(reason: string): Promise<number> {
    this.stopping ??= this.runStop(reason);
    return this.stopping;
  }

  private async runStop(reason: string): Promise<number> {
    this.logger.info({ reason }, 'stopping');
    this.startAbort.abort();
    let exitCode = 0;
    for (const component of [...this.entered].reverse()) {
      try {
        await component.stop();
        this.logger.info({ component: component.name }, 'stopped');
      } catch (e: unknown) {
        if (isCanceled(e)) continue;
        exitCode = 1;
        this.logger.error({ component: component.name, err: e }, `stop failed: ${errorMessage(e)}`);
      }
    }
    return exitCode;
  }
}
