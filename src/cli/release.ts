import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { keyId, readPublicKey, writeKeyPair } from '../carrier/keys.ts';
import { writeFileAtomic } from '../lib/atomic-write.ts';
import { parseSignature, signRelease, verifyRelease } from '../device/update/release-signature.ts';
import { EXIT, UsageError, errorMessage } from '../lib/errors.ts';
import { type CommandContext, writeJson } from './command.ts';

export const USAGE = `usage:
  regterm release keygen --out DIR
      writes release.key.pem (0600; keep it off the terminals) and release.pub.pem (provision --release-key); prints the kid
  regterm release sign TARBALL --key release.key.pem
      writes TARBALL.sig (detached Ed25519 signature, docs/release.md); npm run build signs with REGTERM_RELEASE_KEY
  regterm release verify TARBALL --key release.pub.pem [--sig FILE]
      checks TARBALL against its signature (default TARBALL.sig); prints version, target, sha256, kid`;

function parse(args: string[], names: string[]): { values: Record<string, string | undefined>; positionals: string[] } {
  try {
    const options = Object.fromEntries(names.map((n) => [n, { type: 'string' as const }]));
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | undefined>, positionals: r.positionals };
  } catch (e: unknown) {
    throw new UsageError(`${errorMessage(e)}\n${USAGE}`);
  }
}

/** The release-signing key pair and signatures: the carrier's operations team signs, terminals verify. */
export async function run(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.argv;
  if (sub === 'keygen') return keygen(ctx, rest);
  if (sub === 'sign') return sign(ctx, rest);
  if (sub === 'verify') return verify(ctx, rest);
  throw new UsageError(USAGE);
}

async function keygen(ctx: CommandContext, args: string[]): Promise<number> {
  const { out } = parse(args, ['out']).values;
  if (!out) throw new UsageError(USAGE);
  const keyPath = join(out, 'release.key.pem');
  if (existsSync(keyPath)) throw new UsageError(`refusing to overwrite ${keyPath}`);
  mkdirSync(out, { recursive: true });
  const { kid } = await writeKeyPair(keyPath, join(out, 'release.pub.pem'));
  ctx.stdout.write(`${kid}\n`);
  return EXIT.ok;
}

/** Signs `tarball` with the private key at `keyPath` and writes `<tarball>.sig`; returns the signature. */
export async function signTarball(tarball: string, keyPath: string): Promise<ReturnType<typeof parseSignature>> {
  let key;
  try {
    key = createPrivateKey(readFileSync(keyPath, 'utf8'));
  } catch (e: unknown) {
    throw new UsageError(`cannot read release key ${keyPath}: ${errorMessage(e)}`);
  }
  const sig = await signRelease(tarball, key);
  mkdirSync(dirname(tarball), { recursive: true });
  writeFileAtomic(`${tarball}.sig`, `${JSON.stringify(sig, null, 2)}\n`, 0o644);
  return sig;
}

async function sign(ctx: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, ['key']);
  if (!values.key || positionals.length !== 1) throw new UsageError(USAGE);
  const sig = await signTarball(resolve(positionals[0]), values.key);
  ctx.stdout.write(`${resolve(positionals[0])}.sig: ${sig.file} sha256 ${sig.sha256} kid ${sig.kid}\n`);
  return EXIT.ok;
}

async function verify(ctx: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, ['key', 'sig']);
  if (!values.key || positionals.length !== 1) throw new UsageError(USAGE);
  const tarball = resolve(positionals[0]);
  const key = readPublicKey(values.key);
  const sig = parseSignature(readFileSync(values.sig ?? `${tarball}.sig`, 'utf8'));
  writeJson(ctx.stdout, await verifyRelease(tarball, sig, new Map([[await keyId(key), key]])));
  return EXIT.ok;
}
