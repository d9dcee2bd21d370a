import type { GpioCtor, GpioLine } from '../../../src/panel/onoff-panel.ts';

/**
 * A fake of our own narrow GpioLine interface (not of onoff): one per test, per instance state, so the onoff
 * backend's mapping, debounce and release paths run here. `drive(n, level)` sets an input's physical level and
 * fires its watchers, as the kernel's edge interrupt would.
 */
export function fakeBoard() {
  const physical = new Map<number, 0 | 1>();
  const opened: Array<{ n: number; direction: string; edge?: string; activeLow: boolean }> = [];
  const watchers = new Map<number, Array<(err: Error | null | undefined, v: 0 | 1) => void>>();
  const exported = new Set<number>();
  const Gpio: GpioCtor = class implements GpioLine {
    private readonly activeLow: boolean;
    constructor(private readonly n: number, direction: 'in' | 'out' | 'high' | 'low', edge?: string, options?: { activeLow?: boolean }) {
      this.activeLow = options?.activeLow ?? false;
      opened.push({ n, direction, edge, activeLow: this.activeLow });
      exported.add(n);
      if (direction === 'low' || direction === 'out') physical.set(n, this.activeLow ? 1 : 0);
      if (direction === 'in' && !physical.has(n)) physical.set(n, this.activeLow ? 1 : 0); // pulled to inactive
    }
    readSync(): 0 | 1 {
      const p = physical.get(this.n) ?? 0;
      return (this.activeLow ? 1 - p : p) as 0 | 1;
    }
    writeSync(value: 0 | 1): void {
      physical.set(this.n, (this.activeLow ? 1 - value : value) as 0 | 1);
    }
    watch(cb: (err: Error | null | undefined, v: 0 | 1) => void): void {
      watchers.set(this.n, [...(watchers.get(this.n) ?? []), cb]);
    }
    unwatchAll(): void {
      watchers.delete(this.n);
    }
    unexport(): void {
      exported.delete(this.n);
    }
  };
  return {
    Gpio,
    opened,
    exported,
    physical: (n: number) => physical.get(n),
    drive(n: number, level: 0 | 1): void {
      physical.set(n, level);
      for (const cb of watchers.get(n) ?? []) cb(null, level);
    },
  };
}
