import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSessionRequest, signSessionRequest, signUpdateCommand } from '../carrier/carrier-side.ts';
import { keyId, writeKeyPair } from '../carrier/keys.ts';
import { ID_PATTERN, sessionRequestSchema, type SessionRequest } from '../carrier/protocol.ts';
import { parseSignature } from '../device/update/release-signature.ts';
import { EXIT, UsageError, errorMessage } from '../lib/errors.ts';
import type { CommandContext } from './command.ts';

export const USAGE = `usage:
  regterm carrier keygen --out DIR
      writes carrier.key.pem (0600) and carrier.pub.pem (pin it on terminals); prints the kid
  regterm carrier request --key CARRIER_KEY.pem --device ID --reference IMG [--ttl S] [--session ID] [--policy JSON]
      prints a signed session request; publish it to regterm/v1/<ID>/session/request
  regterm carrier update --key CARRIER_KEY.pem --device ID --url URL --sig TARBALL.sig [--ttl S]
      prints a signed update command for the release whose signature file is given (its sha256 and version; the same
      file must be served at URL.sig); publish it, not retained, to regterm/v1/<ID>/update/request (docs/release.md)`;

/** Carrier-side helpers, so a carrier can drive a terminal with nothing but mosquitto_pub / mosquitto_sub. */
export async function run(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.argv;
  if (sub === 'keygen') return keygen(ctx, rest);
  if (sub === 'request') return request(ctx, rest);
  if (sub === 'update') return update(ctx, rest);
  throw new UsageError(USAGE);
}

/** Flags as strings; an unknown flag or a missing value is a usage error. */
function parse(args: string[], names: string[]): Record<string, string | undefined> {
  try {
    const options = Object.fromEntries(names.map((n) => [n, { type: 'string' as const }]));
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values as Record<string, string | undefined>;
  } catch (e: unknown) {
    throw new UsageError(`${errorMessage(e)}\n${USAGE}`);
  }
}

async function keygen(ctx: CommandContext, args: string[]): Promise<number> {
  const { out } = parse(args, ['out']);
  if (!out) throw new UsageError(USAGE);
  const keyPath = join(out, 'carrier.key.pem');
  if (existsSync(keyPath)) throw new UsageError(`refusing to overwrite ${keyPath}`);
  mkdirSync(out, { recursive: true });
  const { kid } = await writeKeyPair(keyPath, join(out, 'carrier.pub.pem'));
  ctx.stdout.write(`${kid}\n`);
  return EXIT.ok;
}

async function request(ctx: CommandContext, args: string[]): Promise<number> {
  const { key, device, reference, ttl, session, policy } =
    parse(args, ['key', 'device', 'reference', 'ttl', 'session', 'policy']);
  if (!key || !device || !reference) throw new UsageError(USAGE);
  if (!ID_PATTERN.test(device)) throw new UsageError(`--device ${device} is not a valid device id`);
  if (session !== undefined && !ID_PATTERN.test(session)) throw new UsageError(`--session ${session} is not a valid session id`);
  const ttlS = Number(ttl ?? 120);
  if (!Number.isInteger(ttlS) || ttlS <= 0) throw new UsageError('--ttl must be a positive whole number of seconds');
  const ext = extname(reference).toLowerCase();
  const format = ext === '.png' ? 'png' : ext === '.jpg' || ext === '.jpeg' ? 'jpeg' : undefined;
  if (!format) throw new UsageError(`--reference must be a .jpg/.jpeg or .png file: ${reference}`);
  let privateKey;
  let data: Buffer;
  try {
    privateKey = createPrivateKey(readFileSync(key, 'utf8'));
    data = readFileSync(reference);
  } catch (e: unknown) {
    throw new UsageError(errorMessage(e));
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new UsageError(`${key} is not an ed25519 private key`);
  let parsedPolicy: SessionRequest['policy'] | undefined;
  if (policy !== undefined) {
    const parsed = sessionRequestSchema.shape.policy.safeParse(parseJson(policy));
    if (!parsed.success) throw new UsageError('--policy must be a JSON object, e.g. \'{"challenges":{"count":3}}\'');
    parsedPolicy = parsed.data;
  }
  const req = buildSessionRequest({ deviceId: device, reference: { format, data }, ttlS, sessionId: session, policy: parsedPolicy });
  ctx.stdout.write(`${await signSessionRequest(req, privateKey, await keyId(createPublicKey(privateKey)))}\n`);
  return EXIT.ok;
}

async function update(ctx: CommandContext, args: string[]): Promise<number> {
  const { key, device, url, sig, ttl } = parse(args, ['key', 'device', 'url', 'sig', 'ttl']);
  if (!key || !device || !url || !sig) throw new UsageError(USAGE);
  if (!ID_PATTERN.test(device)) throw new UsageError(`--device ${device} is not a valid device id`);
  const ttlS = Number(ttl ?? 3600);
  if (!Number.isInteger(ttlS) || ttlS <= 0 || ttlS > 24 * 3600) throw new UsageError('--ttl must be a whole number of seconds, at most 86400');
  let privateKey;
  let release;
  try {
    privateKey = createPrivateKey(readFileSync(key, 'utf8'));
    release = parseSignature(readFileSync(sig, 'utf8'));
  } catch (e: unknown) {
    throw new UsageError(errorMessage(e));
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new UsageError(`${key} is not an ed25519 private key`);
  let command: string;
  try {
    command = await signUpdateCommand({ deviceId: device, url, sha256: release.sha256, version: release.version, ttlS },
      privateKey, await keyId(createPublicKey(privateKey)));
  } catch (e: unknown) {
    throw new UsageError(`not a valid update command (--url must be http(s)): ${errorMessage(e).slice(0, 300)}`);
  }
  ctx.stdout.write(`${command}\n`);
  return EXIT.ok;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
