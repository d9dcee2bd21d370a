import type { FrameSource } from '../camera/frame-source.ts';
import type { LinkHealth } from '../carrier/link.ts';
import type { ClockSync } from '../device/clock-sync.ts';
import type { HealthReport } from '../device/watchdog.ts';

/**
 * The agent's health, in two questions with different consequences (DESIGN.md §1):
 *
 * - `liveness()`, for the systemd watchdog: is the process and are its loops alive? The watchdog tick itself runs on
 *   the event loop (a hung loop feeds nothing), and the broker link's reconnect loop must be connected or trying.
 *   A restart helps only here; an unplugged camera or a broker outage is the world outside, which a restart cannot
 *   fix, so neither stops the feeding (they made a restart loop and a `failed` unit before).
 * - `condition()`, for the retained status and telemetry: why the terminal is `degraded`, from a fixed vocabulary:
 *   `camera_unavailable` (its supervisor reports it, or a live camera delivered no frame for `frameMaxAgeMs`),
 *   `broker_unreachable` (no packet for `brokerMaxAgeMs`; seen in the log and telemetry, as the broker cannot carry it),
 *   `clock_unsynchronised`, `outbox_near_full` (at 80 % of the cap), `storage_full` (the state database cannot be
 *   written: sessions are refused with that reason by the request intake), `certificate_expiring` (the TLS client
 *   certificate is inside its renewal margin; device/tls/renewal.ts), `models_failing` (the face engine failed two
 *   sessions in a row; cleared by the next session it completes).
 * A replay recording ends by design, so only its own health() counts for it. `now` must be the clock the link stamps
 * activity with (wall-clock ms, `Date.now`).
 */
export interface HealthMonitorOptions {
  camera: Pick<FrameSource, 'kind' | 'stats' | 'health'>;
  link: { health(): LinkHealth };
  frameMaxAgeMs: number;
  brokerMaxAgeMs: number;
  /** the outbox cap (carrier.outboxMaxResults) */
  outboxMax: number;
  /** last known clock synchronisation (device/clock-sync.ts), refreshed by the caller */
  clock?: () => ClockSync;
  /** why the state database cannot be written now (disk full, unavailable), if it cannot */
  storage?: () => string | undefined;
  /** the TLS client certificate is inside its renewal margin */
  certificateExpiring?: () => boolean;
  /** sessions in a row that the face engine failed (ended `error/internal_error`) */
  engineFailures?: () => number;
  now: () => number;
}

export const DEGRADED_REASONS = ['camera_unavailable', 'broker_unreachable', 'clock_unsynchronised', 'outbox_near_full',
  'storage_full', 'certificate_expiring', 'models_failing'] as const;
/** Two sessions in a row failed by the engine: one can be a frame the models choke on, two is the models. */
const ENGINE_FAILURES_DEGRADED = 2;
export type DegradedReason = (typeof DEGRADED_REASONS)[number];
const NEAR_FULL_FRACTION = 0.8;

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

  /** For the watchdog: only what a restart can fix. */
  liveness(): HealthReport {
    const link = this.options.link.health();
    return link.loopAlive ? { healthy: true, reasons: [] } : { healthy: false, reasons: ['link: the reconnect loop stopped'] };
  }

  /** For the status: why the terminal is degraded (empty: online). */
  condition(): DegradedReason[] {
    const o = this.options;
    const now = o.now();
    const reasons: DegradedReason[] = [];
    const frames = o.camera.stats().frames;
    if (frames !== this.lastFrames) {
      this.lastFrames = frames;
      this.lastFrameAt = now;
    }
    const stalled = o.camera.kind !== 'replay' && now - this.lastFrameAt > o.frameMaxAgeMs;
    if (o.camera.health().status !== 'ok' || stalled) reasons.push('camera_unavailable');
    const link = o.link.health();
    if (now - (link.lastActivityAt ?? this.startedAt) > o.brokerMaxAgeMs) reasons.push('broker_unreachable');
    if (o.clock?.() === 'unsynchronized') reasons.push('clock_unsynchronised');
    if (link.outboxDepth >= NEAR_FULL_FRACTION * o.outboxMax) reasons.push('outbox_near_full');
    if (o.storage?.() !== undefined) reasons.push('storage_full');
    if (o.certificateExpiring?.()) reasons.push('certificate_expiring');
    if ((o.engineFailures?.() ?? 0) >= ENGINE_FAILURES_DEGRADED) reasons.push('models_failing');
    return reasons;
  }
}
