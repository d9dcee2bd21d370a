import type { Clock } from '../../../src/lib/clock.ts';

/**
 * A virtual monotonic clock for lockstep HIL sessions: time moves only when `advanceTo` is called (the lit camera
 * calls it once per frame, with the frame's capture time), and timers fire then, in due order.
 *
 * CONTRACT: `advanceTo(t)` fires every timer due at or before `t` in (due time, creation) order, with `now()` equal to
 * that timer's due time while it runs, so a PatternPlayer steps exactly as it would in real time; timers a callback
 * sets are fired in the same call if they fall due by `t`. Time never goes backwards (an earlier `t` is a no-op).
 */
export class VirtualClock implements Clock {
  private t: number;
  private nextId = 0;
  private readonly timers = new Map<number, { dueMs: number; fn: () => void }>();

  constructor(startMs = 0) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.nextId;
    this.timers.set(id, { dueMs: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.timers.delete(handle);
  }

  /** timers not yet fired */
  get pending(): number {
    return this.timers.size;
  }

  advanceTo(tMs: number): void {
    for (;;) {
      const next = this.nextDue();
      if (next === undefined || next[1].dueMs > tMs) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].dueMs);
      next[1].fn();
    }
    this.t = Math.max(this.t, tMs);
  }

  /** earliest due timer; ids grow with creation, so the lowest id wins a tie */
  private nextDue(): [number, { dueMs: number; fn: () => void }] | undefined {
    let best: [number, { dueMs: number; fn: () => void }] | undefined;
    for (const entry of this.timers) {
      if (!best || entry[1].dueMs < best[1].dueMs || (entry[1].dueMs === best[1].dueMs && entry[0] < best[0])) best = entry;
    }
    return best;
  }
}
