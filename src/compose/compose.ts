import { join } from 'node:path';
import { Agent } from '../lib/agent.ts';
import { releaseVersion } from '../app-root.ts';
import { createFrameSource } from '../camera/create-frame-source.ts';
import type { FrameSource } from '../camera/frame-source.ts';
import type { CarrierLink } from '../carrier/link.ts';
import type { Config } from '../config/schema.ts';
import { TRACE_TYP, UPDATE_REPORT_TYP, signJson } from '../carrier/jws.ts';
import type { Logger } from '../lib/logger.ts';
import type { Notifier } from '../device/sd-notify.ts';
import { watchdogIntervalMs } from '../device/sd-notify.ts';
import { TelemetryCollector } from '../device/telemetry.ts';
import { readCaCertificates } from '../device/tls/certificate.ts';
import { TlsCredentials } from '../device/tls/credentials.ts';
import { CertRenewal } from '../device/tls/renewal.ts';
import { Watchdog } from '../device/watchdog.ts';
import { createPanel, type Panel } from '../panel/create-panel.ts';
import { OptionalLeds } from '../panel/optional-leds.ts';
import { policySchema } from '../session/policy.ts';
import type { RandomSource } from '../session/random.ts';
import { SessionRunner } from '../session/runner.ts';
import { FaceEngine } from '../vision/engine.ts';
import { openCarrierPart } from './carrier-from-config.ts';
import {
  buttonsComponent, cameraComponent, carrierComponent, engineComponent, ledsComponent, systemdComponent, telemetryComponent,
} from './components.ts';
import { HealthMonitor } from './health.ts';
import { liveConfigService, type RemoteSetup } from './live-config.ts';
import { TraceRecorder } from './trace-recorder.ts';
import { TraceService } from './trace-service.ts';
import { TraceStore } from '../session/trace-store.ts';
import { traceThresholds } from '../session/trace.ts';
import { ClockProbe, STATUS_INTERVAL_MS, StatusReporter, releaseTimeMs } from './status.ts';
import { SessionService } from './session-service.ts';
import { SessionSettings, manifestFacts } from './session-settings.ts';
import { telemetryReporter } from './telemetry-part.ts';
import { UpdateService } from './update-service.ts';

export interface ComposeDeps {
  logger: Logger;
  notifier: Notifier;
  env: NodeJS.ProcessEnv;
  /** a panel built by the caller (the demo draws simulated LEDs); default: from config `panel` */
  panel?: Panel;
  random?: RandomSource;
  /** a camera built by the caller (the soak replays its clip once per session); default: from config `camera` */
  camera?: FrameSource;
  /** remote configuration (`regterm run`): how the config was loaded, what this start found, how to restart */
  remote?: RemoteSetup;
}

export interface ComposedAgent {
  agent: Agent;
  link: CarrierLink;
  session: SessionService;
  camera: FrameSource;
  health: HealthMonitor;
  version: string;
  modelsHash: string;
}

/**
 * The composition root (DESIGN.md §2): chooses every backend once from the validated config and wires the parts.
 * Nothing is opened here except the state database (so a corrupt one fails before any hardware); everything else
 * opens in start(). Start order (dependency order; the Agent stops in reverse):
 *   engine (models verified) → leds → buttons → camera → carrier link → session → telemetry → systemd (READY=1)
 * so on stop: STOPPING=1, telemetry off, running session cancelled and its result committed, outbox drained within
 * `carrier.drainBudgetMs` and `offline` published, camera child killed, buttons released, LEDs off, models closed.
 */
export async function composeAgent(config: Readonly<Config>, deps: ComposeDeps): Promise<ComposedAgent> {
  const { logger } = deps;
  const child = (component: string) => logger.child({ component });
  const manifest = await manifestFacts();
  const modelsHash = manifest.hash;
  const settings = new SessionSettings(config, manifest.thresholds);
  const version = releaseVersion();

  const engine = new FaceEngine({ modelsDir: config.models.dir, logger: child('engine'),
    tuning: { intraOpThreads: config.models.intraOpThreads } });
  // camera and panel backends bind their own `component` (and `backend`) to the logger they are given
  const panel = deps.panel ?? await createPanel(config.panel, logger);
  const leds = new OptionalLeds(panel.leds, child('leds'));
  const camera = deps.camera ?? createFrameSource(config.camera, logger);

  let session: SessionService | undefined;
  let updates: UpdateService | undefined;
  let renewal: CertRenewal | undefined;
  const m = config.mqtt;
  // the client pair is chosen per connection attempt: a renewed one in the state directory may replace the provisioned one
  const credentials = m.caFile && m.certFile && m.keyFile
    ? new TlsCredentials({ certFile: m.certFile, keyFile: m.keyFile, stateDir: config.stateDir, logger,
      onSwitched: (cert) => renewal?.switched(cert), onNewPairRefused: () => renewal?.newPairRefused() })
    : undefined;
  const inventory = await new TelemetryCollector({ sysRoot: config.telemetry.sysRoot, diskPath: config.stateDir })
    .inventory(version, modelsHash);
  const carrier = await openCarrierPart(config, {
    logger, version, modelsHash, inventory, policySchema, credentials,
    isBusy: () => (session?.busy ?? true) || (updates?.installing ?? false),
    // a customer is not asked to look into a camera that does not work
    unavailable: () => (status.reasons().includes('camera_unavailable') ? 'camera_unavailable' : undefined),
  });
  const link = carrier.link;
  const t = config.trace;
  const traceStore = t.keepSessions > 0
    ? new TraceStore(config.stateDir, { keepSessions: t.keepSessions, keepDays: t.keepDays, maxTotalBytes: t.maxTotalMB * 1e6 })
    : undefined;
  const traces = new TraceRecorder(traceStore, () => traceThresholds(settings.policyBase), child('trace'));
  const traceService = new TraceService({
    deviceId: config.deviceId, store: traceStore, link, logger, carrierKeys: () => carrier.carrierKeys,
    sign: (answer) => signJson(answer, carrier.identity.privateKey, carrier.identity.kid, TRACE_TYP),
  });
  renewal = credentials && new CertRenewal({
    deviceId: config.deviceId, credentials, deviceCa: readCaCertificates(m.deviceCaFile ?? m.caFile!),
    renewBeforeDays: m.certRenewBeforeDays, checkIntervalMs: m.certCheckIntervalS * 1000, link,
    isBusy: () => session?.busy ?? false, logger,
  });
  let engineFailures = 0;
  const clockProbe = new ClockProbe({ notBeforeMs: releaseTimeMs() });
  const health = new HealthMonitor({
    camera, link, frameMaxAgeMs: config.health.frameMaxAgeMs, brokerMaxAgeMs: config.health.brokerMaxAgeMs,
    outboxMax: config.carrier.outboxMaxResults, clock: () => clockProbe.last, storage: () => carrier.storageError(), now: Date.now,
    certificateExpiring: () => renewal?.expiring() ?? false, engineFailures: () => engineFailures,
  });
  const runner = new SessionRunner({
    engine, camera, leds, buttons: panel.buttons, logger, random: deps.random,
    get limiter() { return settings.limiter; },
    get policyBase() { return settings.policyBase; },
    timeSource: camera.kind === 'replay' && config.camera.pace === 'fast' ? 'frames' : 'clock',
    onProgress: (sessionId, event) => {
      link.publishProgress(sessionId, event);
      traces.progress(sessionId, event);
    },
    onFrame: (frame) => traces.frame(frame),
  });
  session = new SessionService({ runner, link, logger, onDecided: (decision) => {
    traces.end(decision);
    engineFailures = decision.decision === 'error' && decision.reason === 'internal_error' ? engineFailures + 1 : 0;
  } });

  const reporter = telemetryReporter(config, {
    camera, link, session, logger, cert: renewal && (() => renewal!.status()),
    condition: () => ({ degraded: status.reasons(), clock: clockProbe.last }),
  });
  // Without systemd the health check still runs (every 10 s) so an unhealthy agent says so in its log.
  const healthLog = child('health');
  const watchdog = new Watchdog(deps.notifier, watchdogIntervalMs(deps.env) ?? 10_000, () => health.liveness(),
    (reasons) => healthLog.error({ reasons }, 'unhealthy: watchdog not fed'));
  const status = new StatusReporter({ health, link, logger: healthLog, clock: clockProbe, intervalMs: STATUS_INTERVAL_MS });

  updates = new UpdateService({
    deviceId: config.deviceId, version, updateDir: join(config.stateDir, 'update'), releaseKeysDir: config.update.releaseKeysDir,
    link, logger, now: Date.now, carrierKeys: () => carrier.carrierKeys, sessionBusy: () => session.busy,
    sign: (report) => signJson(report, carrier.identity.privateKey, carrier.identity.kid, UPDATE_REPORT_TYP),
  });

  const remote = deps.remote && liveConfigService(deps.remote, {
    deviceId: config.deviceId, stateDir: config.stateDir, link, carrier, settings, reporter, logger,
  });

  const agent = new Agent([
    engineComponent(engine),
    ledsComponent(leds),
    buttonsComponent(panel.buttons),
    cameraComponent(camera),
    carrierComponent(carrier, config.carrier.drainBudgetMs),
    session,
    telemetryComponent(reporter),
    traceService,
    ...(renewal ? [renewal] : []),
    systemdComponent(deps.notifier, health, watchdog),
    status,
    // after READY: confirms a remote layer that took a restart, then listens for the next one
    ...(remote ? [remote] : []),
    // after READY: reports how the last update ended, then listens for update commands
    updates,
  ], logger);
  return { agent, link, session, camera, health, version, modelsHash };
}
