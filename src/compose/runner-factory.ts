import { SessionRunner } from '../session/runner.ts';
import type { RunnerParts } from './compose.ts';
import type { SessionRunnerPort } from './session-service.ts';

/** The production session shell (src/session/runner.ts) from the parts compose.ts built. */
export function createRunner(parts: RunnerParts): SessionRunnerPort {
  return new SessionRunner(parts);
}
