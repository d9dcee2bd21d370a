/**
 * Face engines over chosen model files, for the build and the accuracy gates: the SOURCE models (what the manifest's
 * `sha256`/`source` name) or the deployed ones, and a tap that records every input tensor the engine feeds a model
 * (the calibration inputs are made by the engine's own TypeScript preprocessing, not a re-implementation).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FaceEngine } from '../../src/vision/engine.ts';
import { DEFAULT_MANIFEST_PATH, type Manifest, loadManifest } from '../../src/vision/manifest.ts';
import { ModelRegistry } from '../../src/vision/model-registry.ts';

/**
 * A manifest equal to `manifestPath`'s but with every model pointing at its source file by absolute path and no
 * `deployed` builds; `override` replaces chosen models' files (absolute path + sha256).
 */
export async function manifestWith(
  override: Record<string, { path: string; sha256: string; bytes: number }> = {},
  manifestPath = DEFAULT_MANIFEST_PATH,
): Promise<Manifest> {
  const { manifest } = await loadManifest(manifestPath);
  const registry = new ModelRegistry({ manifest, manifestDir: dirname(manifestPath) });
  const models: Manifest['models'] = {};
  for (const [name, entry] of Object.entries(manifest.models)) {
    const o = override[name];
    const { deployed: _, ...rest } = entry;
    models[name] = o
      ? { ...rest, source: { file: o.path, licence: 'build candidate' }, sha256: o.sha256, bytes: o.bytes }
      : { ...rest, source: { file: registry.sourcePathOf(name), licence: 'source' } };
  }
  return { ...manifest, models };
}

/** A started engine on `manifest` (written to a temp dir); `close()` stops it and removes the dir. */
export async function engineOn(manifest: Manifest): Promise<{ engine: FaceEngine; close: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'regterm-models-'));
  const path = join(dir, 'manifest.json');
  await writeFile(path, JSON.stringify(manifest));
  const engine = new FaceEngine({ manifestPath: path });
  try {
    await engine.start();
  } catch (e: unknown) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    engine,
    close: async () => {
      await engine.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Record a copy of every input the engine feeds the named models from now on. The engine's sessions are wrapped
 * in place (build tooling only: the engine has no hook, and its public API stays as it is).
 */
export async function tapInputs(engine: FaceEngine, names: string[]): Promise<Map<string, Float32Array[]>> {
  const taps = new Map<string, Float32Array[]>();
  for (const name of names) {
    const model = await engine.registry.load(name);
    const seen: Float32Array[] = [];
    taps.set(name, seen);
    const session = model.session;
    const run = session.run.bind(session);
    const inputName = model.entry.input.name;
    session.run = ((feeds: Record<string, { data: unknown }>, ...rest: unknown[]) => {
      seen.push(Float32Array.from(feeds[inputName].data as Float32Array));
      return (run as (...a: unknown[]) => ReturnType<typeof run>)(feeds, ...rest);
    }) as typeof session.run;
  }
  return taps;
}
