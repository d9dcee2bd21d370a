import { existsSync, readFileSync } from 'node:fs';
import { ENV_PREFIX, REMOTE_LAYER_FILE, loadConfigLayers, type LoadedConfig } from '../../config/load.ts';
import { PATHS, under } from './layout.ts';

/**
 * The configuration an installed terminal's service runs with, read from a root (an image mounted at `root`, or `/`):
 * its config.json, conf.d, remote layer and the REGTERM_* `Environment=` lines of its unit.
 */
export function installedConfig(root: string): LoadedConfig {
  return loadConfigLayers({
    file: under(root, PATHS.config),
    confDir: under(root, PATHS.confDir),
    remoteFile: under(root, `${PATHS.stateDir}/${REMOTE_LAYER_FILE}`),
    env: unitEnvironment(under(root, PATHS.unit)),
  });
}

/** The REGTERM_* variables a unit sets with `Environment=NAME=value` lines. */
export function unitEnvironment(unitFile: string): NodeJS.ProcessEnv {
  if (!existsSync(unitFile)) return {};
  const env: NodeJS.ProcessEnv = {};
  for (const line of readFileSync(unitFile, 'utf8').split('\n')) {
    const m = new RegExp(`^Environment=(${ENV_PREFIX}[A-Z0-9_]+)=(.*)$`).exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}
