import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packTarball, writeReleaseInfo } from '../../../scripts/release-target.ts';
import { keyId } from '../../../src/carrier/keys.ts';
import { PATHS } from '../../../src/device/provision/layout.ts';
import { signRelease } from '../../../src/device/update/release-signature.ts';

export const TARGET = `linux-${process.arch}`;

/**
 * What the release's launcher does in these tests, standing in for the agent: `ready` prints READY=1 (the harness
 * plays systemd's notify socket) and stays up, `crash` exits 1 at once, `hang` never gets READY.
 */
export type Behaviour = 'ready' | 'crash' | 'hang';

/**
 * A small release tarball in the real format (RELEASE.json with every file's sha256, one top-level folder, packed
 * and signed by the same code as a build), so the update paths run many times in a test. `payloadBytes` of random
 * data makes it big enough to interrupt mid-unpack or to overflow a small file system.
 */
export async function makeRelease(dir: string, version: string, key: KeyObject, opts: { behaviour?: Behaviour; payloadBytes?: number } = {}): Promise<{ tarball: string; sig: string }> {
  const tree = join(dir, `stage-${version}`, `regterm-${version}`);
  rmSync(join(dir, `stage-${version}`), { recursive: true, force: true });
  mkdirSync(join(tree, 'dist'), { recursive: true });
  const behaviour = opts.behaviour ?? 'ready';
  const body = behaviour === 'ready' ? 'echo READY=1; exec sleep 3600' : behaviour === 'crash' ? 'exit 1' : 'exec sleep 3600';
  writeFileSync(join(tree, 'regterm'), `#!/bin/sh\necho "version ${version}"\n${body}\n`, { mode: 0o755 });
  writeFileSync(join(tree, 'package.json'), `${JSON.stringify({ name: 'regterm', version })}\n`);
  writeFileSync(join(tree, 'dist', 'payload.bin'), randomBytes(opts.payloadBytes ?? 4096));
  for (let i = 0; i < 20; i++) writeFileSync(join(tree, 'dist', `chunk-${i}.mjs`), `export const n = ${i};\n`);
  writeReleaseInfo(tree, { version, target: TARGET });
  const tarball = packTarball(tree, version, TARGET, dir);
  rmSync(join(dir, `stage-${version}`), { recursive: true, force: true });
  const sig = `${tarball}.sig`;
  writeFileSync(sig, JSON.stringify(await signRelease(tarball, key)));
  return { tarball, sig };
}

export function releaseKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

/** Pins `publicKey` in the root's /etc/regterm/release-keys, as provisioning does. */
export async function pinReleaseKey(root: string, publicKey: KeyObject): Promise<void> {
  mkdirSync(join(root, PATHS.releaseKeys), { recursive: true });
  writeFileSync(join(root, PATHS.releaseKeys, `${await keyId(publicKey)}.pem`), publicKey.export({ format: 'pem', type: 'spki' }) as string);
}
