import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { carrierConfigSchema } from '../carrier/config.ts';
import { pinKeys, readPublicKey } from '../carrier/keys.ts';
import { type OpenCarrier, openCarrier } from '../carrier/open.ts';
import type { Config } from '../config/schema.ts';
import { loadSigningKeyFile } from '../device/identity.ts';
import type { Logger } from '../device/logger.ts';
import { EXIT, RegtermError, errorMessage } from '../errors.ts';

/**
 * The carrier half of the agent built from the one agent config: device identity (config `identity.signingKeyFile`),
 * pinned carrier keys (every *.pem in `carrier.keysDir`), then the carrier module's own composition (SQLite state in
 * `stateDir`, validator, outbox, link; src/carrier/open.ts).
 */
export type CarrierPart = OpenCarrier;

export interface CarrierPartDeps {
  logger: Logger;
  version: string;
  modelsHash: string;
  inventory?: object;
  isBusy: () => boolean;
  policySchema: z.ZodType;
  now?: () => number;
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
  const m = config.mqtt;
  // The link pins the broker CA and presents the client certificate together; a certificate without a CA would
  // otherwise connect without it and be refused by the broker with no hint why.
  if ((m.certFile || m.keyFile) && !(m.caFile && m.certFile && m.keyFile)) {
    throw new RegtermError('mqtt.caFile, mqtt.certFile and mqtt.keyFile go together (the broker CA is pinned)', EXIT.config);
  }
  const identity = await loadSigningKeyFile(config.identity.signingKeyFile);
  const carrierKeys = await pinKeys(carrierKeyFiles(config.carrier.keysDir).map(readPublicKey));
  // The carrier module's own schema supplies its remaining defaults (timeouts, resend, request TTL and skew).
  const carrierConfig = carrierConfigSchema.parse({
    deviceId: config.deviceId, stateDir: config.stateDir, identityDir: config.stateDir, carrierKeyFiles: ['-'],
    mqtt: { url: m.url, protocolVersion: m.protocolVersion, caFile: m.caFile, certFile: m.certFile, keyFile: m.keyFile,
      keepaliveS: m.keepaliveS, sessionExpiryS: m.sessionExpiryS, backoffInitialMs: m.reconnectMinMs, backoffMaxMs: m.reconnectMaxMs },
    requests: { maxBytes: config.carrier.maxRequestBytes },
    outbox: { maxEntries: config.carrier.outboxMaxResults },
  });
  return openCarrier(carrierConfig, { ...deps, identity, carrierKeys });
}
