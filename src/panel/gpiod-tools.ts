import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../lib/logger.ts';
import { SYSTEM_CLOCK, type Clock } from '../lib/clock.ts';
import { errorMessage } from '../lib/errors.ts';
import { HEADER_CONTROLLERS, PanelError, mapPins, type HeaderChip } from './gpio-chips.ts';
import type { PinMap } from './panel.ts';

/**
 * The libgpiod command-line tools (Debian package `gpiod`) on the GPIO character device, /dev/gpiochipN.
 * Two generations with different flags exist: v1.6 (Debian and Raspberry Pi OS bookworm) and v2.x (trixie and later).
 * `gpioset --version` says which is installed; every argument list below is built for that version (written here with
 * -l for --active-low and -c for --chip; the code passes the long forms):
 *
 *              v1.6                                        v2.x
 *   read       gpioget -l --bias=pull-up CHIP 6 13         gpioget -c CHIP -l --bias=pull-up 6 13
 *              → `1 0`                                     → `"6"=active "13"=inactive`
 *   watch      gpiomon -l --bias=pull-up --line-buffered   gpiomon -c CHIP -l --bias=pull-up --edges=both
 *              --format='%e %o' CHIP 6 13                  --format='%e %o' 6 13
 *              → `1 6` (1 rising, 0 falling)               → `1 6` (1 rising, 2 falling)
 *   hold       gpioset --mode=signal [-l] CHIP 17=1        gpioset -c CHIP [-l] 17=1   (holds until killed)
 *   set once   gpioset --mode=exit [-l] CHIP 17=0          gpioset -c CHIP --toggle=0 [-l] 17=0
 *
 * With active-low both versions report logical edges (rising = inactive → active: v2 documents it, and the kernel's v1
 * line events take the edge from the line's active-low value), so `1` is always "pressed".
 * v1 gpiomon's stdout is block-buffered on a pipe without --line-buffered; v2 flushes after every poll.
 */
export type GpiodVersion = 1 | 2;

export const GPIOD_TOOLS = ['gpiodetect', 'gpioget', 'gpioset', 'gpiomon'] as const;
export type GpiodTool = (typeof GPIOD_TOOLS)[number];

export type Bias = 'pull-up' | 'pull-down';

export const MONITOR_FORMAT = '%e %o';

export interface LineEvent {
  offset: number;
  /** inactive → active (with active-low: the contact closed) */
  rising: boolean;
}

export function parseToolVersion(text: string): GpiodVersion {
  const m = /\(libgpiod\) v(\d+)\./.exec(text);
  const major = m ? Number(m[1]) : NaN;
  if (major === 1 || major === 2) return major;
  throw new PanelError(`unsupported libgpiod tools: '${text.trim().split('\n')[0].slice(0, 120)}' (need v1.6 or v2.x)`);
}

/** `gpiodetect` lines: `gpiochip0 [pinctrl-bcm2711] (58 lines)` (the same in v1 and v2). */
export function parseGpiodetect(text: string): Array<{ name: string; label: string; ngpio: number }> {
  const chips: Array<{ name: string; label: string; ngpio: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+) \[(.*)\] \((\d+) lines?\)/.exec(line.trim());
    if (m) chips.push({ name: m[1], label: m[2], ngpio: Number(m[3]) });
  }
  return chips;
}

/**
 * The chip of the 40-pin header: the configured one, else the one whose label names a Pi pin controller (its number
 * differs between kernels: the Pi 5's pinctrl-rp1 was gpiochip4 before it became gpiochip0).
 */
export function pickChip(chips: ReturnType<typeof parseGpiodetect>, configured?: string): HeaderChip {
  const chip = configured ? chips.find((c) => c.name === configured) : chips.find((c) => HEADER_CONTROLLERS[c.label] !== undefined);
  const found = chips.map((c) => `${c.name}=${c.label}`).join(', ') || 'none';
  if (!chip) {
    const wanted = configured ? `GPIO chip '${configured}'` : `Raspberry Pi header GPIO controller (${Object.keys(HEADER_CONTROLLERS).join(', ')})`;
    throw new PanelError(`no ${wanted} in gpiodetect; found ${found} (set panel.gpiochip to one of them)`);
  }
  return { ...chip, base: 0, board: HEADER_CONTROLLERS[chip.label] ?? `chip ${chip.label}` };
}

/** `gpioget` output → one active flag per line, in request order. */
export function parseGetOutput(text: string, count: number): boolean[] {
  const values = text.trim().split(/\s+/).map((t) => {
    const v = t.includes('=') ? t.slice(t.lastIndexOf('=') + 1) : t;
    if (v === '1' || v === 'active') return true;
    if (v === '0' || v === 'inactive') return false;
    return undefined;
  });
  if (values.length !== count || values.some((v) => v === undefined)) {
    throw new PanelError(`gpioget: unexpected output '${text.trim().slice(0, 120)}' for ${count} lines`);
  }
  return values as boolean[];
}

/** One `gpiomon --format='%e %o'` line; undefined for anything else. */
export function parseEvent(version: GpiodVersion, line: string): LineEvent | undefined {
  const m = /^(\d) (\d+)$/.exec(line.trim());
  if (!m) return undefined;
  const falling = version === 1 ? '0' : '2';
  if (m[1] !== '1' && m[1] !== falling) return undefined;
  return { offset: Number(m[2]), rising: m[1] === '1' };
}

interface LineOptions {
  version: GpiodVersion;
  chip: string;
  activeLow: boolean;
}

export const gpiodArgs = {
  get(o: LineOptions & { bias: Bias }, offsets: readonly number[]): string[] {
    const flags = [...(o.activeLow ? ['--active-low'] : []), `--bias=${o.bias}`];
    return o.version === 1 ? [...flags, o.chip, ...offsets.map(String)] : ['--chip', o.chip, ...flags, ...offsets.map(String)];
  },
  monitor(o: LineOptions & { bias: Bias }, offsets: readonly number[]): string[] {
    const flags = [...(o.activeLow ? ['--active-low'] : []), `--bias=${o.bias}`];
    return o.version === 1
      ? [...flags, '--line-buffered', `--format=${MONITOR_FORMAT}`, o.chip, ...offsets.map(String)]
      : ['--chip', o.chip, ...flags, '--edges=both', `--format=${MONITOR_FORMAT}`, ...offsets.map(String)];
  },
  /** `hold`: keep driving the values until the process is signalled; else set them and exit */
  set(o: LineOptions & { hold: boolean }, values: ReadonlyArray<readonly [number, boolean]>): string[] {
    const lines = values.map(([offset, on]) => `${offset}=${on ? 1 : 0}`);
    const activeLow = o.activeLow ? ['--active-low'] : [];
    return o.version === 1
      ? [`--mode=${o.hold ? 'signal' : 'exit'}`, ...activeLow, o.chip, ...lines]
      : ['--chip', o.chip, ...(o.hold ? [] : ['--toggle=0']), ...activeLow, ...lines];
  },
};

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface ToolProcess {
  child: ChildProcess;
  /** resolves once the process has exited and its pipes are closed (also after a failed spawn) */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** the last stderr line (bounded) */
  lastStderr(): string;
}

export interface HeaderLines {
  version: GpiodVersion;
  chip: HeaderChip;
  /** name → line offset on `chip` (the BCM number: the header chip's offsets are BCM GPIO numbers) */
  offsets: Record<string, number>;
}

const STDERR_LINE_MAX = 300;
const OUTPUT_MAX = 64 * 1024;

/**
 * Runs the tools from one directory (config panel.gpiodToolsDir; a stand-in in tests) with argument arrays, never a
 * shell. The version and the header chip are looked up once per panel and shared by its LEDs and buttons.
 */
export class GpiodTools {
  private probed: Promise<{ version: GpiodVersion; chip: HeaderChip }> | undefined;
  private readonly spawnFn: SpawnFn;
  private readonly clock: Clock;

  constructor(private readonly o: { dir: string; chip?: string; logger: Logger; spawn?: SpawnFn; clock?: Clock; runTimeoutMs?: number }) {
    this.spawnFn = o.spawn ?? nodeSpawn;
    this.clock = o.clock ?? SYSTEM_CLOCK;
  }

  /** Which tools, which chip, and the offset of every named pin (range and duplicates checked). */
  async resolve(pins: PinMap): Promise<HeaderLines> {
    this.probed ??= this.probe().catch((e: unknown) => {
      this.probed = undefined; // a later start() tries again
      throw e;
    });
    const { version, chip } = await this.probed;
    return { version, chip, offsets: mapPins(pins, chip) };
  }

  spawn(tool: GpiodTool, args: readonly string[], log: Logger): ToolProcess {
    const command = join(this.o.dir, tool);
    const child = this.spawnFn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = '';
    if (child.stderr) {
      createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
        if (!line.trim()) return;
        last = line.slice(0, STDERR_LINE_MAX);
        log.info({ stream: 'stderr', tool, pid: child.pid, line: last }, 'gpiod tool');
      });
    }
    child.on('error', (e: unknown) => {
      last = `cannot run ${command}: ${errorMessage(e)}`;
    });
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    return { child, closed, lastStderr: () => last };
  }

  /** Run a tool to completion: its stdout, or a PanelError with what it said. */
  async run(tool: GpiodTool, args: readonly string[], log: Logger): Promise<string> {
    const p = this.spawn(tool, args, log);
    let out = '';
    p.child.stdout?.on('data', (chunk: Buffer) => {
      if (out.length < OUTPUT_MAX) out += chunk.toString('utf8');
    });
    const timer = this.clock.setTimeout(() => p.child.kill('SIGKILL'), this.o.runTimeoutMs ?? 5000);
    const { code, signal } = await p.closed;
    this.clock.clearTimeout(timer);
    if (code === 0) return out;
    const why = p.lastStderr() || `exit code ${code ?? 'none'}, signal ${signal ?? 'none'}`;
    throw new PanelError(`${tool} ${args.join(' ')}: ${why}${hint(why)}`);
  }

  private async probe(): Promise<{ version: GpiodVersion; chip: HeaderChip }> {
    const log = this.o.logger;
    const version = parseToolVersion(await this.run('gpioset', ['--version'], log));
    const chip = pickChip(parseGpiodetect(await this.run('gpiodetect', [], log)), this.o.chip);
    log.info({ libgpiod: version, chip: chip.name, controller: chip.label, board: chip.board, lines: chip.ngpio }, 'gpiod tools found');
    return { version, chip };
  }
}

function hint(why: string): string {
  if (/ENOENT/.test(why)) return ' (install the gpiod package: apt install gpiod; or set panel.gpiodToolsDir)';
  if (/Permission denied|EACCES/i.test(why)) return ' (is the service user in group gpio? see systemd/60-regterm.rules)';
  if (/busy/i.test(why)) return ' (another process holds the line: gpioinfo shows which)';
  return '';
}

/** SIGTERM, then SIGKILL after `killTimeoutMs`; resolves once the process has closed. */
export async function stopTool(p: ToolProcess, clock: Clock, killTimeoutMs: number): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) {
    const kill = clock.setTimeout(() => p.child.kill('SIGKILL'), killTimeoutMs);
    p.child.kill('SIGTERM');
    await p.closed;
    clock.clearTimeout(kill);
  }
  await p.closed;
}
