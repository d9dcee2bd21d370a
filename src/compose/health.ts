import type { FrameSource } from '../camera/frame-source.ts';
import type { LinkHealth } from '../carrier/link.ts';
import type { HealthReport } from '../device/watchdog.ts';

/**
 * The agent's health for the systemd watchdog (STYLE.md §11, balena api-binder `healthcheck()`): the frame loop and
 * the broker link must both show recent activity.
 * - camera: its own health() (a supervised backend reports `camera_unavailable` while restarting), and for a live
 *   camera a frame counter that moved within `frameMaxAgeMs`. A replay recording ends by design, so only its
 *   health() counts.
 * - link: a packet from the broker (PINGRESP counts) within `brokerMaxAgeMs`. Before the first packet the age is
 *   measured from start(), so a terminal that never reaches its broker is restarted too.
 * `now` must be the clock the link stamps activity with (wall-clock ms, `Date.now`).
 */
export interface HealthMonitorOptions {
  camera: Pick<FrameSource, 'kind' | 'stats' | 'health'>;
  link: { health(): LinkHealth };
  frameMaxAgeMs: number;
  brokerMaxAgeMs: number;
  now: () => number;
}

export class HealthMonitor {
  private startedAt = 0;
  private lastFrames = -1;
  private lastFrameAt = 0;

  constructor(private readonly options: HealthMonitorOptions) {}

  /** Marks the start of monitoring: ages before the first frame or packet count from here. */
  start(): void {
    this.startedAt = this.options.now();
    this.lastFrameAt = this.startedAt;
    this.lastFrames = this.options.camera.stats().frames;
  }

  check(): HealthReport {
    const o = this.options;
    const now = o.now();
    const reasons: string[] = [];
    const camera = o.camera.health();
    if (camera.status !== 'ok') reasons.push(`camera: ${camera.reason}`);
    const frames = o.camera.stats().frames;
    if (frames !== this.lastFrames) {
      this.lastFrames = frames;
      this.lastFrameAt = now;
    } else if (o.camera.kind !== 'replay' && now - this.lastFrameAt > o.frameMaxAgeMs) {
      reasons.push(`camera: no frame for ${now - this.lastFrameAt} ms`);
    }
    const link = o.link.health();
    const brokerAge = now - (link.lastActivityAt ?? this.startedAt);
    if (brokerAge > o.brokerMaxAgeMs) {
      reasons.push(`link: ${link.lastActivityAt === undefined ? 'never reached the broker' : 'no broker activity'} for ${brokerAge} ms`);
    }
    return { healthy: reasons.length === 0, reasons };
  }
}
