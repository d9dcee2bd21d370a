import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHS } from '../../../src/device/provision/layout.ts';
import { applyRelease, currentVersion } from '../../../src/device/update/install.ts';
import { readOutcome, readPending } from '../../../src/device/update/pending.ts';
import { parseSignature, signRelease } from '../../../src/device/update/release-signature.ts';
import { applyStaged, stageRelease, stagedPath } from '../../../src/device/update/staged.ts';
import { recordAttack } from '../../attacks/table.ts';
import { makeRelease, pinReleaseKey, releaseKey } from './fixture.ts';

/**
 * The privileged installer of a release the agent staged (`regterm update apply-staged`, root): it must install what
 * a pinned release key signed and the staged sha256 names, and nothing the (possibly compromised) agent slipped in;
 * every refusal is a `failed` outcome for the agent to report, with `current` untouched and `staged/` gone.
 */
describe('update apply-staged: the root side of the update command', () => {
  let tmp: string;
  const key = releaseKey();
  const stranger = releaseKey();
  let v1: { tarball: string; sig: string };
  let v2: { tarball: string; sig: string };

  const freshRoot = async (name: string): Promise<{ root: string; updateDir: string }> => {
    const root = join(tmp, name);
    const updateDir = join(root, PATHS.updateDir);
    mkdirSync(updateDir, { recursive: true });
    await pinReleaseKey(root, key.publicKey);
    await applyRelease({ root, tarball: v1.tarball, signature: parseSignature(readFileSync(v1.sig, 'utf8')), restart: () => undefined });
    rmSync(join(updateDir, 'pending'));
    return { root, updateDir };
  };

  /** Stages `tarball` with `sigText` as the agent does (the tarball is moved, so a copy goes in). */
  const stage = (updateDir: string, tarball: string, sigText: string, sha256 = parseSignature(sigText).sha256) => {
    const copy = join(updateDir, 'download.tar.gz');
    copyFileSync(tarball, copy);
    stageRelease(updateDir, copy, sigText, { version: '0.2.0', sha256, nonce: 'n'.repeat(24) });
  };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'regterm-staged-'));
    v1 = await makeRelease(tmp, '0.1.0', key.privateKey);
    v2 = await makeRelease(tmp, '0.2.0', key.privateKey);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('installs a staged release like `update apply`: switched, on trial, staged/ gone; nothing staged does nothing', async () => {
    const { root, updateDir } = await freshRoot('ok');
    expect(await applyStaged({ root, restart: () => undefined })).toBeUndefined();
    stage(updateDir, v2.tarball, readFileSync(v2.sig, 'utf8'));
    expect(await applyStaged({ root, restart: () => undefined })).toMatchObject({ status: 'switched', version: '0.2.0', previous: '0.1.0' });
    expect(currentVersion(root)).toBe('0.2.0');
    expect(readPending(updateDir)).toMatchObject({ version: '0.2.0', previous: '0.1.0' });
    expect(existsSync(stagedPath(updateDir))).toBe(false);
    expect(readOutcome(updateDir)).toBeUndefined();
  });

  it('refuses what a compromised agent could stage: a link to another file, a release signed by another key, another sha256', async () => {
    const cases: [string, (updateDir: string) => Promise<void> | void, RegExp][] = [
      ['staged tarball is a link to a root-only file', (updateDir) => {
        stage(updateDir, v2.tarball, readFileSync(v2.sig, 'utf8'));
        rmSync(join(stagedPath(updateDir), 'release.tar.gz'));
        symlinkSync('/etc/shadow', join(stagedPath(updateDir), 'release.tar.gz'));
      }, /ELOOP|not a regular file/],
      ['staged release signed by an unpinned key', async (updateDir) => {
        stage(updateDir, v2.tarball, JSON.stringify(await signRelease(v2.tarball, stranger.privateKey)));
      }, /not pinned/],
      ['staged sha256 differs from the tarball', (updateDir) => {
        stage(updateDir, v2.tarball, readFileSync(v2.sig, 'utf8'), 'ab'.repeat(32));
      }, /the update command says/],
      ['staged request.json is a link', (updateDir) => {
        stage(updateDir, v2.tarball, readFileSync(v2.sig, 'utf8'));
        rmSync(join(stagedPath(updateDir), 'request.json'));
        writeFileSync(join(updateDir, 'elsewhere.json'), '{}');
        symlinkSync(join(updateDir, 'elsewhere.json'), join(stagedPath(updateDir), 'request.json'));
      }, /ELOOP|not a small regular file/],
    ];
    for (const [i, [attack, prepare, want]] of cases.entries()) {
      const { root, updateDir } = await freshRoot(`bad-${i}`);
      await prepare(updateDir);
      const error = await applyStaged({ root, restart: () => undefined }).then(() => 'installed', (e: unknown) => (e as Error).message);
      const outcome = readOutcome(updateDir);
      recordAttack({ area: 'update installer', attack, expected: 'failed, current untouched',
        observed: error === 'installed' ? `installed ${currentVersion(root)}`
          : `${outcome?.result ?? 'no outcome'}, ${currentVersion(root) === '0.1.0' ? 'current untouched' : `current ${currentVersion(root)}`}` });
      expect(error, attack).toMatch(want);
      expect(outcome, attack).toMatchObject({ result: 'failed', previous: '0.1.0' });
      expect(currentVersion(root)).toBe('0.1.0');
      expect(existsSync(stagedPath(updateDir))).toBe(false);
      expect(readPending(updateDir)).toBeUndefined();
    }
  });
});
