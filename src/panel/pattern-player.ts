import type { Clock } from '../lib/clock.ts';
import type { Leds } from './panel.ts';
import { expandPattern, type ExpandedPattern, type PatternDef } from './patterns.ts';

interface Layer {
  priority: number;
  order: number;
  expanded: ExpandedPattern;
}

/**
 * Drives any Leds backend from pattern data with an injected clock/timer.
 * INVARIANTS: exactly one pattern (the top layer: highest priority, then most recent) is rendered; LEDs not in the
 * current step are off; at most one timer is pending; a finite pattern removes itself when done and the next layer
 * resumes from its first step; stop() clears the timer and turns everything off.
 */
export class PatternPlayer {
  private readonly layers = new Map<string, Layer>();
  private order = 0;
  private current: string | undefined;
  private timer: unknown;

  /** `onError`: a failed LED write on a timer tick (the Leds were stopped first, a GPIO write failed) stops the player
   * and is reported here instead of escaping from a timer callback. */
  constructor(private readonly leds: Leds, private readonly clock: Clock, private readonly onError: (e: unknown) => void = () => {}) {}

  /** Show a pattern under `id` (a prompt name, or the session's own id); replaces an earlier one with the same id. */
  show(id: string, def: PatternDef): void {
    const expanded = expandPattern(def.pattern, this.leds.names);
    this.layers.set(id, { priority: def.priority, order: this.order++, expanded });
    const top = this.top();
    if (top !== this.current || top === id) this.switchTo(top);
  }

  clear(id: string): void {
    if (this.layers.delete(id)) this.reconcile();
  }

  clearAll(): void {
    this.layers.clear();
    this.reconcile();
  }

  /** the id being rendered */
  active(): string | undefined {
    return this.current;
  }

  /** Clear every pattern and turn the LEDs off. Call it before stopping the Leds. */
  stop(): void {
    this.layers.clear();
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.current = undefined;
    this.apply([]);
  }

  private top(): string | undefined {
    let best: [string, Layer] | undefined;
    for (const entry of this.layers) {
      const [, l] = entry;
      if (!best || l.priority > best[1].priority || (l.priority === best[1].priority && l.order > best[1].order)) best = entry;
    }
    return best?.[0];
  }

  private reconcile(): void {
    const top = this.top();
    if (top !== this.current) this.switchTo(top);
  }

  private switchTo(top: string | undefined): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.current = top;
    if (top === undefined) this.apply([]);
    else this.render(top, 0);
  }

  private render(id: string, index: number): void {
    const layer = this.layers.get(id);
    if (!layer) return;
    const { steps, repeat } = layer.expanded;
    if (index >= steps.length) {
      if (repeat) {
        this.render(id, 0);
        return;
      }
      this.layers.delete(id);
      this.switchTo(this.top());
      return;
    }
    const step = steps[index];
    this.apply(step.on);
    if (Number.isFinite(step.ms)) this.timer = this.clock.setTimeout(() => this.tick(id, index + 1), step.ms);
  }

  private tick(id: string, index: number): void {
    try {
      this.render(id, index);
    } catch (e: unknown) {
      this.layers.clear();
      this.current = undefined;
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.onError(e);
    }
  }

  private apply(on: readonly string[]): void {
    for (const n of this.leds.names) this.leds.set(n, on.includes(n));
  }
}
