import { parseArgs } from 'node:util';
import { ConfigError, loadConfigLayers, type LoadConfigOptions, type LoadedConfig } from '../config/load.ts';
import { beginRemoteBoot, rollBackInvalidLayer, type BootOutcome } from '../config/remote-layer.ts';
import { composeAgent } from '../compose/compose.ts';
import { runUntilStopped } from '../compose/lifecycle.ts';
import { createLogger } from '../lib/logger.ts';
import { createNotifier } from '../device/sd-notify.ts';
import { EXIT, UsageError, errorMessage } from '../lib/errors.ts';
import type { CommandContext } from './command.ts';

const HELP = `usage: regterm run [--config FILE]

The agent: connects to the carrier's broker, runs registration sessions on request, feeds the systemd watchdog while
healthy. Config layers: defaults < FILE (JSON) < conf.d/*.json beside it < the carrier's remote layer < REGTERM_*
environment (e.g. REGTERM_MQTT_URL); \`regterm config\` shows the result and each value's layer. Logs are JSON on stdout.
Stops cleanly on SIGTERM/SIGINT (exit 0); a crash exits non-zero.
`;

/**
 * The configuration of this start. A remote layer that already failed to reach READY, or that the schema no longer
 * accepts (a new release), is replaced by the last good one first (remote-layer.ts), so a bad remote configuration
 * can never keep the agent from starting; the remote-config component reports it once connected.
 */
function loadWithRemoteLayer(layers: LoadConfigOptions): { loaded: LoadedConfig; boot: BootOutcome } {
  const { stateDir } = loadConfigLayers({ ...layers, remoteLayer: null }).config;
  const boot = beginRemoteBoot(stateDir);
  try {
    return { loaded: loadConfigLayers(layers), boot };
  } catch (e: unknown) {
    if (!(e instanceof ConfigError) || !boot.layer) throw e;
    const rolled = rollBackInvalidLayer(stateDir);
    return { loaded: loadConfigLayers(layers), boot: rolled };
  }
}

/** After the stop, anything still holding the event loop open is a leak: exit anyway, after saying so. */
const EXIT_GRACE_MS = 3000;

export async function run(ctx: CommandContext): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: ctx.argv, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e: unknown) {
    throw new UsageError(errorMessage(e));
  }
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.ok;
  }
  // Every file the agent writes (state database, its WAL, the seq and nonce files, keys) is private to the service
  // user; the modules that create files also pass explicit modes, this covers what they cannot (SQLite's own files).
  process.umask(0o077);
  const layers = { file: values.config, env: ctx.env };
  const { loaded, boot } = loadWithRemoteLayer(layers);
  const config = loaded.config;
  const logger = createLogger({ level: config.log.level });
  const notifier = createNotifier(ctx.env, (message) => logger.warn(message));
  let requestRestart!: (reason: string) => void;
  const restartRequested = new Promise<string>((resolve) => { requestRestart = resolve; });
  const composed = await composeAgent(config, { logger, notifier, env: ctx.env,
    remote: { layers, loaded, boot, restart: requestRestart } });
  logger.info({ deviceId: config.deviceId, version: composed.version, models: composed.modelsHash,
    camera: composed.camera.kind, panel: config.panel.backend, broker: config.mqtt.url }, 'agent starting');
  const code = await runUntilStopped(composed.agent, { proc: process, logger, onStopped: () => notifier.close(), restartRequested });
  setTimeout(() => {
    logger.warn({ exitCode: code }, 'handles still open after stop; exiting');
    process.exit(code);
  }, EXIT_GRACE_MS).unref();
  return code;
}
