import type { Logger } from '../lib/logger.ts';
import { SYSTEM_CLOCK, type Clock } from '../lib/clock.ts';
import { DebouncedButtons } from './button-hub.ts';
import { Debouncer } from './debouncer.ts';
import { DEFAULT_GPIO_ROOT, PanelError, resolveSysfsPins } from './gpio-chips.ts';
import { checkName, type Buttons, type Leds, type PinMap } from './panel.ts';

/**
 * LEDs and buttons on sysfs GPIO through onoff (https://github.com/fivdi/onoff). onoff's `Gpio` takes the sysfs
 * number, so BCM pins are mapped first (gpio-chips.ts). The Gpio constructor is injected: create-panel.ts passes onoff's,
 * tests pass a fake of this narrow interface, so the mapping, debounce and release paths run everywhere.
 */
export interface GpioLine {
  readSync(): 0 | 1;
  writeSync(value: 0 | 1): void;
  watch(callback: (err: Error | null | undefined, value: 0 | 1) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

export type GpioCtor = new (
  gpio: number, direction: 'in' | 'out' | 'high' | 'low', edge?: 'none' | 'rising' | 'falling' | 'both', options?: { activeLow?: boolean },
) => GpioLine;

interface OnoffCommon {
  pins: PinMap;
  Gpio: GpioCtor;
  logger: Logger;
  /** the sysfs GPIO class directory (default /sys/class/gpio) */
  gpioRoot?: string;
}

async function openLines(o: OnoffCommon, open: (sysfs: number, name: string) => GpioLine): Promise<Map<string, GpioLine>> {
  const { chip, sysfs } = await resolveSysfsPins(o.pins, o.gpioRoot ?? DEFAULT_GPIO_ROOT);
  o.logger.info({ board: chip.board, controller: chip.label, base: chip.base, sysfs }, 'gpio mapped');
  const lines = new Map<string, GpioLine>();
  try {
    for (const [name, n] of Object.entries(sysfs)) lines.set(name, open(n, name));
  } catch (e: unknown) {
    for (const l of lines.values()) l.unexport();
    throw new PanelError(`cannot open GPIO: ${e instanceof Error ? e.message : String(e)} (is the service user in group gpio?)`, undefined, { cause: e });
  }
  return lines;
}

export class OnoffLeds implements Leds {
  readonly names: readonly string[];
  private lines: Map<string, GpioLine> | undefined;
  private readonly state = new Map<string, boolean>();

  constructor(private readonly o: OnoffCommon & { activeLow?: boolean }) {
    this.names = Object.keys(o.pins);
  }

  async start(): Promise<void> {
    const log = this.o.logger.child({ component: 'leds', backend: 'onoff' });
    this.lines = await openLines({ ...this.o, logger: log }, (n) => new this.o.Gpio(n, 'low', 'none', { activeLow: this.o.activeLow ?? false }));
    for (const n of this.names) this.state.set(n, false);
  }

  set(name: string, on: boolean): void {
    checkName(this.names, name, 'LED');
    const line = this.lines?.get(name);
    if (!line) throw new Error('LEDs not started');
    if (this.state.get(name) === on) return;
    line.writeSync(on ? 1 : 0);
    this.state.set(name, on);
  }

  isOn(name: string): boolean {
    checkName(this.names, name, 'LED');
    return this.state.get(name) ?? false;
  }

  async stop(): Promise<void> {
    const lines = this.lines;
    if (!lines) return;
    this.lines = undefined;
    for (const [name, l] of lines) {
      try {
        l.writeSync(0);
        l.unexport();
      } catch (e: unknown) {
        this.o.logger.warn({ err: e, led: name }, 'led release failed');
      }
      this.state.set(name, false);
    }
  }
}

export class OnoffButtons extends DebouncedButtons implements Buttons {
  private readonly clock: Clock;
  private lines: Map<string, GpioLine> | undefined;

  /** `activeLow` (default true): the button pulls the line to ground, the usual wiring with the internal pull-up. */
  constructor(private readonly o: OnoffCommon & { activeLow?: boolean; debounceMs?: number; clock?: Clock }) {
    super(Object.keys(o.pins), o.logger.child({ component: 'buttons', backend: 'onoff' }));
    this.clock = o.clock ?? SYSTEM_CLOCK;
  }

  async start(): Promise<void> {
    const log = this.o.logger.child({ component: 'buttons', backend: 'onoff' });
    const activeLow = this.o.activeLow ?? true;
    this.lines = await openLines({ ...this.o, logger: log }, (n) => new this.o.Gpio(n, 'in', 'both', { activeLow }));
    for (const [name, line] of this.lines) {
      const d = new Debouncer(this.o.debounceMs ?? 30, this.clock, () => line.readSync() === 1,
        (pressed, tMs) => this.hub.emit({ button: name, pressed, tMs }), line.readSync() === 1);
      this.debouncers.set(name, d);
      line.watch((err) => {
        if (err) log.warn({ err, button: name }, 'gpio watch error');
        else d.edge();
      });
    }
  }

  protected isOpen(): boolean {
    return this.lines !== undefined;
  }

  async stop(): Promise<void> {
    const lines = this.lines;
    if (!lines) return;
    this.lines = undefined;
    for (const d of this.debouncers.values()) d.cancel();
    this.debouncers.clear();
    this.hub.close();
    for (const [name, l] of lines) {
      try {
        l.unwatchAll();
        l.unexport();
      } catch (e: unknown) {
        this.o.logger.warn({ err: e, button: name }, 'button release failed');
      }
    }
  }
}
