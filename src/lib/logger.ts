import { fstatSync } from 'node:fs';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * pino JSON to stdout with a synchronous destination: on a terminal that loses power, buffered log lines would be
 * lost (pino docs/asynchronous.md). Tests pass their own `destination` sink and parse the JSON lines.
 * Keys that could carry secrets or biometrics are redacted wherever they appear one level deep.
 *
 * Under systemd, stdout is a journal stream and journald files every line at the unit's default priority unless the
 * line starts with a syslog priority prefix `<N>` (sd-daemon(3), SyslogLevelPrefix=). So when stdout IS the journal
 * stream (JOURNAL_STREAM names its device and inode, systemd.exec(5)), each line gets the prefix of its pino level
 * and `journalctl -p err` shows errors only. On a terminal or a pipe the lines stay plain JSON.
 */
export const REDACT_PATHS = [
  'key', '*.key', 'privateKey', '*.privateKey', 'token', '*.token', 'password', '*.password',
  'reference', '*.reference', 'embedding', '*.embedding', 'template', '*.template', 'image', '*.image',
  'frame', '*.frame', 'jpeg', '*.jpeg',
];

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
  /** the environment that says whether stdout is the journal (default: process.env) */
  env?: NodeJS.ProcessEnv;
}

/** Every child of a logger made here, so a level set at run time (remote configuration) reaches all of them. */
const childrenOf = new WeakMap<Logger, Set<WeakRef<Logger>>>();

export function createLogger(options: LoggerOptions = {}): Logger {
  let destination = options.destination;
  if (!destination) {
    const stdout = pino.destination({ dest: 1, sync: true });
    destination = isJournalStream(1, options.env ?? process.env) ? withSyslogPriority(stdout) : stdout;
  }
  const children = new Set<WeakRef<Logger>>();
  const root = pino(
    {
      level: options.level ?? 'info',
      base: { app: 'regterm' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // pino copies the level into a child when it is made; later changes of the root do not reach it
      onChild: (child) => { children.add(new WeakRef(child)); },
    },
    destination,
  );
  childrenOf.set(root, children);
  return root;
}

/** Sets the level of a logger made by createLogger and of every child it has made (children of children too). */
export function setLogLevel(root: Logger, level: string): void {
  root.level = level;
  for (const ref of childrenOf.get(root) ?? []) {
    const child = ref.deref();
    if (child) child.level = level;
    else childrenOf.get(root)?.delete(ref);
  }
}

/** True when `fd` is the stream systemd connected to the journal (JOURNAL_STREAM = "<device>:<inode>"). */
export function isJournalStream(fd: number, env: NodeJS.ProcessEnv): boolean {
  const match = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!match) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(match[1]) && st.ino === BigInt(match[2]);
  } catch {
    return false;
  }
}

/** pino level → syslog priority: trace/debug 7, info 6, warn 4, error 3, fatal 2 (crit). */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** Prefixes every line pino writes with `<priority>`; pino always writes the level first: `{"level":30,...`. */
export function withSyslogPriority(stream: DestinationStream): DestinationStream {
  return {
    write(line: string): void {
      const level = /^\{"level":(\d+)/.exec(line);
      stream.write(`<${syslogPriority(level ? Number(level[1]) : 30)}>${line}`);
    },
  };
}
