import type { Logger } from '../lib/logger.ts';
import { SYSTEM_CLOCK, type Clock } from '../lib/clock.ts';
import { ButtonHub } from './button-hub.ts';
import { checkName, type ButtonEvent, type Buttons, type ButtonListener, type Leds } from './panel.ts';

export interface LedChange {
  tMs: number;
  led: string;
  on: boolean;
}

/** Simulated LEDs: every change is recorded with its time so tests can assert the prompts a customer saw. */
export class SimLeds implements Leds {
  readonly history: LedChange[] = [];
  private readonly state = new Map<string, boolean>();
  private running = false;

  constructor(readonly names: readonly string[], private readonly clock: Pick<Clock, 'now'> = SYSTEM_CLOCK) {}

  async start(): Promise<void> {
    for (const n of this.names) this.state.set(n, false);
    this.running = true;
  }

  set(name: string, on: boolean): void {
    checkName(this.names, name, 'LED');
    if (!this.running) throw new Error('LEDs not started');
    if (this.state.get(name) === on) return;
    this.state.set(name, on);
    this.history.push({ tMs: this.clock.now(), led: name, on });
  }

  isOn(name: string): boolean {
    checkName(this.names, name, 'LED');
    return this.state.get(name) ?? false;
  }

  /** the LEDs lit right now */
  lit(): string[] {
    return this.names.filter((n) => this.state.get(n));
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    for (const n of this.names) this.set(n, false);
    this.running = false;
  }
}

/** Simulated buttons: tests (and the demo) press them; edges go through the same hub as the hardware backend. */
export class SimButtons implements Buttons {
  private readonly hub: ButtonHub;
  private readonly pressed = new Set<string>();
  private running = false;

  constructor(readonly names: readonly string[], logger: Logger, private readonly clock: Pick<Clock, 'now'> = SYSTEM_CLOCK) {
    this.hub = new ButtonHub(logger.child({ component: 'buttons', backend: 'sim' }));
  }

  async start(): Promise<void> {
    this.running = true;
  }

  press(name: string): void {
    this.edge(name, true);
  }

  release(name: string): void {
    this.edge(name, false);
  }

  /** press and release */
  click(name: string): void {
    this.press(name);
    this.release(name);
  }

  onEdge(listener: ButtonListener): () => void {
    return this.hub.onEdge(listener);
  }

  isPressed(name: string): boolean {
    checkName(this.names, name, 'button');
    return this.pressed.has(name);
  }

  waitForPress(names: readonly string[], signal?: AbortSignal): Promise<ButtonEvent | undefined> {
    names.forEach((n) => checkName(this.names, n, 'button'));
    if (!this.running) return Promise.resolve(undefined);
    return this.hub.waitForPress(names, signal);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.pressed.clear();
    this.hub.close();
  }

  private edge(name: string, down: boolean): void {
    checkName(this.names, name, 'button');
    if (!this.running) throw new Error('buttons not started');
    if (this.pressed.has(name) === down) return;
    if (down) this.pressed.add(name);
    else this.pressed.delete(name);
    this.hub.emit({ button: name, pressed: down, tMs: this.clock.now() });
  }
}
