import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { probeCamera } from '../camera/camera-probe.ts';
import { CAMERA_FLAGS, type CameraSpec, cameraSpecFromFlags, createFrameSource } from '../camera/create-frame-source.ts';
import { APP_ROOT } from '../app-root.ts';
import { ConfigError, type LoadedConfig, loadConfigLayers } from '../config/load.ts';
import { type Config, configSchema } from '../config/schema.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { installedConfig } from '../device/provision/installed-config.ts';
import { PATHS } from '../device/provision/layout.ts';
import { checkNativeModules, checkService } from '../device/provision/service-check.ts';
import { EXIT, UsageError, errorMessage } from '../lib/errors.ts';
import { type PanelSpec, createPanel, parsePins, splitPins } from '../panel/create-panel.ts';
import { checkPanel } from '../panel/panel-check.ts';
import { writeJson, type CommandContext } from './command.ts';

const USAGE = `usage: regterm doctor [--config FILE | --root DIR] [--camera rpicam|ffmpeg|none] [--device DEV]
                      [--width W --height H --fps F] [--rpicam-bin PATH] [--stride-align N] [--seconds N]
                      [--panel gpiod|onoff|sim|none] [--pins JSON] [--gpio-root DIR] [--gpiod-dir DIR] [--gpiochip NAME]
                      [--manifest FILE | --skip-models] [--data-dir DIR] [--broker URL] [--json]
Self-test: camera (frames arrive, measured fps, resolution), each LED and button mapping, models present and
verified, clock sanity, free disk, and the installed service (unit enabled, service user, permissions, keys readable
only by the service, config, device certificate, broker reachable with it).
What is checked is what the agent would use: the installed configuration, layered as \`regterm config\` shows it
(${PATHS.config} when it exists, or --config FILE; conf.d, the remote layer and REGTERM_* environment on top):
its camera, panel, models directory and state directory. Flags override it: any camera flag replaces the
configured camera, --panel/--pins/--gpio-root/--gpiod-dir/--gpiochip the panel's settings, --data-dir the state
directory whose disk is checked. --root checks a provisioned image: its configuration (with its unit's environment)
and its installed models; without it the service is checked when ${PATHS.unit} exists.
Prints a pass/fail table; exits 1 when any check fails.
`;

export interface Check {
  check: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  detail: string;
}

/** Earliest plausible wall clock: a Pi without RTC boots at 1970 or at the fake-hwclock save time. */
const CLOCK_FLOOR = Date.UTC(2025, 0, 1);
const DISK_FAIL_BYTES = 200 * 2 ** 20;
const DISK_WARN_BYTES = 2 ** 30;
const run$ = promisify(execFile);

export async function checkCamera(spec: CameraSpec, seconds: number, logger: Logger): Promise<Check[]> {
  const name = `${spec.backend}${spec.backend === 'replay' ? ` ${spec.recording ?? ''}` : spec.device ? ` ${spec.device}` : ''}`;
  let source;
  try {
    source = createFrameSource(spec, logger);
  } catch (e: unknown) {
    return [{ check: 'camera', status: 'fail', detail: `${name}: ${errorMessage(e)}` }];
  }
  const p = await probeCamera(source, seconds);
  if (!p.ok) return [{ check: 'camera', status: 'fail', detail: `${name}: ${p.error ?? 'no frames'}` }];
  const rows: Check[] = [{
    check: 'camera',
    status: 'pass',
    detail: `${name}: ${p.frames} frames in ${seconds} s, first after ${p.firstFrameMs} ms, ${p.drops} dropped`,
  }];
  const sizeOk = p.width === spec.width && p.height === spec.height;
  rows.push({ check: 'camera resolution', status: sizeOk ? 'pass' : 'fail', detail: `${p.width}x${p.height} (asked ${spec.width}x${spec.height})` });
  const fpsOk = p.fps >= spec.fps * 0.8;
  rows.push({ check: 'camera fps', status: fpsOk ? 'pass' : 'warn', detail: `${p.fps.toFixed(1)} measured (asked ${spec.fps})` });
  return rows;
}

/**
 * Model check seam: vision's ModelRegistry verifies sha256 against models/manifest.json and creates the session
 * (ModelIntegrityError on mismatch); doctor loads every model that way and closes it again.
 */
export async function checkModels(manifestPath?: string, modelsDir?: string): Promise<Check[]> {
  try {
    const { loadManifest, DEFAULT_MANIFEST_PATH } = await import('../vision/manifest.ts');
    const { ModelRegistry } = await import('../vision/model-registry.ts');
    const path = manifestPath ?? DEFAULT_MANIFEST_PATH;
    const { manifest } = await loadManifest(path);
    const registry = new ModelRegistry({ manifest, manifestDir: dirname(path), modelsDir });
    const rows: Check[] = [];
    try {
      for (const name of Object.keys(manifest.models)) {
        try {
          await registry.load(name);
          rows.push({ check: `model ${name}`, status: 'pass', detail: `sha256 verified, session created (${manifest.models[name].bytes} bytes)` });
        } catch (e: unknown) {
          rows.push({ check: `model ${name}`, status: 'fail', detail: errorMessage(e) });
        }
      }
    } finally {
      await registry.close();
    }
    return rows;
  } catch (e: unknown) {
    return [{ check: 'models', status: 'fail', detail: errorMessage(e) }];
  }
}

export async function checkClock(now = Date.now()): Promise<Check[]> {
  const iso = new Date(now).toISOString();
  if (now < CLOCK_FLOOR) return [{ check: 'clock', status: 'fail', detail: `${iso} is before 2025: no RTC/NTP time yet; session expiry checks would be wrong` }];
  try {
    const { stdout } = await run$('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 2000 });
    const synced = stdout.trim() === 'yes';
    return [{ check: 'clock', status: synced ? 'pass' : 'warn', detail: `${iso}, ${synced ? 'NTP synchronized' : 'not NTP synchronized'}` }];
  } catch {
    return [{ check: 'clock', status: 'pass', detail: `${iso} (plausible; NTP state unknown: timedatectl unavailable)` }];
  }
}

/** The configuration the agent would run with; its problems are a failed check, and the checks go on with defaults. */
export function checkConfig(load: () => LoadedConfig): { rows: Check[]; config: Config } {
  try {
    const { config, sources } = load();
    const layers = [...new Set(Object.values(sources))].filter((l) => l !== 'default');
    return { rows: [{ check: 'config', status: 'pass', detail: layers.length ? `defaults < ${layers.join(' < ')}` : 'defaults only (no config file)' }], config };
  } catch (e: unknown) {
    if (!(e instanceof ConfigError)) throw e;
    return { rows: [{ check: 'config', status: 'fail', detail: `${e.problems.join('; ')} (the checks below use the defaults)` }], config: configSchema.parse({}) };
  }
}

/** Free space where `dir` is, or would be created (a state directory made at the service's first start). */
export async function checkDisk(dir: string): Promise<Check[]> {
  let at = resolve(dir);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  if (at !== resolve(dir)) {
    const [row] = await checkDisk(at);
    return [{ ...row, detail: `${row.detail} (${dir} does not exist yet)` }];
  }
  try {
    const s = await statfs(dir);
    const free = s.bavail * s.bsize;
    const status = free < DISK_FAIL_BYTES ? 'fail' : free < DISK_WARN_BYTES ? 'warn' : 'pass';
    return [{ check: 'disk', status, detail: `${(free / 2 ** 30).toFixed(2)} GiB free in ${dir}` }];
  } catch (e: unknown) {
    return [{ check: 'disk', status: 'fail', detail: `${dir}: ${errorMessage(e)}` }];
  }
}

export function formatTable(rows: readonly Check[]): string {
  const w = Math.max(5, ...rows.map((r) => r.check.length));
  const lines = rows.map((r) => `${r.check.padEnd(w)}  ${r.status.toUpperCase().padEnd(4)}  ${r.detail}`);
  const failed = rows.filter((r) => r.status === 'fail').length;
  const warned = rows.filter((r) => r.status === 'warn').length;
  const verdict = failed ? `FAIL (${failed} failed, ${warned} warnings)` : `PASS (${warned} warnings)`;
  return `${'CHECK'.padEnd(w)}  STAT  DETAIL\n${lines.join('\n')}\n\ndoctor: ${verdict}\n`;
}

export async function run(ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args: ctx.argv,
    options: {
      config: { type: 'string' },
      ...CAMERA_FLAGS,
      seconds: { type: 'string' },
      panel: { type: 'string' },
      pins: { type: 'string' },
      'gpio-root': { type: 'string' },
      'gpiod-dir': { type: 'string' },
      gpiochip: { type: 'string' },
      manifest: { type: 'string' },
      'skip-models': { type: 'boolean' },
      'data-dir': { type: 'string' },
      root: { type: 'string' },
      broker: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    ctx.stdout.write(USAGE);
    return EXIT.ok;
  }
  const seconds = values.seconds === undefined ? 3 : Number(values.seconds);
  if (!(seconds > 0 && seconds <= 60)) throw new UsageError(`--seconds must be in (0, 60] (got '${values.seconds}')`);
  if (values.config !== undefined && values.root !== undefined) throw new UsageError('--config and --root exclude each other');
  const panelFlag = values.panel;
  if (panelFlag !== undefined && panelFlag !== 'gpiod' && panelFlag !== 'onoff' && panelFlag !== 'sim' && panelFlag !== 'none') {
    throw new UsageError(`--panel must be gpiod, onoff, sim or none (got '${panelFlag}')`);
  }
  const cameraFlags = (Object.keys(CAMERA_FLAGS) as (keyof typeof CAMERA_FLAGS)[]).some((k) => values[k] !== undefined);
  const flaggedCamera = cameraFlags && values.camera !== 'none' ? cameraSpecFromFlags(values) : undefined; // flag errors first
  const pinsFlag = values.pins ? parsePins(values.pins) : undefined;
  const logger = createLogger({ level: ctx.env.LOG_LEVEL ?? 'silent' });
  const root = values.root === undefined ? undefined : resolve(values.root);

  const rows: Check[] = [];
  const installed = checkConfig(() => root !== undefined
    ? installedConfig(root)
    : loadConfigLayers({ file: values.config ?? (existsSync(PATHS.config) ? PATHS.config : undefined), env: ctx.env }));
  const config = installed.config;
  rows.push(...installed.rows);
  if (values.camera === 'none') rows.push({ check: 'camera', status: 'skip', detail: '--camera none' });
  else rows.push(...(await checkCamera(flaggedCamera ?? config.camera, seconds, logger)));
  const panelKind = panelFlag ?? config.panel.backend;
  if (panelKind === 'none') rows.push({ check: 'panel', status: 'skip', detail: '--panel none' });
  else {
    const split = pinsFlag ? splitPins(pinsFlag) : { leds: config.panel.leds, buttons: config.panel.buttons };
    const spec: PanelSpec = {
      ...config.panel, backend: panelKind, ...split,
      gpioRoot: values['gpio-root'] ?? config.panel.gpioRoot,
      gpiodToolsDir: values['gpiod-dir'] ?? config.panel.gpiodToolsDir,
      gpiochip: values.gpiochip ?? config.panel.gpiochip,
    };
    rows.push(...(await checkPanel(spec, { ...split.leds, ...split.buttons }, () => createPanel(spec, logger), logger)));
  }
  const manifest = values.manifest ?? (root === undefined ? undefined : join(root, PATHS.current, 'models', 'manifest.json'));
  const modelsDir = values.manifest === undefined && root === undefined ? config.models.dir : undefined;
  rows.push(...(values['skip-models'] ? [{ check: 'models', status: 'skip', detail: '--skip-models' } as const] : await checkModels(manifest, modelsDir)));
  rows.push(...(await checkClock()));
  rows.push(...(await checkDisk(values['data-dir'] ?? (root === undefined ? config.stateDir : join(root, config.stateDir)))));
  if (root !== undefined || existsSync(PATHS.unit)) rows.push(...(await checkService({ root: root ?? '/', broker: values.broker })));
  else {
    rows.push({ check: 'service', status: 'skip', detail: `not installed here (${PATHS.unit}); --root DIR checks an image` });
    rows.push(checkNativeModules(APP_ROOT, APP_ROOT, true)); // the release this doctor runs from: its CPU and Node ABI
  }

  const ok = !rows.some((r) => r.status === 'fail');
  if (values.json) writeJson(ctx.stdout, { ok, checks: rows });
  else ctx.stdout.write(formatTable(rows));
  return ok ? EXIT.ok : EXIT.failure;
}
