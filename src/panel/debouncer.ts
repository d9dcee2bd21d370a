import type { Clock } from '../lib/clock.ts';

/**
 * Edge-driven debounce for one input: every raw edge (re)starts a `ms` timer; when the line has been quiet that long
 * the settled level is read and reported if it differs from the last reported one. A bouncing contact thus yields
 * exactly one change, reported `ms` after the last bounce.
 */
export class Debouncer {
  private timer: unknown;
  private reported: boolean;

  constructor(
    private readonly ms: number,
    private readonly clock: Clock,
    private readonly readLevel: () => boolean,
    private readonly onChange: (level: boolean, tMs: number) => void,
    initial: boolean,
  ) {
    this.reported = initial;
  }

  edge(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      const level = this.readLevel();
      if (level === this.reported) return;
      this.reported = level;
      this.onChange(level, this.clock.now());
    }, this.ms);
  }

  get level(): boolean {
    return this.reported;
  }

  cancel(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
