/**
 * Injected time, so tests can drive timers (STYLE.md §12). Used by camera and panel.
 * `now()` is MONOTONIC milliseconds (`performance.now()` in production): frame `tsMs`, button and LED times are on
 * the same clock as the session's (src/session/clock.ts `performanceClock`), and an NTP step cannot reorder them.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
