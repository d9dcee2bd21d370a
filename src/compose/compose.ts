import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from '../agent.ts';
import { APP_ROOT } from '../app-root.ts';
import { createFrameSource } from '../camera/create-frame-source.ts';
import type { FrameSource } from '../camera/frame-source.ts';
import { REAL_TIMER } from '../carrier/backoff.ts';
import type { CarrierLink } from '../carrier/link.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../device/logger.ts';
import type { Notifier } from '../device/sd-notify.ts';
import { watchdogIntervalMs } from '../device/sd-notify.ts';
import { TelemetryCollector, TelemetryReporter } from '../device/telemetry.ts';
import { Watchdog } from '../device/watchdog.ts';
import { createPanel, type Panel } from '../panel/create-panel.ts';
import { OptionalLeds } from '../panel/optional-leds.ts';
import type { Buttons, Leds } from '../panel/panel.ts';
import { type PolicyInput, policySchema, resolvePolicy } from '../session/policy.ts';
import type { RandomSource } from '../session/random.ts';
import { FailureRateLimiter } from '../session/rate-limiter.ts';
import { performanceClock } from '../session/clock.ts';
import { loadManifest } from '../vision/manifest.ts';
import { deploymentPolicyBase } from '../session/runner-support.ts';
import { FaceEngine } from '../vision/engine.ts';
import { openCarrierPart } from './carrier-part.ts';
import {
  buttonsComponent, cameraComponent, carrierComponent, engineComponent, ledsComponent, systemdComponent, telemetryComponent,
} from './components.ts';
import { HealthMonitor } from './health.ts';
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
  onProgress: (sessionId: string, event: { state: string; event: string; atMs: number; prompt?: string }) => void;
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

export function agentVersion(root: string = APP_ROOT): string {
  try {
    return String((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown }).version ?? '0.0.0');
  } catch {
    return '0.0.0';
  }
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
  const policyBase = resolvePolicy(config.session.policy as PolicyInput,
    deploymentPolicyBase(manifest.thresholds));
  const version = agentVersion();

  const engine = new FaceEngine({ modelsDir: config.models.dir, logger: child('engine'),
    tuning: { intraOpThreads: config.models.intraOpThreads } });
  // camera and panel backends bind their own `component` (and `backend`) to the logger they are given
  const panel = deps.panel ?? await createPanel(config.panel, logger);
  const leds = new OptionalLeds(panel.leds, child('leds'));
  const camera = deps.camera ?? createFrameSource(config.camera, logger);

  let session: SessionService | undefined;
  const inventory = await new TelemetryCollector({ sysRoot: config.telemetry.sysRoot, diskPath: config.stateDir })
    .inventory(version, modelsHash);
  const carrier = await openCarrierPart(config, {
    logger, version, modelsHash, inventory, policySchema, isBusy: () => session?.busy ?? true,
  });
  const link = carrier.link;
  const limiter = new FailureRateLimiter(performanceClock,
    { maxFailures: config.session.maxFailures, windowMs: config.session.failureWindowS * 1000 });
  const runner = deps.createRunner({
    engine, camera, leds, buttons: panel.buttons, logger, limiter, policyBase, random: deps.random,
    timeSource: camera.kind === 'replay' && config.camera.pace === 'fast' ? 'frames' : 'clock',
    onProgress: (sessionId, event) => { link.publishProgress(sessionId, event); },
  });
  session = new SessionService({ runner, link, logger });

  const collector = new TelemetryCollector({
    sysRoot: config.telemetry.sysRoot, diskPath: config.stateDir,
    sources: {
      camera: () => { const s = camera.stats(); return { fps: s.fps, drops: s.drops }; },
      outboxDepth: () => link.health().outboxDepth,
      outcomes: () => session.counts(),
      storageError: () => carrier.storageError(),
    },
  });
  const reporter = new TelemetryReporter({
    collector, publish: (sample) => { link.publishTelemetry(sample); }, intervalMs: config.telemetry.intervalS * 1000,
    logger, timer: REAL_TIMER,
  });
  const health = new HealthMonitor({
    camera, link, frameMaxAgeMs: config.health.frameMaxAgeMs, brokerMaxAgeMs: config.health.brokerMaxAgeMs, now: Date.now,
  });
  // Without systemd the health check still runs (every 10 s) so an unhealthy agent says so in its log.
  const healthLog = child('health');
  const watchdog = new Watchdog(deps.notifier, watchdogIntervalMs(deps.env) ?? 10_000, () => health.check(),
    (reasons) => healthLog.warn({ reasons }, 'unhealthy: watchdog not fed'));

  const agent = new Agent([
    engineComponent(engine),
    ledsComponent(leds),
    buttonsComponent(panel.buttons),
    cameraComponent(camera),
    carrierComponent(carrier, config.carrier.drainBudgetMs),
    session,
    telemetryComponent(reporter),
    systemdComponent(deps.notifier, health, watchdog),
  ], logger);
  return { agent, link, session, camera, health, version, modelsHash };
}
