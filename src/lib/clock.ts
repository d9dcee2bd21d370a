/**
 * The one time seam (STYLE.md §12): code that reads the time or arms a timer takes a Clock, so tests drive time by
 * hand or with fake timers. `now()` is MONOTONIC milliseconds (`performance.now()` in production): frame `tsMs`,
 * button and LED times and session deadlines are on one clock, and an NTP step cannot reorder them. Wall-clock times
 * (ISO times in results, token expiry) are separate `() => number` options that default to `Date.now`.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The part of a Clock that arms timers, for code that reads no monotonic time (MQTT.js get-timer.ts). */
export type Timer = Pick<Clock, 'setTimeout' | 'clearTimeout'>;

export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** A clock tests move by hand, for code that only reads the time. */
export class ManualClock implements Pick<Clock, 'now'> {
  private t: number;
  constructor(startMs = 0) {
    this.t = startMs;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
  set(ms: number): void {
    this.t = ms;
  }
}
