import { SYSTEM_CLOCK, type Timer } from '../lib/clock.ts';
import type { Notifier } from './sd-notify.ts';

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
  private running = false;
  private lastReasons = '';

  constructor(
    private readonly notifier: Notifier,
    private readonly intervalMs: number,
    private readonly check: () => HealthReport,
    private readonly onUnhealthy: (reasons: string[]) => void,
    private readonly timer: Timer = SYSTEM_CLOCK,
  ) {}

  start(): void {
    this.running = true;
    this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.handle !== undefined) this.timer.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private tick(): void {
    this.feed();
    if (this.running) this.handle = this.timer.setTimeout(() => this.tick(), this.intervalMs);
  }

  private feed(): void {
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
