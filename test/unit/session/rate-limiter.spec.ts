import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/lib/clock.ts';
import { countsAsFailure } from '../../../src/session/decision.ts';
import { FailureRateLimiter } from '../../../src/session/rate-limiter.ts';

describe('FailureRateLimiter', () => {
  it('refuses with rate_limited after N failures in the window, until the oldest leaves it', () => {
    const clock = new ManualClock(1_000);
    const limiter = new FailureRateLimiter(clock, { maxFailures: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      expect(limiter.check().allowed).toBe(true);
      limiter.recordFailure();
      clock.advance(10_000);
    }
    expect(limiter.check()).toEqual({ allowed: false, reason: 'rate_limited', retryAfterMs: 30_000 });
    clock.advance(29_999);
    expect(limiter.check().allowed).toBe(false);
    clock.advance(1);
    expect(limiter.check().allowed).toBe(true);
    limiter.recordFailure();
    expect(limiter.check().allowed).toBe(false);
  });

  it('counts attempts a presentation attack can produce, not matches, agent errors or agent cancels', () => {
    expect(countsAsFailure({ decision: 'spoof', decidedBy: 'antispoof' })).toBe(true);
    expect(countsAsFailure({ decision: 'no_match', decidedBy: 'match' })).toBe(true);
    expect(countsAsFailure({ decision: 'cancelled', decidedBy: 'customer' })).toBe(true);
    expect(countsAsFailure({ decision: 'cancelled', decidedBy: 'agent' })).toBe(false);
    expect(countsAsFailure({ decision: 'match', decidedBy: 'match' })).toBe(false);
    expect(countsAsFailure({ decision: 'error', decidedBy: 'reference' })).toBe(false);
  });
});
