/**
 * Capped exponential backoff with full jitter (AWS architecture blog "Exponential Backoff And Jitter"):
 * delay = random() × min(maxMs, initialMs × 2^attempt). One policy for every retry loop (broker reconnects, camera
 * and GPIO tool restarts). Full jitter rather than equal jitter because the retry that matters most is a fleet
 * reconnecting to a restarted broker: spreading the attempts over the whole window instead of its upper half gives
 * the broker the fewest simultaneous connections; a local child that is restarted a little early only costs one
 * more failed start, and its next ceiling doubles. reset() after a success.
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
