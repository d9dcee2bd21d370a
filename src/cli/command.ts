import type { Writable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, errorMessage } from '../lib/errors.ts';

/** What a command gets: its own arguments (after the command name) and the streams it writes to. */
export interface CommandContext {
  argv: string[];
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

/**
 * A CLI command module exports `run`, which resolves to the process exit code, and may export `USAGE`, which
 * `regterm COMMAND --help` prints (commands without it handle --help themselves).
 */
export type CommandRun = (ctx: CommandContext) => Promise<number>;

export interface CommandModule {
  run: CommandRun;
  USAGE?: string;
}

export function writeJson(out: Writable, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** node:util parseArgs, with a bad or unknown flag turned into a UsageError that names the command (exit 2). */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e: unknown) {
    throw new UsageError(`${command}: ${errorMessage(e)}`);
  }
}
