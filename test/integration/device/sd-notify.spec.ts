import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createNotifier, watchdogIntervalMs } from '../../../src/device/sd-notify.ts';

interface Receiver {
  bind(path: string): void;
  on(event: 'message', fn: (buf: Buffer) => void): void;
  close(): void;
}
const unix = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: string): Receiver };

describe('sd_notify over a real unix datagram socket', () => {
  const closers: Array<() => void> = [];
  afterEach(() => closers.splice(0).forEach((close) => close()));

  it('delivers READY, WATCHDOG and STOPPING to NOTIFY_SOCKET', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'regterm-notify-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'notify.sock');
    const receiver = unix.createSocket('unix_dgram');
    const received: string[] = [];
    receiver.on('message', (buf) => received.push(buf.toString()));
    receiver.bind(path);
    closers.push(() => receiver.close());

    const errors: string[] = [];
    const notifier = createNotifier({ NOTIFY_SOCKET: path }, (m) => errors.push(m));
    closers.push(() => notifier.close());
    expect(notifier.enabled).toBe(true);
    for (const state of ['READY=1', 'WATCHDOG=1', 'STOPPING=1']) notifier.notify(state);

    await expect.poll(() => received, { timeout: 2000 }).toEqual(['READY=1', 'WATCHDOG=1', 'STOPPING=1']);
    expect(errors).toEqual([]);
  });

  it('is a no-op without NOTIFY_SOCKET and refuses abstract sockets with a reason', () => {
    const errors: string[] = [];
    expect(createNotifier({}, (m) => errors.push(m)).enabled).toBe(false);
    expect(createNotifier({ NOTIFY_SOCKET: '@/org/systemd/notify' }, (m) => errors.push(m)).enabled).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/abstract/);
  });

  it('derives the feed interval from WATCHDOG_USEC and WATCHDOG_PID', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '20000000' }, 42)).toBe(10_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '41' }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({}, 42)).toBeUndefined();
  });
});
