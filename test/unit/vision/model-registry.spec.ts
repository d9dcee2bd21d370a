import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelIntegrityError } from '../../../src/lib/errors.ts';
import { DEFAULT_MANIFEST_PATH, loadManifest } from '../../../src/vision/manifest.ts';
import { manifestRegistry, suiteTempDir } from './manifest-registry.ts';

describe('ModelRegistry', () => {
  const tmp = suiteTempDir('regterm-models-');

  it('reads a package model from the manifest directory under its basename and loads it after the sha256 check', async () => {
    const reg = await manifestRegistry();
    expect(reg.sourcePathOf('eye')).toBe(join(dirname(DEFAULT_MANIFEST_PATH), 'fr_eye.onnx'));
    const m = await reg.load('eye');
    expect(m.session.inputNames).toEqual(['input']);
    await reg.close();
  });

  it('refuses a file with one altered byte (models-dir override) with ModelIntegrityError', async () => {
    const reg = await manifestRegistry(tmp.path);
    const good = (await manifestRegistry()).pathOf('eye');
    const copy = join(tmp.path, basename(good));
    await copyFile(good, copy);
    const bytes = await readFile(copy);
    bytes[bytes.length - 10] ^= 0xff;
    await writeFile(copy, bytes);
    const err = await reg.load('eye').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelIntegrityError);
    expect((err as Error).message).toMatch(/model eye: .*fr_eye\.[a-z0-9.]*onnx has sha256 [0-9a-f]{64}, manifest expects/);
  });

  it('an unaltered copy in the models dir loads', async () => {
    const reg = await manifestRegistry(tmp.path);
    const landmark = (await manifestRegistry()).pathOf('landmark');
    await copyFile(landmark, join(tmp.path, basename(landmark)));
    await expect(reg.load('landmark')).resolves.toMatchObject({ name: 'landmark' });
    await reg.close();
  });

  it('a missing model file and an unknown model name are ModelIntegrityErrors', async () => {
    const reg = await manifestRegistry(tmp.path);
    await expect(reg.load('pose')).rejects.toBeInstanceOf(ModelIntegrityError);
    await expect(reg.load('nope')).rejects.toBeInstanceOf(ModelIntegrityError);
  });

  it('an invalid manifest is refused with the offending path named', async () => {
    const bad = join(tmp.path, 'manifest.json');
    await writeFile(bad, JSON.stringify({ version: 1, models: { x: { sha256: 'zz' } }, thresholds: {} }));
    await expect(loadManifest(bad)).rejects.toThrow(/models\.x\.sha256/);
  });
});
