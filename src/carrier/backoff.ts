/**
 * Capped exponential backoff with full jitter (AWS architecture blog "Exponential Backoff And Jitter"):
 * delay = random() × min(maxMs, initialMs × 2^attempt). Full jitter spreads a fleet's reconnects over the whole
 * window, so thousands of terminals do not stampede a restarted broker. reset() after a successful connect.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** uniform in [0, 1); injected so tests are deterministic */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly options: BackoffOptions) {}

  next(): number {
    const ceiling = Math.min(this.options.maxMs, this.options.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.floor((this.options.random ?? Math.random)() * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/** The timer seam (MQTT.js get-timer.ts): fake timers or a test clock drive reconnects and resends. */
export interface Timer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const REAL_TIMER: Timer = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
