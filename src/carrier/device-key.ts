import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RegtermError, errorMessage } from '../lib/errors.ts';
import { keyId, writeKeyPair } from './keys.ts';

/**
 * The device signing identity: an Ed25519 key pair generated once at provisioning. The private key file is 0600
 * (written atomically); a key readable by group or others is refused, because anyone who can read it can forge
 * verdicts. `kid` is derived from the public key (RFC 7638 thumbprint).
 */
export interface DeviceIdentity {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
}

export const PRIVATE_KEY_FILE = 'device.key.pem';
export const PUBLIC_KEY_FILE = 'device.pub.pem';

/** Generates and writes a key pair into `dir`; refuses to overwrite an existing key. */
export async function createIdentity(dir: string): Promise<DeviceIdentity> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, PRIVATE_KEY_FILE);
  if (existsSync(keyPath)) throw new RegtermError(`refusing to overwrite existing device key ${keyPath}`);
  return writeKeyPair(keyPath, join(dir, PUBLIC_KEY_FILE));
}

/** The signing key at `path` (a provisioned terminal: /etc/regterm/device-key.pem), with the 0600 check. */
export async function loadSigningKeyFile(path: string): Promise<DeviceIdentity> {
  let pem: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new RegtermError(`device key ${path} has mode ${mode.toString(8)}; it must be 0600`);
    pem = readFileSync(path, 'utf8');
  } catch (e: unknown) {
    if (e instanceof RegtermError) throw e;
    throw new RegtermError(`cannot read device key ${path}: ${errorMessage(e)}`, undefined, { cause: e });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (e: unknown) {
    throw new RegtermError(`device key ${path} is not a PEM private key: ${errorMessage(e)}`, undefined, { cause: e });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new RegtermError(`device key ${path} is not ed25519`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, kid: await keyId(publicKey) };
}

export async function loadIdentity(dir: string): Promise<DeviceIdentity> {
  return loadSigningKeyFile(join(dir, PRIVATE_KEY_FILE));
}

/** Loads the identity in `dir`, creating it on first start (provisioning normally does this). */
export async function loadOrCreateIdentity(dir: string): Promise<DeviceIdentity> {
  return existsSync(join(dir, PRIVATE_KEY_FILE)) ? loadIdentity(dir) : createIdentity(dir);
}
