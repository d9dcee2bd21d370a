import { createHash } from 'node:crypto';
import { Agent } from '../agent.ts';
import { releaseVersion } from '../app-root.ts';
import { createFrameSource } from '../camera/create-frame-source.ts';
import type { FrameSource } from '../camera/frame-source.ts';
import { REAL_TIMER } from '../carrier/backoff.ts';
import type { CarrierLink } from '../carrier/link.ts';
import type { LoadConfigOptions, LoadedConfig } from '../config/load.ts';
import type { BootOutcome } from '../config/remote-layer.ts';
import type { Config } from '../config/schema.ts';
import { CONFIG_REPORT_TYP, TRACE_TYP, signJson } from '../carrier/jws.ts';
import { errorMessage } from '../errors.ts';
import { setLogLevel, type Logger } from '../device/logger.ts';
import type { Notifier } from '../device/sd-notify.ts';
import { watchdogIntervalMs } from '../device/sd-notify.ts';
import { TelemetryCollector, TelemetryReporter } from '../device/telemetry.ts';
import { readCaCertificates } from '../device/tls/certificate.ts';
import { TlsCredentials } from '../device/tls/credentials.ts';
import { CertRenewal } from '../device/tls/renewal.ts';
import { Watchdog } from '../device/watchdog.ts';
import { createPanel, type Panel } from '../panel/create-panel.ts';
import { OptionalLeds } from '../panel/optional-leds.ts';
import type { Buttons, Leds } from '../panel/panel.ts';
import { type PolicyInput, policySchema, resolvePolicy } from '../session/policy.ts';
import type { RandomSource } from '../session/random.ts';
import { FailureRateLimiter } from '../session/rate-limiter.ts';
import { performanceClock } from '../session/clock.ts';
import { loadManifest } from '../vision/manifest.ts';
import { deploymentPolicyBase } from '../session/deployment-policy.ts';
import { FaceEngine } from '../vision/engine.ts';
import { openCarrierPart, trustedCarrierKeys } from './carrier-part.ts';
import { RemoteConfigService } from './remote-config.ts';
import {
  buttonsComponent, cameraComponent, carrierComponent, engineComponent, ledsComponent, systemdComponent, telemetryComponent,
} from './components.ts';
import { HealthMonitor } from './health.ts';
import { TraceRecorder } from './trace-recorder.ts';
import { TraceService } from './trace-service.ts';
import type { AnalysedFrame, ProgressEvent } from '../session/runner.ts';
import { TraceStore } from '../session/trace-store.ts';
import { traceThresholds } from '../session/trace.ts';
import { ClockProbe, STATUS_INTERVAL_MS, StatusReporter, releaseTimeMs } from './status.ts';
import { SessionService, type SessionRunnerPort } from './session-service.ts';

/** Everything the session shell needs, built here once from config. */
export interface RunnerParts {
  engine: FaceEngine;
  camera: FrameSource;
  leds: Leds;
  buttons: Buttons;
  logger: Logger;
  limiter: FailureRateLimiter;
  /** the resolved deployment policy under the carrier's */
  policyBase: PolicyInput;
  /** challenge order and pauses; default the CSPRNG (the demo's --seed makes a run reproducible) */
  random?: RandomSource;
  /** 'frames' for a replay at 'fast' pace: session time is the recording's time (deterministic) */
  timeSource: 'clock' | 'frames';
  onProgress: (sessionId: string, event: ProgressEvent) => void;
  /** every analysed frame of a session (the trace recorder reads its numbers only) */
  onFrame?: (frame: AnalysedFrame) => void;
}

export interface ComposeDeps {
  logger: Logger;
  notifier: Notifier;
  env: NodeJS.ProcessEnv;
  createRunner: (parts: RunnerParts) => SessionRunnerPort;
  /** a panel built by the caller (the demo draws simulated LEDs); default: from config `panel` */
  panel?: Panel;
  random?: RandomSource;
  /** a camera built by the caller (the soak replays its clip once per session); default: from config `camera` */
  camera?: FrameSource;
  /** remote configuration (`regterm run`): how the config was loaded, what this start found, how to restart */
  remote?: { layers: LoadConfigOptions; loaded: LoadedConfig; boot: BootOutcome; restart: (reason: string) => void };
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
 * The model manifest, read once here: its sha256 is the `models` field of every result and status (known before the
 * engine starts), and its calibrated thresholds are the base of the session policy. The engine verifies every model
 * against it in start().
 */
async function manifestFacts(): Promise<{ hash: string; thresholds: { fusion: { threshold: number }; antispoofThreshold: number | undefined } }> {
  const { manifest, bytes } = await loadManifest();
  return {
    hash: createHash('sha256').update(bytes).digest('hex'),
    // the engine's fallback when the manifest has no calibrated match threshold (vision/engine.ts fusionFrom)
    thresholds: { fusion: { threshold: manifest.thresholds.match?.value ?? 0.3 }, antispoofThreshold: manifest.thresholds.antispoof?.value },
  };
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
  // Policy layers: schema defaults < manifest calibration < config `session.policy` (validated by the config schema)
  // < the carrier's request.
  const policyFrom = (c: Readonly<Config>) => resolvePolicy(c.session.policy as PolicyInput, deploymentPolicyBase(manifest.thresholds));
  const limiterFrom = (c: Readonly<Config>) => new FailureRateLimiter(performanceClock,
    { maxFailures: c.session.maxFailures, windowMs: c.session.failureWindowS * 1000 });
  // Replaced when a remote configuration changes them; the runner reads both at the start of every session.
  let policyBase = policyFrom(config);
  let limiter = limiterFrom(config);
  const version = releaseVersion();

  const engine = new FaceEngine({ modelsDir: config.models.dir, logger: child('engine'),
    tuning: { intraOpThreads: config.models.intraOpThreads } });
  // camera and panel backends bind their own `component` (and `backend`) to the logger they are given
  const panel = deps.panel ?? await createPanel(config.panel, logger);
  const leds = new OptionalLeds(panel.leds, child('leds'));
  const camera = deps.camera ?? createFrameSource(config.camera, logger);

  let session: SessionService | undefined;
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
    logger, version, modelsHash, inventory, policySchema, credentials, isBusy: () => session?.busy ?? true,
    // a customer is not asked to look into a camera that does not work
    unavailable: () => (status.reasons().includes('camera_unavailable') ? 'camera_unavailable' : undefined),
  });
  const link = carrier.link;
  const t = config.trace;
  const traceStore = t.keepSessions > 0
    ? new TraceStore(config.stateDir, { keepSessions: t.keepSessions, keepDays: t.keepDays, maxTotalBytes: t.maxTotalMB * 1e6 })
    : undefined;
  const traces = new TraceRecorder(traceStore, () => traceThresholds(policyBase), child('trace'));
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
  const runner = deps.createRunner({
    engine, camera, leds, buttons: panel.buttons, logger, random: deps.random,
    get limiter() { return limiter; },
    get policyBase() { return policyBase; },
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

  const collector = new TelemetryCollector({
    sysRoot: config.telemetry.sysRoot, diskPath: config.stateDir,
    sources: {
      camera: () => { const s = camera.stats(); return { fps: s.fps, drops: s.drops }; },
      outboxDepth: () => link.health().outboxDepth,
      link: () => { const h = link.health(); return { reconnects: h.reconnects, knockOffs: h.knockOffs }; },
      outcomes: () => session.counts(),
      condition: () => ({ degraded: status.reasons(), clock: clockProbe.last }),
      cert: renewal && (() => renewal!.status()),
    },
  });
  const reporter = new TelemetryReporter({
    collector, publish: (sample) => { link.publishTelemetry(sample); }, intervalMs: config.telemetry.intervalS * 1000,
    logger, timer: REAL_TIMER,
  });
  // Without systemd the health check still runs (every 10 s) so an unhealthy agent says so in its log.
  const healthLog = child('health');
  const watchdog = new Watchdog(deps.notifier, watchdogIntervalMs(deps.env) ?? 10_000, () => health.liveness(),
    (reasons) => healthLog.error({ reasons }, 'unhealthy: watchdog not fed'));
  const status = new StatusReporter({ health, link, logger: healthLog, clock: clockProbe, intervalMs: STATUS_INTERVAL_MS });

  let loaded = deps.remote?.loaded;
  const remote = deps.remote && new RemoteConfigService({
    deviceId: config.deviceId, stateDir: config.stateDir, link, logger, now: Date.now, boot: deps.remote.boot,
    layers: deps.remote.layers, current: () => loaded!, restart: deps.remote.restart,
    carrierKeys: () => carrier.carrierKeys,
    sign: (report) => signJson(report, carrier.identity.privateKey, carrier.identity.kid, CONFIG_REPORT_TYP),
    check: async (next) => {
      try {
        await trustedCarrierKeys(next.carrier);
        return undefined;
      } catch (e: unknown) {
        return { reason: /no trusted carrier key/.test(errorMessage(e)) ? 'last_key' : 'invalid', problem: errorMessage(e) };
      }
    },
    applyLive: async (next, keys) => {
      loaded = next;
      const c = next.config;
      if (keys.includes('log.level')) setLogLevel(logger, c.log.level);
      if (keys.includes('session.policy')) policyBase = policyFrom(c);
      if (keys.includes('session.maxFailures') || keys.includes('session.failureWindowS')) limiter = limiterFrom(c);
      if (keys.includes('telemetry.intervalS')) reporter.setIntervalMs(c.telemetry.intervalS * 1000);
      if (keys.includes('carrier.keys') || keys.includes('carrier.revokedKids')) {
        const trusted = await trustedCarrierKeys(c.carrier);
        carrier.carrierKeys.clear();
        for (const [kid, key] of trusted) carrier.carrierKeys.set(kid, key);
      }
    },
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
  ], logger);
  return { agent, link, session, camera, health, version, modelsHash };
}
