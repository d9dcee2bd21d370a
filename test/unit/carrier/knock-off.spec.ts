import { describe, expect, it } from 'vitest';
import { KnockOffMonitor, SESSION_TAKEN_OVER } from '../../../src/carrier/knock-off.ts';

const OPTIONS = { withinMs: 10_000, windowMs: 60_000, warnAt: 3 };

/** One connection: CONNACK at `at`, dropped `lastedMs` later, optionally with a DISCONNECT reason first. */
function drop(m: KnockOffMonitor, at: number, lastedMs: number, reasonCode?: number) {
  m.connected(at);
  if (reasonCode !== undefined) m.disconnectReason(reasonCode);
  return m.closed(at + lastedMs);
}

describe('KnockOffMonitor', () => {
  it('warns once per window when drops keep coming right after CONNACK, with the count', () => {
    const m = new KnockOffMonitor(OPTIONS);
    const warnings = [];
    for (let i = 0; i < 10; i++) warnings.push(drop(m, i * 2000, 500));
    expect(warnings.filter(Boolean)).toEqual([{ count: 3, takenOver: 0, windowMs: 60_000, total: 3 }]);
    expect(warnings.findIndex(Boolean)).toBe(2);
    expect(m.count).toBe(10);
    // a new window warns again
    const next = [drop(m, 70_000, 100), drop(m, 71_000, 100), drop(m, 72_000, 100)];
    expect(next.filter(Boolean)).toEqual([{ count: 3, takenOver: 0, windowMs: 60_000, total: 13 }]);
  });

  it('counts a "Session taken over" disconnect whenever it comes; other long-lived connections are not knock-offs', () => {
    const m = new KnockOffMonitor(OPTIONS);
    expect(drop(m, 0, 600_000)).toBeUndefined();
    expect(m.count).toBe(0);
    drop(m, 700_000, 300_000, SESSION_TAKEN_OVER);
    drop(m, 1_001_000, 200_000, SESSION_TAKEN_OVER);
    expect(m.count).toBe(2);
    // a normal server DISCONNECT (0x8B server shutting down) after a long connection is not counted
    expect(drop(m, 1_300_000, 300_000, 0x8b)).toBeUndefined();
    expect(m.count).toBe(2);
    expect(drop(m, 1_700_000, 50, SESSION_TAKEN_OVER)).toBeUndefined(); // new window: 1 of 3
    expect(drop(m, 1_701_000, 50, SESSION_TAKEN_OVER)).toBeUndefined();
    expect(drop(m, 1_702_000, 50)).toEqual({ count: 3, takenOver: 2, windowMs: 60_000, total: 5 });
  });

  it('ignores a close without CONNACK (a failed attempt) and forgets a reason code with its connection', () => {
    const m = new KnockOffMonitor(OPTIONS);
    expect(m.closed(1000)).toBeUndefined();
    m.connected(2000);
    m.disconnectReason(SESSION_TAKEN_OVER);
    m.closed(2100);
    expect(m.count).toBe(1);
    expect(drop(m, 100_000, 60_000)).toBeUndefined(); // the earlier reason does not carry over
    expect(m.count).toBe(1);
  });
});
