import { createPublicKey, type KeyObject } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { carrierConfigSchema } from '../carrier/config.ts';
import { keyId, pinKeys, readPublicKey } from '../carrier/keys.ts';
import type { ClientCredentials } from '../carrier/link.ts';
import { type OpenCarrier, openCarrier } from '../carrier/open.ts';
import type { RejectReason } from '../carrier/protocol.ts';
import type { Config } from '../config/schema.ts';
import { loadSigningKeyFile, type DeviceIdentity } from '../carrier/device-key.ts';
import type { Logger } from '../lib/logger.ts';
import { EXIT, RegtermError, errorMessage } from '../lib/errors.ts';

/**
 * The carrier half of the agent built from the one agent config: device identity (config `identity.signingKeyFile`),
 * pinned carrier keys (every *.pem in `carrier.keysDir`), then the carrier module's own composition (SQLite state in
 * `stateDir`, validator, outbox, link; src/carrier/open.ts).
 */
export interface CarrierPart extends OpenCarrier {
  /** the device's signing key (results, rejections, configuration reports) */
  identity: DeviceIdentity;
  /**
   * The trusted carrier keys, the very map the request validator reads: replacing its contents (remote key rotation)
   * takes effect with the next request.
   */
  carrierKeys: Map<string, KeyObject>;
}

export interface CarrierPartDeps {
  logger: Logger;
  version: string;
  modelsHash: string;
  inventory?: object;
  isBusy: () => boolean;
  unavailable?: () => RejectReason | undefined;
  policySchema: z.ZodType;
  /** the client certificate and key per connection attempt (certificate renewal) */
  credentials?: ClientCredentials;
  now?: () => number;
}

/** Every PEM file in the carrier key directory (none is fine here: trustedCarrierKeys wants one key in all). */
export function carrierKeyFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.pem')).sort().map((n) => join(dir, n));
  } catch (e: unknown) {
    throw new RegtermError(`cannot read carrier keys in ${dir}: ${errorMessage(e)}`, undefined, { cause: e });
  }
}

/**
 * The carrier keys session requests and remote configurations are verified with: every PEM in `carrier.keysDir`
 * (provisioning) and `carrier.keys` (the remote layer), less `carrier.revokedKids`. A `carrier.keys` entry must be
 * an Ed25519 key whose kid is its own thumbprint. At least one key must remain: a terminal that trusts no carrier
 * can never be managed again.
 */
export async function trustedCarrierKeys(carrier: Readonly<Config['carrier']>): Promise<Map<string, KeyObject>> {
  const keys = await pinKeys(carrierKeyFiles(carrier.keysDir).map(readPublicKey));
  for (const [kid, pem] of Object.entries(carrier.keys)) {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch (e: unknown) {
      throw new RegtermError(`carrier.keys.${kid} is not a PEM public key: ${errorMessage(e)}`, EXIT.config);
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new RegtermError(`carrier.keys.${kid} is not an Ed25519 key`, EXIT.config);
    if ((await keyId(key)) !== kid) throw new RegtermError(`carrier.keys.${kid}: the kid is not the key's thumbprint`, EXIT.config);
    keys.set(kid, key);
  }
  for (const kid of carrier.revokedKids) keys.delete(kid);
  if (keys.size === 0) throw new RegtermError(`no trusted carrier key (none in ${carrier.keysDir} or carrier.keys, or all revoked)`, EXIT.config);
  return keys;
}

export async function openCarrierPart(config: Readonly<Config>, deps: CarrierPartDeps): Promise<CarrierPart> {
  const m = config.mqtt;
  // The link pins the broker CA and presents the client certificate together; a certificate without a CA would
  // otherwise connect without it and be refused by the broker with no hint why.
  if ((m.certFile || m.keyFile) && !(m.caFile && m.certFile && m.keyFile)) {
    throw new RegtermError('mqtt.caFile, mqtt.certFile and mqtt.keyFile go together (the broker CA is pinned)', EXIT.config);
  }
  const identity = await loadSigningKeyFile(config.identity.signingKeyFile);
  const carrierKeys = await trustedCarrierKeys(config.carrier);
  // The carrier module's own schema supplies its remaining defaults (timeouts, resend, request TTL and skew).
  const carrierConfig = carrierConfigSchema.parse({
    deviceId: config.deviceId, stateDir: config.stateDir, identityDir: config.stateDir, carrierKeyFiles: ['-'],
    mqtt: { url: m.url, protocolVersion: m.protocolVersion, caFile: m.caFile, certFile: m.certFile, keyFile: m.keyFile,
      keepaliveS: m.keepaliveS, sessionExpiryS: m.sessionExpiryS, reconnectMinMs: m.reconnectMinMs, reconnectMaxMs: m.reconnectMaxMs },
    requests: { maxBytes: config.carrier.maxRequestBytes },
    outbox: { maxEntries: config.carrier.outboxMaxResults },
  });
  return { ...(await openCarrier(carrierConfig, { ...deps, identity, carrierKeys })), identity, carrierKeys };
}
