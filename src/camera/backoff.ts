/**
 * Capped exponential backoff with equal jitter (balena src/lib/backoff.ts): attempt n waits
 * min(maxMs, initialMs * 2^n) * (0.5 + random/2), so a fleet restarting at once spreads out but never waits less
 * than half the step. `random` is injected so tests are deterministic.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  random?: () => number;
}

export function backoffDelay(attempt: number, o: BackoffOptions): number {
  const step = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(attempt, 30));
  const r = (o.random ?? Math.random)();
  return Math.round(step * (0.5 + r / 2));
}
