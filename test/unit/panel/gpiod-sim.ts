import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../../src/lib/clock.ts';
import { GPIOD_TOOLS, type SpawnFn } from '../../../src/panel/gpiod-tools.ts';

const STAND_IN = fileURLToPath(new URL('../../fixtures/gpiod/gpiod-sim', import.meta.url));

/**
 * One emulated GPIO chip for the libgpiod tools stand-in (test/fixtures/gpiod/gpiod-sim): a temporary directory with
 * links named after the tools, so it is the backend's `gpiodToolsDir`. `contact(offset, closed)` closes or opens a
 * button contact wired to ground (physical level 0 = closed), as the kernel's gpio-sim pull would.
 */
export function gpiodSim(o: { version?: 1 | 2; chip?: string; label?: string; ngpio?: number; releaseDelayS?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'regterm-gpiod-'));
  for (const tool of GPIOD_TOOLS) symlinkSync(STAND_IN, join(dir, tool));
  writeFileSync(join(dir, 'sim.conf'),
    `VERSION=${o.version ?? 1}\nCHIP=${o.chip ?? 'gpiochip4'}\nLABEL=${o.label ?? 'pinctrl-rp1'}\nNGPIO=${o.ngpio ?? 54}\nRELEASE_DELAY=${o.releaseDelayS ?? 0}\n`);
  execFileSync('mkfifo', [join(dir, 'edges')]);
  const children: ChildProcess[] = [];
  const read = (f: string): string | undefined => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined);
  return {
    dir,
    /** every process the backend spawned (pass `spawn` to GpiodTools) */
    children,
    spawn: ((command, args, options) => {
      const c = spawn(command, args, options);
      children.push(c);
      return c;
    }) as SpawnFn,
    /** physical level an output drives (undefined: never driven) */
    out: (offset: number): number | undefined => {
      const v = read(`out.${offset}`);
      return v === undefined ? undefined : Number(v);
    },
    /** each tool invocation: [tool, ...args] */
    argv: (): string[][] => (read('argv.log') ?? '').split('\n').filter(Boolean).map((l) => l.split('\t')),
    /** requests the stand-in refused because another process held the line */
    refused: (): string[] => (read('refused.log') ?? '').split('\n').filter(Boolean),
    pid: (tool: string): number | undefined => {
      const v = read(`pid.${tool}`);
      return v === undefined ? undefined : Number(v);
    },
    /** close (physical level 0) or open (1) a button contact; waits until a gpiomon is reading the lines */
    async contact(offset: number, closed: boolean): Promise<void> {
      let fd: number | undefined;
      for (const t0 = performance.now(); fd === undefined;) {
        try {
          fd = openSync(join(dir, 'edges'), constants.O_WRONLY | constants.O_NONBLOCK);
        } catch (e: unknown) {
          if ((e as NodeJS.ErrnoException).code !== 'ENXIO' || performance.now() - t0 > 5000) throw e;
          await sleep(5);
        }
      }
      try {
        writeSync(fd, `${offset} ${closed ? 0 : 1}\n`);
      } finally {
        closeSync(fd);
      }
    },
    /** the physical level of an input line changing while no gpiomon watches it */
    setLevel: (offset: number, level: 0 | 1): void => writeFileSync(join(dir, `in.${offset}`), `${level}\n`),
    /** the processes still running */
    alive: (): ChildProcess[] => children.filter((c) => c.exitCode === null && c.signalCode === null),
    remove: (): void => rmSync(dir, { recursive: true, force: true }),
  };
}

export type GpiodSim = ReturnType<typeof gpiodSim>;

/**
 * A real-time clock that tells when a timer is armed: a Debouncer arms one for every raw edge, so awaiting
 * `nextTimer()` after a contact change means the backend has read gpiomon's event (timers may be faked).
 */
export function signallingClock() {
  let waiters: Array<() => void> = [];
  const clock: Clock = {
    now: () => performance.now(),
    setTimeout: (fn, ms) => {
      const w = waiters;
      waiters = [];
      for (const r of w) r();
      return setTimeout(fn, ms);
    },
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
  return { clock, nextTimer: (): Promise<void> => new Promise((r) => waiters.push(r)) };
}

/** poll until `cond` holds (node:timers/promises runs on real time even when the global timers are faked) */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
