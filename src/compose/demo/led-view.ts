import type { Writable } from 'node:stream';
import type { Leds } from '../../panel/panel.ts';

/**
 * Simulated LEDs drawn live for the demo. On a TTY one row of LED names, lit ones in inverse video, is rewritten in
 * place (`\r` + clear line); anywhere else (a pipe, CI) every change is a plain timestamped line. Text lines (the
 * prompts) go above the row.
 */
export class LedView {
  private row = '';
  private readonly t0: number;

  constructor(private readonly out: Writable & { isTTY?: boolean }, private readonly names: readonly string[],
    private readonly now: () => number = () => performance.now()) {
    this.t0 = now();
  }

  /** true when the LED row is redrawn in place (a terminal) */
  get live(): boolean {
    return this.out.isTTY === true;
  }

  private stamp(): string {
    return `+${((this.now() - this.t0) / 1000).toFixed(2).padStart(6)}s`;
  }

  /** Redraws (TTY) or logs (not a TTY) the LED state. */
  leds(lit: readonly string[]): void {
    if (this.live) {
      this.row = `  LEDs ${this.names.map((n) => (lit.includes(n) ? `\x1b[7m ${n} \x1b[0m` : `\x1b[2m ${n} \x1b[0m`)).join('')}`;
      this.out.write(`\r\x1b[2K${this.row}`);
    } else {
      this.out.write(`${this.stamp()} LEDs ${lit.length ? lit.join(' ') : '(all off)'}\n`);
    }
  }

  /** A line of text (a prompt, the verdict) above the LED row. */
  line(text: string): void {
    if (this.live) this.out.write(`\r\x1b[2K${this.stamp()} ${text}\n${this.row}`);
    else this.out.write(`${this.stamp()} ${text}\n`);
  }

  /** Ends the live row so later output starts on a fresh line. */
  close(): void {
    if (this.live && this.row) this.out.write('\n');
    this.row = '';
  }
}

/** Wraps a Leds backend and reports the lit LEDs after every change. */
export class WatchedLeds implements Leds {
  readonly names: readonly string[];

  constructor(private readonly inner: Leds, private readonly onChange: (lit: string[]) => void) {
    this.names = inner.names;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  set(name: string, on: boolean): void {
    const before = this.inner.isOn(name);
    this.inner.set(name, on);
    if (before !== on) this.onChange(this.names.filter((n) => this.inner.isOn(n)));
  }

  isOn(name: string): boolean {
    return this.inner.isOn(name);
  }

  async stop(): Promise<void> {
    await this.inner.stop();
  }
}
