import type { Notifier } from './sd-notify.ts';

export interface Timer {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const REAL_TIMER: Timer = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

export interface HealthReport {
  healthy: boolean;
  /** why not healthy, e.g. "camera: no frame for 9000 ms" */
  reasons: string[];
}

/**
 * Feeds the systemd watchdog (WATCHDOG=1) only while the health check passes, so a wedged frame loop or a dead link
 * gets the service restarted. Starts feeding immediately; stop() clears the timer.
 */
export class Watchdog {
  private handle: unknown;
  private lastReasons = '';

  constructor(
    private readonly notifier: Notifier,
    private readonly intervalMs: number,
    private readonly check: () => HealthReport,
    private readonly onUnhealthy: (reasons: string[]) => void,
    private readonly timer: Timer = REAL_TIMER,
  ) {}

  start(): void {
    this.tick();
    this.handle = this.timer.setInterval(() => this.tick(), this.intervalMs);
  }

  stop(): void {
    if (this.handle !== undefined) this.timer.clearInterval(this.handle);
    this.handle = undefined;
  }

  private tick(): void {
    const report = this.check();
    if (report.healthy) {
      this.lastReasons = '';
      this.notifier.notify('WATCHDOG=1');
      return;
    }
    const reasons = report.reasons.join('; ');
    if (reasons !== this.lastReasons) this.onUnhealthy(report.reasons); // report a change once, not every tick
    this.lastReasons = reasons;
  }
}
