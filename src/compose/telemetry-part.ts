import type { FrameSource } from '../camera/frame-source.ts';
import { SYSTEM_CLOCK } from '../lib/clock.ts';
import type { CarrierLink } from '../carrier/link.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../lib/logger.ts';
import { type CertTelemetry, TelemetryCollector, TelemetryReporter, type TelemetrySources } from '../device/telemetry.ts';
import type { SessionService } from './session-service.ts';

export interface TelemetryParts {
  camera: FrameSource;
  link: CarrierLink;
  session: SessionService;
  /** why the terminal is degraded and whether its clock is synchronised (status.ts) */
  condition: NonNullable<TelemetrySources['condition']>;
  /** the TLS client certificate, when the agent renews one */
  cert?: () => CertTelemetry;
  logger: Logger;
}

/** The periodic telemetry sample (device/telemetry.ts) from the running agent's parts, published on the link. */
export function telemetryReporter(config: Readonly<Config>, parts: TelemetryParts): TelemetryReporter {
  const { camera, link, session } = parts;
  const collector = new TelemetryCollector({
    sysRoot: config.telemetry.sysRoot, diskPath: config.stateDir,
    sources: {
      camera: () => { const s = camera.stats(); return { fps: s.fps, drops: s.drops }; },
      outboxDepth: () => link.health().outboxDepth,
      link: () => { const h = link.health(); return { reconnects: h.reconnects, knockOffs: h.knockOffs }; },
      outcomes: () => session.counts(),
      condition: parts.condition,
      cert: parts.cert,
    },
  });
  return new TelemetryReporter({
    collector, publish: (sample) => { link.publishTelemetry(sample); }, intervalMs: config.telemetry.intervalS * 1000,
    logger: parts.logger, timer: SYSTEM_CLOCK,
  });
}
