import type { Clock } from '../lib/clock.ts';

export interface RateLimitOptions {
  /** failed attempts allowed inside the window; the next start is refused (default 5) */
  maxFailures: number;
  /** sliding window in ms (default 10 min) */
  windowMs: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { maxFailures: 5, windowMs: 10 * 60_000 };

export type RateDecision = { allowed: true } | { allowed: false; reason: 'rate_limited'; retryAfterMs: number };

/**
 * Failed registration attempts per terminal, in a sliding window on an injected clock. Once `maxFailures` failures
 * fall inside the window, new sessions are refused with `rate_limited` until the oldest of them leaves the window.
 * In memory: a reboot resets it (the carrier keeps its own per-customer limits).
 */
export class FailureRateLimiter {
  private failures: number[] = [];

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    private readonly opts: RateLimitOptions = DEFAULT_RATE_LIMIT,
  ) {}

  check(): RateDecision {
    this.prune();
    if (this.failures.length < this.opts.maxFailures) return { allowed: true };
    const retryAfterMs = this.failures[0] + this.opts.windowMs - this.clock.now();
    return { allowed: false, reason: 'rate_limited', retryAfterMs };
  }

  recordFailure(): void {
    this.failures.push(this.clock.now());
  }

  private prune(): void {
    const cutoff = this.clock.now() - this.opts.windowMs;
    this.failures = this.failures.filter((t) => t > cutoff);
  }
}
