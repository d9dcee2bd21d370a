import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { writeFileAtomic } from '../lib/atomic-write.ts';
import { UsageError, errorMessage } from '../lib/errors.ts';

/**
 * Key ids are the RFC 7638 JWK thumbprint (sha256, base64url) of the Ed25519 public key: derived, never chosen,
 * so the carrier can compute a device's kid from its public key alone.
 */
export async function keyId(publicKey: KeyObject): Promise<string> {
  return calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as JWK, 'sha256');
}

/** Reads an Ed25519 public key (SPKI PEM, or a private key PEM whose public half is taken). */
export function readPublicKey(path: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (e: unknown) {
    throw new UsageError(`cannot read key ${path}: ${errorMessage(e)}`, { cause: e });
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e: unknown) {
    throw new UsageError(`${path} is not a PEM public key: ${errorMessage(e)}`, { cause: e });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new UsageError(`${path} is a ${key.asymmetricKeyType} key, expected ed25519`);
  return key;
}

/** Pinned carrier keys by kid; rotation = pin the new key next to the old one, then remove the old one. */
export async function pinKeys(keys: KeyObject[]): Promise<Map<string, KeyObject>> {
  const pinned = new Map<string, KeyObject>();
  for (const key of keys) pinned.set(await keyId(key), key);
  return pinned;
}

/** A new Ed25519 key pair written as PEM: the private key 0600, the public key 0644 (both atomically). */
export async function writeKeyPair(privatePath: string, publicPath: string): Promise<{ privateKey: KeyObject; publicKey: KeyObject; kid: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileAtomic(privatePath, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600);
  writeFileAtomic(publicPath, publicKey.export({ format: 'pem', type: 'spki' }) as string, 0o644);
  return { privateKey, publicKey, kid: await keyId(publicKey) };
}
