import { createInterface } from 'node:readline';
import type { Logger } from '../lib/logger.ts';
import { Backoff, type BackoffOptions } from '../lib/backoff.ts';
import { SYSTEM_CLOCK, type Clock } from '../lib/clock.ts';
import { DebouncedButtons } from './button-hub.ts';
import { Debouncer } from './debouncer.ts';
import { gpiodArgs, parseEvent, parseGetOutput, stopTool, type GpiodTools, type HeaderLines, type ToolProcess } from './gpiod-tools.ts';
import { checkName, type Buttons, type Leds, type PinMap } from './panel.ts';

/**
 * LEDs and buttons on the GPIO character device through the libgpiod tools (gpiod-tools.ts) as supervised child
 * processes. Unlike sysfs, a line request carries its bias, so the buttons get their pull-up from here and need no
 * boot configuration. The kernel grants a line to one request at a time, and a request ends with its process.
 */
interface GpiodCommon {
  pins: PinMap;
  tools: GpiodTools;
  logger: Logger;
  clock?: Clock;
  backoff?: BackoffOptions;
  /** SIGTERM → SIGKILL grace when a tool is stopped (default 2000) */
  killTimeoutMs?: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 10_000 };

/**
 * One LED line held by one `gpioset` that keeps driving it. A new value means a new process: the old one is
 * stopped and has exited — the line is free — before the next is spawned, so the line is never requested twice.
 * Changes that arrive during a hand-over collapse into one (the newest value wins). A holder that dies on its own
 * is replaced after a backoff.
 */
class HeldLine {
  private holder: ToolProcess | undefined;
  private held: boolean | undefined;
  private wanted = false;
  private handover: Promise<void> | undefined;
  private retryTimer: unknown;
  private readonly backoff: Backoff;
  private stopping = false;

  constructor(
    private readonly name: string,
    private readonly offset: number,
    private readonly lines: HeaderLines,
    private readonly o: GpiodCommon & { activeLow: boolean },
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    this.backoff = new Backoff(o.backoff ?? DEFAULT_BACKOFF);
  }

  want(on: boolean): void {
    this.wanted = on;
    this.kick();
  }

  /** resolves when the newest wanted value has been handed to a holder */
  async settled(): Promise<void> {
    while (this.handover) await this.handover;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.clock.clearTimeout(this.retryTimer);
    await this.settled();
    const holder = this.holder;
    this.holder = undefined;
    this.held = undefined;
    if (holder) await stopTool(holder, this.clock, this.o.killTimeoutMs ?? 2000);
  }

  private kick(): void {
    if (this.handover || this.stopping) return;
    this.handover = this.handOver().finally(() => {
      this.handover = undefined;
      if (this.held !== undefined && this.held !== this.wanted) this.kick(); // wanted changed as the hand-over ended
    });
  }

  private async handOver(): Promise<void> {
    while (!this.stopping && this.held !== this.wanted) {
      const on = this.wanted;
      const old = this.holder;
      this.holder = undefined;
      if (old) await stopTool(old, this.clock, this.o.killTimeoutMs ?? 2000);
      if (this.stopping) return;
      const { version, chip } = this.lines;
      const args = gpiodArgs.set({ version, chip: chip.name, activeLow: this.o.activeLow, hold: true }, [[this.offset, on]]);
      const p = this.o.tools.spawn('gpioset', args, this.log);
      const startedMs = this.clock.now();
      this.holder = p;
      this.held = on;
      void p.closed.then(({ code, signal }) => this.onExit(p, startedMs, code, signal));
    }
  }

  private onExit(p: ToolProcess, startedMs: number, code: number | null, signal: NodeJS.Signals | null): void {
    if (p !== this.holder || this.stopping) return; // replaced or stopped on purpose
    this.holder = undefined;
    this.held = undefined;
    if (this.clock.now() - startedMs > (this.o.backoff ?? DEFAULT_BACKOFF).maxMs) this.backoff.reset();
    const delay = this.backoff.next();
    this.log.warn({ led: this.name, code, signal, restartInMs: delay, stderr: p.lastStderr() }, 'led holder exited');
    this.retryTimer = this.clock.setTimeout(() => {
      this.kick();
    }, delay);
  }
}

export class GpiodLeds implements Leds {
  readonly names: readonly string[];
  private readonly state = new Map<string, boolean>();
  private readonly log: Logger;
  private readonly clock: Clock;
  private lines: Map<string, HeldLine> | undefined;
  private resolved: HeaderLines | undefined;

  /** `activeLow`: the LED lights when the pin is driven low (config panel.ledsActiveLow) */
  constructor(private readonly o: GpiodCommon & { activeLow?: boolean }) {
    this.names = Object.keys(o.pins);
    this.log = o.logger.child({ component: 'leds', backend: 'gpiod' });
    this.clock = o.clock ?? SYSTEM_CLOCK;
  }

  /** Drives every line off once (which proves the lines can be requested), then holds each one off. */
  async start(): Promise<void> {
    const lines = await this.o.tools.resolve(this.o.pins);
    const opts = { version: lines.version, chip: lines.chip.name, activeLow: this.o.activeLow ?? false };
    const offsets = Object.values(lines.offsets);
    await this.o.tools.run('gpioset', gpiodArgs.set({ ...opts, hold: false }, offsets.map((n) => [n, false] as const)), this.log);
    this.log.info({ chip: lines.chip.name, offsets: lines.offsets }, 'leds opened');
    this.resolved = lines;
    this.lines = new Map();
    for (const name of this.names) {
      const line = new HeldLine(name, lines.offsets[name], lines, { ...this.o, activeLow: opts.activeLow }, this.log, this.clock);
      this.lines.set(name, line);
      this.state.set(name, false);
      line.want(false);
    }
  }

  set(name: string, on: boolean): void {
    checkName(this.names, name, 'LED');
    const line = this.lines?.get(name);
    if (!line) throw new Error('LEDs not started');
    if (this.state.get(name) === on) return;
    this.state.set(name, on);
    line.want(on);
  }

  isOn(name: string): boolean {
    checkName(this.names, name, 'LED');
    return this.state.get(name) ?? false;
  }

  /** resolves when every LED change so far has reached its gpioset */
  async settled(): Promise<void> {
    await Promise.all([...(this.lines?.values() ?? [])].map((l) => l.settled()));
  }

  async stop(): Promise<void> {
    const lines = this.lines;
    const resolved = this.resolved;
    if (!lines || !resolved) return;
    this.lines = undefined;
    for (const n of this.names) this.state.set(n, false);
    await Promise.all([...lines.values()].map((l) => l.stop()));
    // released lines keep their last level on the Pi's controllers, so leave them driven off
    const opts = { version: resolved.version, chip: resolved.chip.name, activeLow: this.o.activeLow ?? false, hold: false };
    try {
      await this.o.tools.run('gpioset', gpiodArgs.set(opts, Object.values(resolved.offsets).map((n) => [n, false] as const)), this.log);
    } catch (e: unknown) {
      this.log.warn({ err: e }, 'leds off on stop failed');
    }
  }
}

/**
 * Buttons watched by one long-running `gpiomon` for all lines, with the bias that holds an open contact inactive
 * (pull-up for active-low wiring). Its edges feed the debouncers; the level a debouncer reads is the one the last
 * event reported, since a watched line cannot be read by another request. If gpiomon dies it is restarted with
 * backoff (buttons report nothing meanwhile) after re-reading the levels with gpioget, so a change missed while it
 * was down is still reported once.
 */
export class GpiodButtons extends DebouncedButtons implements Buttons {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly levels = new Map<string, boolean>();
  private lines: HeaderLines | undefined;
  private monitor: ToolProcess | undefined;
  private restartTimer: unknown;
  private restarting: Promise<void> | undefined;
  private readonly backoff: Backoff;
  private restarts = 0;
  private running = false;

  /** `activeLow` (default true): the button pulls the line to ground, so the line gets a pull-up */
  constructor(private readonly o: GpiodCommon & { activeLow?: boolean; debounceMs?: number }) {
    const log = o.logger.child({ component: 'buttons', backend: 'gpiod' });
    super(Object.keys(o.pins), log);
    this.clock = o.clock ?? SYSTEM_CLOCK;
    this.backoff = new Backoff(o.backoff ?? DEFAULT_BACKOFF);
    this.log = log;
  }

  async start(): Promise<void> {
    const lines = await this.o.tools.resolve(this.o.pins);
    // The first request sets the pull, and its read can come before the pull has charged the line (an open contact
    // would read as pressed and swallow the first real press). The pull stays set after the request ends, so the
    // second read sees the settled level.
    await this.readLevels(lines);
    const initial = await this.readLevels(lines);
    this.lines = lines;
    for (const name of this.names) {
      this.levels.set(name, initial[name]);
      this.debouncers.set(name, new Debouncer(this.o.debounceMs ?? 30, this.clock, () => this.levels.get(name) ?? false,
        (pressed, tMs) => this.hub.emit({ button: name, pressed, tMs }), initial[name]));
    }
    this.running = true;
    this.log.info({ chip: lines.chip.name, offsets: lines.offsets, pressed: this.names.filter((n) => initial[n]) }, 'buttons opened');
    this.spawnMonitor();
  }

  protected isOpen(): boolean {
    return this.running;
  }

  /** the pid of the running gpiomon (undefined while it is being restarted) */
  get monitorPid(): number | undefined {
    return this.monitor?.child.pid;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.clock.clearTimeout(this.restartTimer);
    for (const d of this.debouncers.values()) d.cancel();
    this.debouncers.clear();
    this.hub.close();
    await this.restarting; // its gpioget ends on its own; no gpiomon follows once stopped
    const monitor = this.monitor;
    this.monitor = undefined;
    if (monitor) await stopTool(monitor, this.clock, this.o.killTimeoutMs ?? 2000);
  }

  private async readLevels(lines: HeaderLines): Promise<Record<string, boolean>> {
    const offsets = this.names.map((n) => lines.offsets[n]);
    const out = await this.o.tools.run('gpioget', gpiodArgs.get(this.lineOptions(lines), offsets), this.log);
    const values = parseGetOutput(out, offsets.length);
    return Object.fromEntries(this.names.map((n, i) => [n, values[i]]));
  }

  private lineOptions(lines: HeaderLines): Parameters<typeof gpiodArgs.get>[0] {
    const activeLow = this.o.activeLow ?? true;
    return { version: lines.version, chip: lines.chip.name, activeLow, bias: activeLow ? 'pull-up' : 'pull-down' };
  }

  private spawnMonitor(): void {
    const lines = this.lines;
    if (!lines || !this.running) return;
    const byOffset = new Map(this.names.map((n) => [lines.offsets[n], n]));
    const p = this.o.tools.spawn('gpiomon', gpiodArgs.monitor(this.lineOptions(lines), [...byOffset.keys()]), this.log);
    this.monitor = p;
    const startedMs = this.clock.now();
    if (p.child.stdout) {
      createInterface({ input: p.child.stdout, crlfDelay: Infinity }).on('line', (line) => {
        if (p !== this.monitor) return;
        const ev = parseEvent(lines.version, line);
        const name = ev && byOffset.get(ev.offset);
        if (!ev || !name) {
          this.log.warn({ line: line.slice(0, 120) }, 'unexpected gpiomon output');
          return;
        }
        this.levels.set(name, ev.rising);
        this.debouncers.get(name)?.edge();
      });
    }
    void p.closed.then(({ code, signal }) => this.onMonitorExit(p, startedMs, code, signal));
  }

  private onMonitorExit(p: ToolProcess, startedMs: number, code: number | null, signal: NodeJS.Signals | null): void {
    if (p !== this.monitor || !this.running) return;
    this.monitor = undefined;
    if (this.clock.now() - startedMs > (this.o.backoff ?? DEFAULT_BACKOFF).maxMs) this.backoff.reset();
    const delay = this.backoff.next();
    this.restarts++;
    this.log.warn({ code, signal, stderr: p.lastStderr(), restartInMs: delay, restarts: this.restarts }, 'gpiomon exited; buttons paused');
    this.restartTimer = this.clock.setTimeout(() => {
      this.restarting = this.restartMonitor().finally(() => {
        this.restarting = undefined;
      });
    }, delay);
  }

  private async restartMonitor(): Promise<void> {
    const lines = this.lines;
    if (!lines || !this.running) return;
    try {
      const now = await this.readLevels(lines);
      for (const name of this.names) {
        if (now[name] === this.levels.get(name)) continue;
        this.levels.set(name, now[name]);
        this.debouncers.get(name)?.edge();
      }
    } catch (e: unknown) {
      this.log.warn({ err: e }, 'button levels unreadable before gpiomon restart');
    }
    if (!this.running) return;
    this.spawnMonitor();
    this.log.info({ pid: this.monitor?.child.pid, restarts: this.restarts }, 'gpiomon restarted');
  }
}
