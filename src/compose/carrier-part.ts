import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { carrierConfigSchema } from '../carrier/config.ts';
import { pinKeys, readPublicKey, keyId } from '../carrier/keys.ts';
import { CarrierLink } from '../carrier/link.ts';
import { ResultOutbox } from '../carrier/outbox.ts';
import { RequestValidator } from '../carrier/request-validator.ts';
import { SqliteState } from '../carrier/sqlite-store.ts';
import type { Config } from '../config/schema.ts';
import type { DeviceIdentity } from '../device/identity.ts';
import type { Logger } from '../device/logger.ts';
import { EXIT, RegtermError, errorMessage } from '../errors.ts';

/**
 * The carrier half of the agent built from the one agent config: device identity (config `identity.signingKeyFile`),
 * pinned carrier keys (every *.pem in `carrier.keysDir`), SQLite state in `stateDir`, validator, outbox and link.
 * Nothing here opens a socket: the link connects in start(). `close()` closes the database and must run after the
 * link stopped (the link may still be deleting acknowledged results).
 */
export interface CarrierPart {
  link: CarrierLink;
  outbox: ResultOutbox;
  kid: string;
  close(): void;
}

export interface CarrierPartDeps {
  logger: Logger;
  version: string;
  modelsHash: string;
  inventory?: object;
  isBusy: () => boolean;
  policySchema: z.ZodType;
  now?: () => number;
}

/** The device key from its file; refused when group or others can read it (anyone who can read it forges verdicts). */
export async function loadSigningKey(path: string): Promise<DeviceIdentity> {
  let pem: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new RegtermError(`device key ${path} has mode ${mode.toString(8)}; it must be 0600`);
    pem = readFileSync(path, 'utf8');
  } catch (e: unknown) {
    if (e instanceof RegtermError) throw e;
    throw new RegtermError(`cannot read device key ${path}: ${errorMessage(e)}`, undefined, { cause: e });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(pem);
  } catch (e: unknown) {
    throw new RegtermError(`device key ${path} is not a PEM private key: ${errorMessage(e)}`, undefined, { cause: e });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new RegtermError(`device key ${path} is not ed25519`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, kid: await keyId(publicKey) };
}

/** Every PEM file in the carrier key directory; at least one is required. */
export function carrierKeyFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.pem')).sort();
  } catch (e: unknown) {
    throw new RegtermError(`cannot read carrier keys in ${dir}: ${errorMessage(e)}`, undefined, { cause: e });
  }
  if (names.length === 0) throw new RegtermError(`no carrier public key (*.pem) in ${dir}`);
  return names.map((n) => join(dir, n));
}

export async function openCarrierPart(config: Readonly<Config>, deps: CarrierPartDeps): Promise<CarrierPart> {
  const now = deps.now ?? Date.now;
  const m = config.mqtt;
  // The link pins the broker CA and presents the client certificate together; a certificate without a CA would
  // otherwise connect without it and be refused by the broker with no hint why.
  if ((m.certFile || m.keyFile) && !(m.caFile && m.certFile && m.keyFile)) {
    throw new RegtermError('mqtt.caFile, mqtt.certFile and mqtt.keyFile go together (the broker CA is pinned)', EXIT.config);
  }
  const identity = await loadSigningKey(config.identity.signingKeyFile);
  const carrierKeys = await pinKeys(carrierKeyFiles(config.carrier.keysDir).map(readPublicKey));
  // The carrier module's own schema supplies its remaining defaults (timeouts, resend, request TTL and skew).
  const cc = carrierConfigSchema.parse({
    deviceId: config.deviceId, stateDir: config.stateDir, identityDir: config.stateDir, carrierKeyFiles: ['-'],
    mqtt: { url: m.url, protocolVersion: m.protocolVersion, caFile: m.caFile, certFile: m.certFile, keyFile: m.keyFile,
      keepaliveS: m.keepaliveS, sessionExpiryS: m.sessionExpiryS, backoffInitialMs: m.reconnectMinMs, backoffMaxMs: m.reconnectMaxMs },
    requests: { maxBytes: config.carrier.maxRequestBytes },
    outbox: { maxEntries: config.carrier.outboxMaxResults },
  });
  const db = SqliteState.open({ path: join(config.stateDir, 'state.db'), now });
  const outbox = new ResultOutbox({
    deviceId: config.deviceId, identity, store: db.outbox, state: db.state, agentVersion: deps.version,
    modelsHash: deps.modelsHash, maxEntries: cc.outbox.maxEntries, now,
  });
  const validator = new RequestValidator({
    deviceId: config.deviceId, carrierKeys, state: db.state, maxBytes: cc.requests.maxBytes,
    maxTtlMs: cc.requests.maxTtlS * 1000, clockSkewMs: cc.requests.clockSkewS * 1000, now, policySchema: deps.policySchema,
  });
  const tls = m.caFile && m.certFile && m.keyFile ? { caFile: m.caFile, certFile: m.certFile, keyFile: m.keyFile } : undefined;
  const link = new CarrierLink({
    deviceId: config.deviceId, url: m.url, protocolVersion: m.protocolVersion, tls,
    keepaliveS: m.keepaliveS, sessionExpiryS: m.sessionExpiryS, connectTimeoutMs: cc.mqtt.connectTimeoutMs,
    backoff: { initialMs: m.reconnectMinMs, maxMs: m.reconnectMaxMs }, resendAfterMs: cc.mqtt.resendAfterMs,
    maxPacketBytes: 2 * cc.requests.maxBytes + 64 * 1024,
    version: deps.version, modelsHash: deps.modelsHash, inventory: deps.inventory, validator, outbox, isBusy: deps.isBusy,
    logger: deps.logger, now,
  });
  return { link, outbox, kid: identity.kid, close: () => db.close() };
}
