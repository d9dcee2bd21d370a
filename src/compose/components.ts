import type { Component } from '../lib/agent.ts';
import type { FrameSource } from '../camera/frame-source.ts';
import type { CarrierPart } from './carrier-from-config.ts';
import type { Notifier } from '../device/sd-notify.ts';
import type { TelemetryReporter } from '../device/telemetry.ts';
import type { Watchdog } from '../device/watchdog.ts';
import type { Buttons, Leds } from '../panel/panel.ts';
import type { FaceEngine } from '../vision/engine.ts';
import type { HealthMonitor } from './health.ts';

/**
 * The agent's parts as lifecycle Components (src/lib/agent.ts), in the order compose.ts starts them. Each adapter only
 * maps start/stop; the parts keep their own contracts (FrameSource, Leds, CarrierLink...).
 */
export function engineComponent(engine: Pick<FaceEngine, 'start' | 'stop'>): Component {
  return { name: 'engine', start: () => engine.start(), stop: () => engine.stop() };
}

/** LEDs start off; stop() turns every LED off and releases the outputs. */
export function ledsComponent(leds: Leds): Component {
  return { name: 'leds', start: () => leds.start(), stop: () => leds.stop() };
}

export function buttonsComponent(buttons: Buttons): Component {
  return { name: 'buttons', start: () => buttons.start(), stop: () => buttons.stop() };
}

/** stop() kills the camera's child process (rpicam-vid / ffmpeg) and waits for it. */
export function cameraComponent(camera: FrameSource): Component {
  return { name: 'camera', start: (signal) => camera.start(signal), stop: () => camera.stop() };
}

/**
 * The broker link. stop() first gives queued results up to `drainBudgetMs` to be acknowledged (the carrier may be
 * about to ack the result of a session the shutdown just cancelled), then publishes `offline`, disconnects and
 * closes the state database. Results still queued stay on disk and are delivered after the restart.
 */
export function carrierComponent(part: CarrierPart, drainBudgetMs: number, sleep = defaultSleep): Component {
  return {
    name: 'carrier',
    // the start signal cancels the link's start only: the link outlives the session component's stop, to deliver the
    // cancelled session's result, and ends in stop() below
    start: (signal) => part.link.start(signal),
    async stop() {
      const deadline = Date.now() + drainBudgetMs;
      while (part.link.health().outboxDepth > 0 && Date.now() < deadline) await sleep(50);
      await part.close(); // stops the link (publishes offline), then closes the state database
    },
  };
}

export function telemetryComponent(reporter: TelemetryReporter): Component {
  return { name: 'telemetry', start: async (signal) => reporter.start(signal), stop: async () => reporter.stop() };
}

/**
 * Health and systemd notifications: READY=1 once every earlier component started (this one starts last), WATCHDOG=1
 * while healthy (when systemd asked for a watchdog), STOPPING=1 as the first step of the stop (it stops first).
 */
export function systemdComponent(notifier: Notifier, health: HealthMonitor, watchdog: Watchdog | undefined): Component {
  return {
    name: 'systemd',
    async start() {
      health.start();
      watchdog?.start();
      notifier.notify('READY=1');
    },
    async stop() {
      notifier.notify('STOPPING=1');
      watchdog?.stop();
    },
  };
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
