import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { keyId } from '../../carrier/keys.ts';
import { RegtermError, errorMessage } from '../../lib/errors.ts';

/**
 * Detached release signatures (docs/release.md): `regterm-<version>-<target>.tar.gz.sig` beside the tarball, JSON:
 *
 *   { "v": 1, "alg": "Ed25519", "kid", "file", "version", "target", "bytes", "sha256", "signature" }
 *
 * The Ed25519 signature (base64url) covers the statement `regterm-release/v1\n<file>\n<version>\n<target>\n<bytes>\n
 * <sha256>\n`: the tarball by its digest (a 100 MB file is hashed in a stream, not held in memory), bound to its name,
 * version and CPU, so a validly signed tarball cannot be installed as another version or on another target.
 * kid = RFC 7638 thumbprint of the signing public key; the terminal accepts the keys pinned in
 * /etc/regterm/release-keys/<kid>.pem only.
 */
export interface ReleaseSignature {
  v: 1;
  alg: 'Ed25519';
  kid: string;
  file: string;
  version: string;
  target: string;
  bytes: number;
  sha256: string;
  signature: string;
}

export class ReleaseVerificationError extends RegtermError {}

const TARBALL_NAME = /^regterm-([0-9A-Za-z][0-9A-Za-z.+-]{0,63})-(linux-(?:arm64|x64))\.tar\.gz$/;

/** version and target from a release tarball's name, or undefined when it is not one. */
export function parseTarballName(file: string): { version: string; target: string } | undefined {
  const m = TARBALL_NAME.exec(file);
  return m ? { version: m[1], target: m[2] } : undefined;
}

function statement(s: Omit<ReleaseSignature, 'v' | 'alg' | 'kid' | 'signature'>): Buffer {
  return Buffer.from(`regterm-release/v1\n${s.file}\n${s.version}\n${s.target}\n${s.bytes}\n${s.sha256}\n`);
}

/** sha256 (hex) and size of a file, read in a stream. */
export async function digestFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Signs the release tarball at `path` with an Ed25519 private key; returns the signature file's content. */
export async function signRelease(path: string, privateKey: KeyObject): Promise<ReleaseSignature> {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new RegtermError(`the release key is ${privateKey.asymmetricKeyType}, expected ed25519`);
  const file = basename(path);
  const named = parseTarballName(file);
  if (!named) throw new RegtermError(`${file} is not named regterm-<version>-linux-<arch>.tar.gz`);
  const body = { file, ...named, ...(await digestFile(path)) };
  const signature = sign(null, statement(body), privateKey).toString('base64url');
  return { v: 1, alg: 'Ed25519', kid: await keyId(createPublicKey(privateKey)), ...body, signature };
}

/** Parses a signature file's JSON; throws ReleaseVerificationError on any other shape. */
export function parseSignature(text: string): ReleaseSignature {
  let s: Partial<ReleaseSignature>;
  try {
    s = JSON.parse(text) as Partial<ReleaseSignature>;
  } catch (e: unknown) {
    throw new ReleaseVerificationError(`release signature is not JSON: ${errorMessage(e)}`);
  }
  const strings = ['kid', 'file', 'version', 'target', 'sha256', 'signature'] as const;
  if (s?.v !== 1 || s.alg !== 'Ed25519' || strings.some((k) => typeof s[k] !== 'string') || !Number.isSafeInteger(s.bytes)
    || !/^[0-9a-f]{64}$/.test(s.sha256 as string)) {
    throw new ReleaseVerificationError('release signature: not a v1 Ed25519 release signature');
  }
  return s as ReleaseSignature;
}

/** The pinned release keys (dir/<kid>.pem), by kid. */
export async function readReleaseKeys(dir: string): Promise<Map<string, KeyObject>> {
  const keys = new Map<string, KeyObject>();
  if (!existsSync(dir)) return keys;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.pem')).sort()) {
    const key = createPublicKey(readFileSync(join(dir, name), 'utf8'));
    if (key.asymmetricKeyType === 'ed25519') keys.set(await keyId(key), key);
  }
  return keys;
}

export interface VerifiedRelease {
  version: string;
  target: string;
  sha256: string;
  kid: string;
}

/**
 * Verifies the tarball at `path` against `sig` with the pinned `keys`: signed by a pinned key, the signed digest and
 * size are this file's, the name is the signed one. `expectSha256` (the carrier's update command) must match too.
 */
export async function verifyRelease(path: string, sig: ReleaseSignature, keys: Map<string, KeyObject>, expectSha256?: string): Promise<VerifiedRelease> {
  const key = keys.get(sig.kid);
  if (!key) throw new ReleaseVerificationError(`release signed by kid ${sig.kid}, which is not pinned (${keys.size} pinned)`);
  if (!verify(null, statement(sig), key, Buffer.from(sig.signature, 'base64url'))) {
    throw new ReleaseVerificationError(`release signature of ${sig.file} does not verify with kid ${sig.kid}`);
  }
  const named = parseTarballName(sig.file);
  if (!named || named.version !== sig.version || named.target !== sig.target) throw new ReleaseVerificationError(`signed name ${sig.file} does not match its version and target`);
  if (statSync(path).size !== sig.bytes) throw new ReleaseVerificationError(`${basename(path)} is ${statSync(path).size} bytes, the signature says ${sig.bytes}`);
  const { sha256 } = await digestFile(path);
  if (sha256 !== sig.sha256) throw new ReleaseVerificationError(`${basename(path)} has sha256 ${sha256}, the signature says ${sig.sha256}`);
  if (expectSha256 !== undefined && expectSha256.toLowerCase() !== sha256) {
    throw new ReleaseVerificationError(`${basename(path)} has sha256 ${sha256}, the update command says ${expectSha256}`);
  }
  return { version: sig.version, target: sig.target, sha256, kid: sig.kid };
}
