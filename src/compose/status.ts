import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Component } from '../lib/agent.ts';
import { APP_ROOT } from '../app-root.ts';
import { clockSync, type ClockSync, type ClockSyncOptions } from '../device/clock-sync.ts';
import type { Logger } from '../lib/logger.ts';
import type { DegradedReason, HealthMonitor } from './health.ts';

/**
 * The terminal's condition, kept current: every `intervalMs` the health monitor's `condition()` (health.ts) becomes
 * the retained status (`online`, or `degraded` with its reasons), each change is logged once, and the reasons are
 * there for telemetry and for refusing sessions that cannot work (a camera that is unavailable).
 */
export const STATUS_INTERVAL_MS = 2000;
/** The clock's synchronisation is asked less often: it spawns timedatectl. */
const CLOCK_EVERY_MS = 60_000;

export class ClockProbe {
  last: ClockSync = 'unknown';
  private askedAt = -Infinity;
  private pending?: Promise<void>;

  constructor(private readonly options: ClockSyncOptions = {}) {}

  /** Refreshes in the background at most every CLOCK_EVERY_MS; `last` keeps the latest answer. */
  refresh(now: number): Promise<void> {
    if (this.pending || now - this.askedAt < CLOCK_EVERY_MS) return this.pending ?? Promise.resolve();
    this.askedAt = now;
    this.pending = clockSync(this.options).then((s) => { this.last = s; }).finally(() => { this.pending = undefined; });
    return this.pending;
  }
}

/** When this release was installed (its package.json): no real clock reads earlier. */
export function releaseTimeMs(root: string = APP_ROOT): number | undefined {
  try {
    return statSync(join(root, 'package.json')).mtimeMs;
  } catch {
    return undefined;
  }
}

export interface StatusReporterOptions {
  health: Pick<HealthMonitor, 'condition'>;
  link: { setStatusReasons(reasons: readonly string[]): void };
  clock: ClockProbe;
  logger: Logger;
  intervalMs: number;
  now?: () => number;
}

export class StatusReporter implements Component {
  readonly name = 'status';
  private current: DegradedReason[] = [];
  private handle?: NodeJS.Timeout;

  constructor(private readonly o: StatusReporterOptions) {}

  /** The reasons the terminal is degraded, as of the last check (empty: online). */
  reasons(): readonly DegradedReason[] {
    return this.current;
  }

  async start(): Promise<void> {
    await this.o.clock.refresh((this.o.now ?? Date.now)());
    this.check();
    this.handle = setInterval(() => {
      void this.o.clock.refresh((this.o.now ?? Date.now)());
      this.check();
    }, this.o.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.handle);
  }

  /** Recomputes the condition; a change is logged and republished as the retained status. */
  check(): void {
    const next = this.o.health.condition();
    if (next.join(',') === this.current.join(',')) return;
    const added = next.filter((r) => !this.current.includes(r));
    const cleared = this.current.filter((r) => !next.includes(r));
    this.current = next;
    if (next.length > 0) this.o.logger.warn({ reasons: next, added, cleared }, 'degraded');
    else this.o.logger.info({ cleared }, 'online: no longer degraded');
    this.o.link.setStatusReasons(next);
  }
}
