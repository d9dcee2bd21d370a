import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { DEFAULT_MANIFEST_PATH, loadManifest } from '../../../src/vision/manifest.ts';
import { ModelRegistry } from '../../../src/vision/model-registry.ts';

/** The registry of the committed models/manifest.json; `modelsDir` is the models-dir override. */
export async function manifestRegistry(modelsDir?: string): Promise<ModelRegistry> {
  const { manifest } = await loadManifest();
  return new ModelRegistry({ manifest, manifestDir: dirname(DEFAULT_MANIFEST_PATH), modelsDir });
}

/** A temporary directory for the enclosing suite, made before its tests and removed after them. */
export function suiteTempDir(prefix: string): { readonly path: string } {
  let path = '';
  beforeAll(async () => {
    path = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(path, { recursive: true, force: true });
  });
  return { get path() { return path; } };
}
