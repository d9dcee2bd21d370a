import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { probeCamera } from '../camera/camera-probe.ts';
import { CAMERA_FLAGS, cameraSpecFromFlags, createFrameSource } from '../camera/create-frame-source.ts';
import { APP_ROOT } from '../app-root.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { PATHS } from '../device/provision/layout.ts';
import { checkNativeModules, checkService } from '../device/provision/service-check.ts';
import { EXIT, UsageError, errorMessage } from '../lib/errors.ts';
import { createPanel, parsePins, splitPins } from '../panel/create-panel.ts';
import { checkPanel } from '../panel/panel-check.ts';
import { DEFAULT_BUTTON_PINS, DEFAULT_LED_PINS } from '../panel/panel.ts';
import { writeJson, type CommandContext } from './command.ts';

const USAGE = `usage: regterm doctor [--camera rpicam|ffmpeg|none] [--device DEV] [--width W --height H --fps F]
                      [--rpicam-bin PATH] [--stride-align N] [--seconds N]
                      [--panel gpiod|onoff|sim|none] [--pins JSON] [--gpio-root DIR] [--gpiod-dir DIR] [--gpiochip NAME]
                      [--manifest FILE | --skip-models] [--data-dir DIR] [--root DIR] [--broker URL] [--json]
Self-test: camera (frames arrive, measured fps, resolution), each LED and button mapping, models present and
verified, clock sanity, free disk, and the installed service (unit enabled, service user, permissions, keys readable
only by the service, config, device certificate, broker reachable with it). --root checks a provisioned image (its
installed models too); without it the service is checked when /etc/systemd/system/regterm.service exists.
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

export async function checkCamera(values: Partial<Record<keyof typeof CAMERA_FLAGS, string>>, seconds: number, logger: Logger): Promise<Check[]> {
  if (values.camera === 'none') return [{ check: 'camera', status: 'skip', detail: '--camera none' }];
  const spec = cameraSpecFromFlags(values);
  const p = await probeCamera(createFrameSource(spec, logger), seconds);
  const name = `${spec.backend}${spec.device ? ` ${spec.device}` : ''}`;
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
export async function checkModels(manifestPath?: string): Promise<Check[]> {
  try {
    const { loadManifest, DEFAULT_MANIFEST_PATH } = await import('../vision/manifest.ts');
    const { ModelRegistry } = await import('../vision/model-registry.ts');
    const path = manifestPath ?? DEFAULT_MANIFEST_PATH;
    const { manifest } = await loadManifest(path);
    const registry = new ModelRegistry({ manifest, manifestDir: dirname(path) });
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

export async function checkDisk(dir: string): Promise<Check[]> {
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
  const panelKind = values.panel ?? 'gpiod';
  if (panelKind !== 'gpiod' && panelKind !== 'onoff' && panelKind !== 'sim' && panelKind !== 'none') {
    throw new UsageError(`--panel must be gpiod, onoff, sim or none (got '${panelKind}')`);
  }
  if (values.camera !== 'none') cameraSpecFromFlags(values); // flag errors before any check runs
  const pins = values.pins ? parsePins(values.pins) : { ...DEFAULT_LED_PINS, ...DEFAULT_BUTTON_PINS };
  const logger = createLogger({ level: ctx.env.LOG_LEVEL ?? 'silent' });

  const rows: Check[] = [];
  rows.push(...(await checkCamera(values, seconds, logger)));
  if (panelKind === 'none') rows.push({ check: 'panel', status: 'skip', detail: '--panel none' });
  else {
    const spec = { backend: panelKind, ...splitPins(pins), gpioRoot: values['gpio-root'], gpiodToolsDir: values['gpiod-dir'], gpiochip: values.gpiochip } as const;
    rows.push(...(await checkPanel(spec, pins, () => createPanel(spec, logger), logger)));
  }
  const root = values.root === undefined ? undefined : resolve(values.root);
  const manifest = values.manifest ?? (root === undefined ? undefined : join(root, PATHS.current, 'models', 'manifest.json'));
  rows.push(...(values['skip-models'] ? [{ check: 'models', status: 'skip', detail: '--skip-models' } as const] : await checkModels(manifest)));
  rows.push(...(await checkClock()));
  rows.push(...(await checkDisk(values['data-dir'] ?? process.cwd())));
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
