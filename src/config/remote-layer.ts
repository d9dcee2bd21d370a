import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncPath, writeFileAtomic } from '../lib/atomic-write.ts';
import { ConfigError, REMOTE_LAYER_FILE, configLeaves, loadConfigLayers, valueAt, type LoadConfigOptions, type LoadedConfig } from './load.ts';

/**
 * The carrier's remote configuration layer (issue: remote configuration): a carrier-signed desired configuration
 * (version + partial config) is checked here, persisted atomically in the state directory as the `remote` layer of
 * load.ts, and either applied live or applied by a restart that must reach READY.
 *
 * Files in the state directory (0600, atomic replace):
 * - `config.remote.json`: the layer in force: `{ version, hash, config, confirmed, attempts }`.
 * - `config.remote.good.json`: the last layer that reached READY (absent: none ever did, fall back to no layer).
 *
 * A layer that needs a restart is written unconfirmed. Each start before READY counts an attempt; READY confirms it
 * and makes it the last good one. A start that finds an unconfirmed layer already tried MAX_BOOT_ATTEMPTS times, or a
 * layer the schema no longer accepts, puts the last good layer back and says so (`rolledBack`), so a bad
 * configuration cannot keep the terminal from serving.
 */
export const LAST_GOOD_FILE = 'config.remote.good.json';
/** The last layer that was rolled back: the carrier's retained message still offers it, and must not loop. */
export const LAST_FAILED_FILE = 'config.remote.failed.json';
export const MAX_BOOT_ATTEMPTS = 2;

/** Keys a running agent changes without a restart (the composition root wires each one). */
export const LIVE_KEYS = ['log.level', 'session.policy', 'session.maxFailures', 'session.failureWindowS', 'telemetry.intervalS',
  'carrier.keys', 'carrier.revokedKids'] as const;

/**
 * Keys the carrier may not set remotely: the device's identity and paths, and executables (a remote layer must never be
 * able to name a program the agent runs or a file it trusts).
 */
const REMOTE_FORBIDDEN = ['deviceId', 'stateDir', 'identity.', 'models.dir', 'camera.rpicamBin', 'camera.device', 'camera.recording',
  'panel.gpioRoot', 'panel.gpiodToolsDir', 'telemetry.sysRoot', 'mqtt.caFile', 'mqtt.certFile', 'mqtt.keyFile',
  'mqtt.deviceCaFile', 'carrier.keysDir', 'update.releaseKeysDir'];

export interface RemoteLayer {
  version: number;
  hash: string;
  config: Record<string, unknown>;
  confirmed: boolean;
  attempts: number;
}

export interface DesiredConfig {
  version: number;
  config: Record<string, unknown>;
}

/** Why a desired configuration was refused (published, signed, on `config/reported`). */
export type RemoteRefusal = 'stale_version' | 'version_reused' | 'invalid' | 'forbidden_key' | 'last_key' | 'rolled_back_before';

export type RemotePlan =
  | { kind: 'unchanged' }
  | { kind: 'refused'; reason: RemoteRefusal; problems: string[] }
  | { kind: 'apply'; version: number; hash: string; live: string[]; restart: string[]; next: LoadedConfig };

/** sha256 of the canonical JSON (keys sorted at every level) of a partial config. */
export function configHash(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function readRemoteLayer(stateDir: string, file = REMOTE_LAYER_FILE): RemoteLayer | undefined {
  const path = join(stateDir, file);
  if (!existsSync(path)) return undefined;
  try {
    const body = JSON.parse(readFileSync(path, 'utf8')) as Partial<RemoteLayer>;
    if (!Number.isInteger(body.version) || typeof body.config !== 'object' || body.config === null) return undefined;
    return { version: body.version!, hash: body.hash ?? configHash(body.config), config: body.config, confirmed: body.confirmed ?? true,
      attempts: body.attempts ?? 0 };
  } catch {
    return undefined;
  }
}

function writeLayer(stateDir: string, layer: RemoteLayer, file = REMOTE_LAYER_FILE): void {
  writeFileAtomic(join(stateDir, file), `${JSON.stringify(layer, null, 2)}\n`, 0o600);
}

/** Dotted leaf paths a partial config sets (a record such as session.policy counts as one leaf). */
function leavesSet(config: Record<string, unknown>): string[] {
  const leaves = new Set(configLeaves().map((l) => l.path.join('.')));
  const out: string[] = [];
  const walk = (node: unknown, path: string[]): void => {
    const dotted = path.join('.');
    if (path.length > 0 && (leaves.has(dotted) || typeof node !== 'object' || node === null || Array.isArray(node))) {
      out.push(dotted);
      return;
    }
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) walk(v, [...path, k]);
  };
  walk(config, []);
  return out;
}

const isUnder = (key: string, prefixes: readonly string[]): boolean =>
  prefixes.some((p) => (p.endsWith('.') ? key.startsWith(p) : key === p || key.startsWith(`${p}.`)));

/**
 * Decides what a desired configuration means for the running agent: unchanged (the same version and content, as a
 * retained message redelivered on reconnect), refused with a reason and every problem, or applied, split into keys
 * that change live and keys that need a restart. `layers` are the running agent's load options (file, env, ...).
 */
export function planRemoteChange(layers: LoadConfigOptions, current: LoadedConfig, applied: RemoteLayer | undefined,
  desired: DesiredConfig, failed?: Pick<RemoteLayer, 'version'>): RemotePlan {
  const hash = configHash(desired.config);
  if (applied && desired.version === applied.version) {
    return hash === applied.hash ? { kind: 'unchanged' }
      : { kind: 'refused', reason: 'version_reused', problems: [`version ${desired.version} is already applied with other content`] };
  }
  if (applied && desired.version < applied.version) {
    return { kind: 'refused', reason: 'stale_version', problems: [`version ${desired.version} is older than the applied ${applied.version}`] };
  }
  if (failed && desired.version <= failed.version) {
    return { kind: 'refused', reason: 'rolled_back_before',
      problems: [`version ${failed.version} did not reach READY and was rolled back: publish a newer version`] };
  }
  const forbidden = leavesSet(desired.config).filter((k) => isUnder(k, REMOTE_FORBIDDEN)).sort();
  if (forbidden.length > 0) return { kind: 'refused', reason: 'forbidden_key', problems: forbidden.map((k) => `${k}: not settable remotely`) };
  let next: LoadedConfig;
  try {
    next = loadConfigLayers({ ...layers, remoteLayer: { version: desired.version, config: desired.config } });
  } catch (e: unknown) {
    if (e instanceof ConfigError) return { kind: 'refused', reason: 'invalid', problems: e.problems };
    throw e;
  }
  const changed = configLeaves().map((l) => l.path.join('.'))
    .filter((key) => canonicalJson(valueAt(next.config, key)) !== canonicalJson(valueAt(current.config, key)));
  return {
    kind: 'apply', version: desired.version, hash, next,
    live: changed.filter((k) => isUnder(k, LIVE_KEYS)),
    restart: changed.filter((k) => !isUnder(k, LIVE_KEYS)),
  };
}

/**
 * Persists an applied desired configuration. A live change is confirmed at once (and becomes the last good layer);
 * a change that needs a restart is written unconfirmed, to be confirmed by the next start's READY.
 */
export function persistRemoteLayer(stateDir: string, desired: DesiredConfig, needsRestart: boolean): RemoteLayer {
  const layer: RemoteLayer = { version: desired.version, hash: configHash(desired.config), config: desired.config,
    confirmed: !needsRestart, attempts: 0 };
  writeLayer(stateDir, layer);
  if (layer.confirmed) writeLayer(stateDir, layer, LAST_GOOD_FILE);
  return layer;
}

export interface BootOutcome {
  /** the layer in force for this start, if any */
  layer?: RemoteLayer;
  /** a layer that did not reach READY (or no longer validates) and was replaced by the last good one */
  rolledBack?: { version: number; hash: string; reason: 'did_not_reach_ready' | 'invalid' };
}

/**
 * Called once per start before the configuration is loaded: counts a start attempt of an unconfirmed layer, and
 * puts the last good layer back when the unconfirmed one already had its attempts.
 */
export function beginRemoteBoot(stateDir: string): BootOutcome {
  const layer = readRemoteLayer(stateDir);
  if (!layer || layer.confirmed) return { layer };
  if (layer.attempts >= MAX_BOOT_ATTEMPTS) {
    writeLayer(stateDir, layer, LAST_FAILED_FILE);
    return { layer: restoreLastGood(stateDir), rolledBack: { version: layer.version, hash: layer.hash, reason: 'did_not_reach_ready' } };
  }
  const counted = { ...layer, attempts: layer.attempts + 1 };
  writeLayer(stateDir, counted);
  return { layer: counted };
}

/** The configuration with the remote layer in force does not load (e.g. a new release's schema refuses it). */
export function rollBackInvalidLayer(stateDir: string): BootOutcome {
  const layer = readRemoteLayer(stateDir);
  if (layer) writeLayer(stateDir, layer, LAST_FAILED_FILE);
  const restored = restoreLastGood(stateDir);
  return { layer: restored, rolledBack: layer ? { version: layer.version, hash: layer.hash, reason: 'invalid' } : undefined };
}

/** READY was reached: the layer in force is confirmed and becomes the last good one. */
export function confirmRemoteBoot(stateDir: string): void {
  const layer = readRemoteLayer(stateDir);
  if (!layer || layer.confirmed) return;
  const confirmed = { ...layer, confirmed: true, attempts: 0 };
  writeLayer(stateDir, confirmed);
  writeLayer(stateDir, confirmed, LAST_GOOD_FILE);
}

function restoreLastGood(stateDir: string): RemoteLayer | undefined {
  const good = readRemoteLayer(stateDir, LAST_GOOD_FILE);
  if (good) {
    writeLayer(stateDir, good);
    return good;
  }
  rmSync(join(stateDir, REMOTE_LAYER_FILE), { force: true });
  fsyncPath(stateDir);
  return undefined;
}
