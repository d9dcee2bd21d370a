import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { REMOTE_LAYER_FILE, loadConfigLayers, valueAt } from '../config/load.ts';
import { installedConfig } from '../device/provision/installed-config.ts';
import { PATHS } from '../device/provision/layout.ts';
import { EXIT, UsageError, errorMessage } from '../lib/errors.ts';
import { writeJson, type CommandContext } from './command.ts';

export const USAGE = `usage: regterm config [--config FILE | --root DIR] [--json]

The effective configuration and the layer every value comes from. Layers, lowest first: defaults < config.json
(written by provisioning) < conf.d/*.json beside it, in name order (site settings) < the carrier's remote layer
(${REMOTE_LAYER_FILE} in the state directory) < REGTERM_* environment.
  --config FILE   the config.json to start from (default: ${PATHS.config} when it exists)
  --root DIR      a provisioned root (an image mounted at DIR): its config.json, conf.d, remote layer and the
                  REGTERM_* Environment= lines of its unit instead of this process's environment
  --json          { "config": {...}, "sources": { "<key>": "<layer>" } }
An invalid configuration prints every problem, naming the layers that set the key, and exits 5.
`;

export async function run(ctx: CommandContext): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: ctx.argv, strict: true, options: {
      config: { type: 'string' }, root: { type: 'string' }, json: { type: 'boolean', default: false },
    } }));
  } catch (e: unknown) {
    throw new UsageError(`${errorMessage(e)}\n${USAGE}`);
  }
  if (values.config && values.root) throw new UsageError(`--config and --root exclude each other\n${USAGE}`);
  const loaded = values.root
    ? installedConfig(values.root)
    : loadConfigLayers({ file: values.config ?? (existsSync(PATHS.config) ? PATHS.config : undefined), env: ctx.env });
  if (values.json) {
    writeJson(ctx.stdout, loaded);
    return EXIT.ok;
  }
  const rows = Object.entries(loaded.sources).map(([key, source]) => [key, JSON.stringify(valueAt(loaded.config, key)) ?? '—', source]);
  const width = (i: number): number => Math.max(...rows.map((r) => r[i].length));
  ctx.stdout.write(rows.map((r) => `${r[0].padEnd(width(0))}  ${r[1].padEnd(Math.min(width(1), 40))}  ${r[2]}\n`).join(''));
  return EXIT.ok;
}
