import { CONFIG_REPORT_TYP, signJson } from '../carrier/jws.ts';
import type { LoadConfigOptions, LoadedConfig } from '../config/load.ts';
import type { BootOutcome } from '../config/remote-layer.ts';
import { setLogLevel, type Logger } from '../lib/logger.ts';
import type { TelemetryReporter } from '../device/telemetry.ts';
import { errorMessage } from '../lib/errors.ts';
import { type CarrierPart, trustedCarrierKeys } from './carrier-from-config.ts';
import { RemoteConfigService, type RemoteConfigLink } from './remote-config.ts';
import type { SessionSettings } from './session-settings.ts';

/** How `regterm run` loaded its configuration, what this start found, and how to restart the agent. */
export interface RemoteSetup {
  layers: LoadConfigOptions;
  loaded: LoadedConfig;
  boot: BootOutcome;
  restart: (reason: string) => void;
}

/** The running parts a remote configuration changes live. */
export interface LiveParts {
  deviceId: string;
  stateDir: string;
  link: RemoteConfigLink;
  carrier: CarrierPart;
  settings: SessionSettings;
  reporter: TelemetryReporter;
  logger: Logger;
}

/**
 * The remote configuration component (remote-config.ts) wired to the running agent: desired configurations are
 * verified with the live carrier keys and must leave one trusted; the keys that change live go to their parts (log
 * level, session settings, telemetry interval, carrier keys), the others restart the agent.
 */
export function liveConfigService(remote: RemoteSetup, parts: LiveParts): RemoteConfigService {
  const { carrier, settings, reporter, logger } = parts;
  let loaded = remote.loaded;
  return new RemoteConfigService({
    deviceId: parts.deviceId, stateDir: parts.stateDir, link: parts.link, logger, now: Date.now, boot: remote.boot,
    layers: remote.layers, current: () => loaded, restart: remote.restart,
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
      settings.applyLive(c, keys);
      if (keys.includes('telemetry.intervalS')) reporter.setIntervalMs(c.telemetry.intervalS * 1000);
      if (keys.includes('carrier.keys') || keys.includes('carrier.revokedKids')) {
        const trusted = await trustedCarrierKeys(c.carrier);
        carrier.carrierKeys.clear();
        for (const [kid, key] of trusted) carrier.carrierKeys.set(kid, key);
      }
    },
  });
}
