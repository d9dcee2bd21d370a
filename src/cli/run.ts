import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { composeAgent } from '../compose/compose.ts';
import { runUntilStopped } from '../compose/lifecycle.ts';
import { createRunner } from '../compose/runner-factory.ts';
import { createLogger } from '../device/logger.ts';
import { createNotifier } from '../device/sd-notify.ts';
import { EXIT, UsageError, errorMessage } from '../errors.ts';
import type { CommandContext } from './command.ts';

const HELP = `usage: regterm run [--config FILE]

The agent: connects to the carrier's broker, runs registration sessions on request, feeds the systemd watchdog while
healthy. Config: defaults < FILE (JSON) < REGTERM_* environment (e.g. REGTERM_MQTT_URL). Logs are JSON on stdout.
Stops cleanly on SIGTERM/SIGINT (exit 0); a crash exits non-zero.
`;

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
  const config = loadConfig({ file: values.config, env: ctx.env });
  const logger = createLogger({ level: config.log.level });
  const notifier = createNotifier(ctx.env, (message) => logger.warn(message));
  const composed = await composeAgent(config, { logger, notifier, env: ctx.env, createRunner });
  logger.info({ deviceId: config.deviceId, version: composed.version, models: composed.modelsHash,
    camera: composed.camera.kind, panel: config.panel.backend, broker: config.mqtt.url }, 'agent starting');
  const code = await runUntilStopped(composed.agent, { proc: process, logger, onStopped: () => notifier.close() });
  setTimeout(() => {
    logger.warn({ exitCode: code }, 'handles still open after stop; exiting');
    process.exit(code);
  }, EXIT_GRACE_MS).unref();
  return code;
}
