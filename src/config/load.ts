import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { EXIT, RegtermError } from '../errors.ts';
import { type Config, configSchema } from './schema.ts';

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
  /** JSON config file; absent means defaults + env */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** values from command-line flags, by dotted path (`{ 'camera.backend': 'rpicam' }`): highest precedence */
  overrides?: Record<string, unknown>;
}

/**
 * Load order: schema defaults < file < REGTERM_* environment < flags. Validates the whole result and throws one
 * ConfigError listing every problem, before any hardware is opened. Returns a deep-frozen object.
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const problems: string[] = [];
  let raw: Record<string, unknown> = {};
  if (options.file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(options.file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) problems.push(`${options.file}: must hold a JSON object`);
      else raw = parsed as Record<string, unknown>;
    } catch (e: unknown) {
      problems.push(`${options.file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const env = options.env ?? {};
  for (const leaf of configLeaves()) {
    const value = env[envName(leaf.path)];
    if (value !== undefined) setPath(raw, leaf.path, parseEnvValue(leaf, value));
  }
  for (const [dotted, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(raw, dotted.split('.'), value);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const where = issue.path.length ? issue.path.join('.') : '(root)';
      const env = issue.path.length ? ` (env ${envName(issue.path.map(String))})` : '';
      problems.push(`${where}${env}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return deepFreeze(result.data);
}

/** Markdown table of every key: path, env name, default and doc. Used for the README's configuration section. */
export function configReference(): string {
  const rows = configLeaves().map((leaf) => {
    const def = leaf.schema._zod.def as { type: string; defaultValue?: unknown };
    const dflt = def.type === 'default' ? JSON.stringify(def.defaultValue) : '';
    return `| \`${leaf.path.join('.')}\` | \`${envName(leaf.path)}\` | ${dflt ? `\`${dflt}\`` : '—'} | ${leaf.schema.description ?? ''} |`;
  });
  return ['| key | env | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
