import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { EXIT, RegtermError } from '../lib/errors.ts';
import { type Config, DEFAULT_STATE_DIR, configSchema } from './schema.ts';

export const ENV_PREFIX = 'REGTERM_';

export class ConfigError extends RegtermError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`, EXIT.config);
    this.problems = problems;
  }
}

/** `mqtt.reconnectMaxMs` → `REGTERM_MQTT_RECONNECT_MAX_MS` */
export function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

interface Leaf {
  path: string[];
  schema: z.ZodType;
}

/** Unwrap default/prefault/optional wrappers to the schema that says what the value is. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: z.ZodType };
    if ((def.type === 'default' || def.type === 'prefault' || def.type === 'optional') && def.innerType) s = def.innerType;
    else return s;
  }
}

/** Every settable key of the schema: nested objects are walked, anything else is a leaf. */
export function configLeaves(schema: z.ZodType = configSchema, path: string[] = []): Leaf[] {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape).flatMap(([key, child]) => configLeaves(child as z.ZodType, [...path, key]));
  }
  return [{ path, schema }];
}

/** Env strings become the leaf's type: numbers and booleans are parsed, records and arrays are JSON, the rest stays. */
function parseEnvValue(leaf: Leaf, raw: string): unknown {
  const type = (unwrap(leaf.schema)._zod.def as { type: string }).type;
  if (type === 'number') return raw.trim() === '' ? raw : Number(raw);
  if (type === 'boolean') return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
  if (type === 'union') return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  if (type === 'record' || type === 'array' || type === 'object') {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = (typeof next === 'object' && next !== null ? next : (node[key] = {})) as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export interface LoadConfigOptions {
  /** config.json, written by provisioning; absent means defaults + env */
  file?: string;
  /** site settings, `*.json` applied in name order; default: `conf.d` beside `file` */
  confDir?: string;
  /** the carrier's remote layer; default: REMOTE_LAYER_FILE in the state directory the lower layers name */
  remoteFile?: string;
  /** the remote layer as given instead of its file (a candidate being checked); null: no remote layer */
  remoteLayer?: { version: number; config: Record<string, unknown> } | null;
  env?: NodeJS.ProcessEnv;
  /** values from command-line flags, by dotted path (`{ 'camera.backend': 'rpicam' }`): highest precedence */
  overrides?: Record<string, unknown>;
}

/** The remote layer in the state directory: `{ "version": N, "config": { ...partial config } }`. */
export const REMOTE_LAYER_FILE = 'config.remote.json';
export const CONF_DIR = 'conf.d';

export interface LoadedConfig {
  config: Readonly<Config>;
  /** for every key (dotted path): the layer its value came from (`default`, a file, `remote vN`, `env NAME`, `flag`) */
  sources: Record<string, string>;
}

interface Layer {
  name: string;
  values: Record<string, unknown>;
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a JSON object file; a problem is reported (named after the file) instead of thrown. */
function readLayerFile(file: string, problems: string[]): Plain | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (isPlain(parsed)) return parsed;
    problems.push(`${file}: must hold a JSON object`);
  } catch (e: unknown) {
    problems.push(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return undefined;
}

function confDirFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f));
}

function remoteLayer(file: string, problems: string[]): Layer | undefined {
  if (!existsSync(file)) return undefined;
  const body = readLayerFile(file, problems);
  if (!body) return undefined;
  if (!Number.isInteger(body.version) || !isPlain(body.config)) {
    problems.push(`${file}: must hold { "version": integer, "config": object }`);
    return undefined;
  }
  return { name: `remote v${String(body.version)}`, values: body.config };
}

/** Deep-merges `source` into `target` (plain objects merge, anything else replaces), recording each leaf's layer. */
function mergeLayer(target: Plain, layer: Layer, leafPaths: ReadonlySet<string>, sources: Record<string, string>,
  problems: string[]): void {
  const walk = (into: Plain, from: Plain, path: string[]): void => {
    for (const [key, value] of Object.entries(from)) {
      const at = [...path, key];
      // Assigning `__proto__` would change the object's prototype instead of adding a key.
      if (key === '__proto__') {
        problems.push(`${[...path, key].join('.')} (${layer.name}): not a configuration key`);
        continue;
      }
      const dotted = at.join('.');
      if (leafPaths.has(dotted)) {
        // A record value (e.g. panel.leds) merges key by key with the layers below: name them all.
        const merging = isPlain(value) && isPlain(into[key]) && sources[dotted] !== layer.name;
        sources[dotted] = merging ? `${sources[dotted]} + ${layer.name}` : layer.name;
      }
      if (!isPlain(value)) into[key] = value;
      else {
        if (!isPlain(into[key])) into[key] = {};
        walk(into[key] as Plain, value, at);
      }
    }
  };
  walk(target, layer.values, []);
}

/** Layers that set `path` or something below it, for naming where a bad value came from. */
function layersSetting(layers: readonly Layer[], path: readonly PropertyKey[]): string[] {
  return layers.filter((layer) => {
    let node: unknown = layer.values;
    for (const key of path) {
      if (!isPlain(node) || !(String(key) in node)) return false;
      node = node[String(key)];
    }
    return true;
  }).map((l) => l.name);
}

/**
 * Load order, lowest first: schema defaults < config.json (provisioning) < conf.d/*.json in name order (site
 * settings) < the carrier's remote layer (state directory) < REGTERM_* environment < flags. Plain objects merge key by
 * key across layers; any other value replaces. Validates the whole result and throws one ConfigError listing every
 * problem (each naming the layers that set the key), before any hardware is opened. The config is deep-frozen.
 */
export function loadConfigLayers(options: LoadConfigOptions = {}): LoadedConfig {
  const problems: string[] = [];
  const layers: Layer[] = [];
  if (options.file) {
    const values = readLayerFile(options.file, problems);
    if (values) layers.push({ name: options.file, values });
  }
  const confDir = options.confDir ?? (options.file ? join(dirname(options.file), CONF_DIR) : undefined);
  for (const file of confDir ? confDirFiles(confDir) : []) {
    const values = readLayerFile(file, problems);
    if (values) layers.push({ name: file, values });
  }
  const env = options.env ?? {};
  const envLayer: Layer = { name: 'env', values: {} };
  const envNames: Record<string, string> = {};
  for (const leaf of configLeaves()) {
    const value = env[envName(leaf.path)];
    if (value === undefined) continue;
    setPath(envLayer.values, leaf.path, parseEnvValue(leaf, value));
    envNames[leaf.path.join('.')] = `env ${envName(leaf.path)}`;
  }
  const flagLayer: Layer = { name: 'flag', values: {} };
  for (const [dotted, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(flagLayer.values, dotted.split('.'), value);
  }
  // The remote layer lives in the state directory, which only the layers below and above it can move.
  const stateDir = [flagLayer, envLayer, ...[...layers].reverse()]
    .map((l) => l.values.stateDir).find((v): v is string => typeof v === 'string') ?? DEFAULT_STATE_DIR;
  const remote = options.remoteLayer !== undefined
    ? options.remoteLayer && { name: `remote v${options.remoteLayer.version}`, values: options.remoteLayer.config }
    : remoteLayer(options.remoteFile ?? join(stateDir, REMOTE_LAYER_FILE), problems);
  if (remote) layers.push(remote);
  layers.push(envLayer, flagLayer);

  const leafPaths = new Set(configLeaves().map((l) => l.path.join('.')));
  const sources: Record<string, string> = Object.fromEntries([...leafPaths].map((p) => [p, 'default']));
  const raw: Plain = {};
  for (const layer of layers) mergeLayer(raw, layer, leafPaths, sources, problems);
  for (const [path, name] of Object.entries(envNames)) sources[path] = name;

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const where = issue.path.length ? issue.path.join('.') : '(root)';
      const from = layersSetting(layers, issue.path).map((n) => (n === 'env' ? `env ${envName(issue.path.map(String))}` : n));
      problems.push(`${where}${from.length ? ` (${from.join(', ')})` : ''}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return { config: deepFreeze(result.data), sources };
}

/** The value at a dotted key path (`camera.fps`) of a configuration, or undefined. */
export function valueAt(config: object, dotted: string): unknown {
  let node: unknown = config;
  for (const key of dotted.split('.')) node = (node as Record<string, unknown> | undefined)?.[key];
  return node;
}

/** The effective configuration (see loadConfigLayers for the layers). */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  return loadConfigLayers(options).config;
}

/** Markdown table of every key: path, env name, default and doc. Used for docs/configuration.md (scripts/config-reference.ts). */
export function configReference(): string {
  const rows = configLeaves().map((leaf) => {
    const def = leaf.schema._zod.def as { type: string; defaultValue?: unknown };
    const dflt = def.type === 'default' ? JSON.stringify(def.defaultValue) : '';
    return `| \`${leaf.path.join('.')}\` | \`${envName(leaf.path)}\` | ${dflt ? `\`${dflt}\`` : '—'} | ${leaf.schema.description ?? ''} |`;
  });
  return ['| key | env | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
