import { createRequire } from 'node:module';

/**
 * sd_notify(3) for a Type=notify service: READY=1 after start, WATCHDOG=1 while healthy, STOPPING=1 on stop.
 * Without NOTIFY_SOCKET (not under systemd: tests, the demo, a shell) every call is a no-op.
 *
 * Node core has no unix datagram sockets, so this uses `unix-dgram` (a small native addon). Abstract-namespace sockets
 * (NOTIFY_SOCKET starting with '@') are not supported by it; systemd gives system services a path
 * (/run/systemd/notify), so that case is reported once and notifications are skipped.
 */
export interface Notifier {
  /** true when a notify socket is configured and usable */
  readonly enabled: boolean;
  notify(state: string): void;
  close(): void;
}

interface DgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: Error) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  close(): void;
}

export type DgramFactory = () => DgramSocket;

const defaultFactory: DgramFactory = () => {
  const require = createRequire(import.meta.url);
  const unix = require('unix-dgram') as { createSocket(type: 'unix_dgram'): DgramSocket };
  return unix.createSocket('unix_dgram');
};

const NOOP: Notifier = { enabled: false, notify: () => {}, close: () => {} };

export function createNotifier(
  env: NodeJS.ProcessEnv,
  onError: (message: string) => void,
  factory: DgramFactory = defaultFactory,
): Notifier {
  const path = env.NOTIFY_SOCKET;
  if (!path) return NOOP;
  if (path.startsWith('@')) {
    onError(`NOTIFY_SOCKET ${path} is an abstract socket, which unix-dgram cannot address; sd_notify disabled`);
    return NOOP;
  }
  const socket = factory();
  socket.on('error', (err) => onError(`sd_notify: ${err.message}`));
  return {
    enabled: true,
    notify(state: string) {
      const buf = Buffer.from(state);
      socket.send(buf, 0, buf.length, path, (err) => {
        if (err) onError(`sd_notify ${state}: ${err.message}`);
      });
    },
    close: () => socket.close(),
  };
}

/** Half of WATCHDOG_USEC in ms (systemd's recommendation), or undefined when the watchdog is off or meant for another pid. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}
