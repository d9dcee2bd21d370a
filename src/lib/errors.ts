/**
 * Typed errors. Catch `unknown`, then narrow with the `isX` guards; never cast.
 *
 * - UsageError: the caller's input is wrong (bad flag, missing file, corrupt image, bad config). The CLI prints the
 *   message without a stack trace and exits with EXIT.usage.
 * - Expected cancellation is flagged `canceled: true` so it is not logged as a failure.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** a model file is missing or does not match models/manifest.json */
  models: 3,
  /** the camera could not be opened */
  camera: 4,
  config: 5,
  /** stopped on purpose to start again (EX_TEMPFAIL): systemd restarts it */
  restart: 75,
} as const;

export class RegtermError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

export class UsageError extends RegtermError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.usage, options);
  }
}

/**
 * What is wrong with an image's bytes (src/vision/photo-header.ts): not JPEG/PNG, not the format the sender declared,
 * too large, or unreadable.
 */
export type ImageProblem = 'unsupported' | 'format_mismatch' | 'too_large' | 'unreadable';

export class ImageDecodeError extends RegtermError {
  readonly problem: ImageProblem;
  constructor(message: string, problem: ImageProblem = 'unreadable', options?: { cause?: unknown }) {
    super(message, EXIT.usage, options);
    this.problem = problem;
  }
}

export class ModelIntegrityError extends RegtermError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.models, options);
  }
}

export class CanceledError extends Error {
  readonly canceled = true;
  constructor(message = 'canceled') {
    super(message);
    this.name = 'CanceledError';
  }
}

export const isRegtermError = (e: unknown): e is RegtermError => e instanceof RegtermError;
export const isUsageError = (e: unknown): e is UsageError => e instanceof UsageError;
export const isImageDecodeError = (e: unknown): e is ImageDecodeError => e instanceof ImageDecodeError;
export const isCanceled = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { canceled?: unknown }).canceled === true;

/** The message of anything thrown, for logs and CLI output. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
