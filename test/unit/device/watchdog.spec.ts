import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Notifier } from '../../../src/device/sd-notify.ts';
import { type HealthReport, Watchdog } from '../../../src/device/watchdog.ts';

function recordingNotifier(): Notifier & { sent: string[] } {
  const sent: string[] = [];
  return { enabled: true, sent, notify: (s) => sent.push(s), close: () => {} };
}

describe('Watchdog', () => {
  afterEach(() => vi.useRealTimers());

  it('feeds only while healthy and reports each new unhealthy state once', () => {
    vi.useFakeTimers();
    const notifier = recordingNotifier();
    let health: HealthReport = { healthy: true, reasons: [] };
    const unhealthy: string[][] = [];
    const dog = new Watchdog(notifier, 1000, () => health, (r) => unhealthy.push(r));
    dog.start();
    vi.advanceTimersByTime(2000);
    expect(notifier.sent).toEqual(['WATCHDOG=1', 'WATCHDOG=1', 'WATCHDOG=1']);

    health = { healthy: false, reasons: ['camera: no frame for 9000 ms'] };
    vi.advanceTimersByTime(3000);
    expect(notifier.sent).toHaveLength(3);
    expect(unhealthy).toEqual([['camera: no frame for 9000 ms']]);

    health = { healthy: true, reasons: [] };
    vi.advanceTimersByTime(1000);
    expect(notifier.sent).toHaveLength(4);
    dog.stop();
    vi.advanceTimersByTime(5000);
    expect(notifier.sent).toHaveLength(4);
  });
});
