import type { Logger } from '../lib/logger.ts';
import { checkName, type Leds } from './panel.ts';

/**
 * LEDs are optional hardware (STYLE.md §5, balena src/lib/blink.ts): if the real outputs cannot be opened, warn once
 * and keep going with LEDs that only remember their state, so a session still runs (staff screens get the prompts
 * as progress). The camera, by contrast, is fatal. The composition root (compose.ts) wraps the panel's LEDs in it.
 */
export class OptionalLeds implements Leds {
  readonly names: readonly string[];
  private degraded = false;
  private running = false;
  private readonly state = new Map<string, boolean>();

  constructor(private readonly inner: Leds, private readonly logger: Logger) {
    this.names = inner.names;
  }

  /** true when the real LEDs could not be opened */
  get isDegraded(): boolean {
    return this.degraded;
  }

  async start(): Promise<void> {
    try {
      await this.inner.start();
    } catch (e: unknown) {
      this.degraded = true;
      this.logger.warn({ err: e }, 'LEDs unavailable; continuing without them');
    }
    this.running = true;
  }

  set(name: string, on: boolean): void {
    checkName(this.names, name, 'LED');
    if (!this.running) throw new Error('LEDs not started');
    if (!this.degraded) this.inner.set(name, on);
    this.state.set(name, on);
  }

  isOn(name: string): boolean {
    checkName(this.names, name, 'LED');
    return this.degraded ? (this.state.get(name) ?? false) : this.inner.isOn(name);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.state.clear();
    if (!this.degraded) await this.inner.stop();
  }
}
