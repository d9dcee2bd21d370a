import type { Logger } from '../lib/logger.ts';
import { EXIT, errorMessage, isCanceled, isRegtermError } from '../lib/errors.ts';

/** The slice of `process` the lifecycle listens on; tests pass an EventEmitter. */
export interface ProcessEvents {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

export interface Stoppable {
  start(): Promise<void>;
  /** guarded: repeated calls share one run; resolves to the exit code */
  stop(reason: string): Promise<number>;
}

export interface RunOptions {
  proc: ProcessEvents;
  logger: Logger;
  /** called when the stop finished, before the returned promise resolves (close the notifier, flush) */
  onStopped?: (exitCode: number) => void;
  /** resolves with a reason when the agent asks to be started again (remote configuration): stop, exit RESTART */
  restartRequested?: Promise<string>;
}

/**
 * Runs the agent until SIGTERM/SIGINT or a crash (z2m index.js `handleQuit`; STYLE.md §10).
 *
 * - SIGTERM / SIGINT: one guarded stop() (a second signal does not start another); exit code 0 when every component
 *   stopped cleanly. The process is never exited from the signal handler: the stop drains the outbox and turns the
 *   LEDs off first.
 * - A failed start: logged with its error, everything started so far is stopped, exit code of the error
 *   (RegtermError's own, e.g. 4 = camera, 3 = models) or 1.
 * - A restart request (a remote configuration that cannot change live): the same stop, exit code EXIT.restart, so
 *   the supervisor (systemd Restart=on-failure) starts the agent again with the new configuration.
 * - uncaughtException / unhandledRejection: logged at fatal with the error, then the same stop; exit code 1 so systemd
 *   (Restart=on-failure) restarts the agent. Nothing thrown is silent.
 * Resolves with the exit code once the stop has finished; listeners are removed by then.
 */
export function runUntilStopped(agent: Stoppable, options: RunOptions): Promise<number> {
  const { proc, logger } = options;
  let failureCode: number | undefined;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => { resolveDone = resolve; });
  let stopping: Promise<void> | undefined;

  const stop = (reason: string, code?: number): void => {
    if (code !== undefined && failureCode === undefined) failureCode = code;
    stopping ??= agent.stop(reason).then((stopCode) => {
      for (const [event, listener] of listeners) proc.off(event, listener);
      const exitCode = failureCode ?? stopCode;
      logger.info({ exitCode }, 'agent stopped');
      options.onStopped?.(exitCode);
      resolveDone(exitCode);
    });
  };
  const onSignal = (signal: unknown) => {
    logger.info({ signal }, 'signal received');
    stop(String(signal));
  };
  const onCrash = (kind: string) => (e: unknown) => {
    logger.fatal({ err: e }, `${kind}: ${errorMessage(e)}`);
    stop(kind, EXIT.failure);
  };
  const listeners: Array<[string, (...args: unknown[]) => void]> = [
    ['SIGTERM', onSignal], ['SIGINT', onSignal],
    ['uncaughtException', onCrash('uncaught exception')], ['unhandledRejection', onCrash('unhandled rejection')],
  ];
  for (const [event, listener] of listeners) proc.on(event, listener);
  void options.restartRequested?.then((reason) => {
    logger.info({ reason }, 'restart requested');
    stop(`restart: ${reason}`, EXIT.restart);
  });

  agent.start().then(
    () => { if (!stopping) logger.info('agent running'); },
    (e: unknown) => {
      if (stopping && isCanceled(e)) return; // a signal arrived while starting: not a failure
      logger.error({ err: e }, `start failed: ${errorMessage(e)}`);
      stop('start failed', isRegtermError(e) ? e.exitCode : EXIT.failure);
    },
  );
  return done;
}
