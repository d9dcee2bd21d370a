import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { z } from 'zod';
import { type DeviceIdentity, loadOrCreateIdentity } from './device-key.ts';
import type { Logger } from '../lib/logger.ts';
import type { Timer } from '../lib/clock.ts';
import type { CarrierConfig } from './config.ts';
import type { RejectReason } from './protocol.ts';
import { pinKeys, readPublicKey } from './keys.ts';
import { CarrierLink, type ClientCredentials } from './link.ts';
import { ResultOutbox } from './outbox.ts';
import { RequestValidator } from './request-validator.ts';
import { SqliteState } from './sqlite-store.ts';

/**
 * Composition of the carrier part from a validated config: identity, SQLite state, validator, outbox, link.
 * Nothing here opens a socket: the link connects in start(). A state database that cannot be opened (full disk)
 * does not stop the agent: it is logged, requests are refused with `storage_full`, and it is reopened when it can be. `close()` stops the link and then closes the database
 * (the order matters: the link may still be deleting acks); it is safe after the link was stopped already.
 */
export interface CarrierDeps {
  /** a provisioned identity; default: loaded (or created) in `config.identityDir` */
  identity?: DeviceIdentity;
  /** pinned carrier keys by kid; default: read from `config.carrierKeyFiles` */
  carrierKeys?: Map<string, KeyObject>;
  logger: Logger;
  version: string;
  modelsHash: string;
  inventory?: object;
  isBusy?: () => boolean;
  unavailable?: () => RejectReason | undefined;
  /** the client certificate and key per connection attempt (certificate renewal); default: the config's files */
  credentials?: ClientCredentials;
  /** the session engine's policy schema, so bad policies are rejected before a session starts */
  policySchema?: z.ZodType;
  timer?: Timer;
  now?: () => number;
  random?: () => number;
}

export interface OpenCarrier {
  link: CarrierLink;
  outbox: ResultOutbox;
  kid: string;
  /** why the state cannot be written right now (disk full, database unavailable); undefined when it can */
  storageError(): string | undefined;
  close(): Promise<void>;
}

export async function openCarrier(config: CarrierConfig, deps: CarrierDeps): Promise<OpenCarrier> {
  const now = deps.now ?? Date.now;
  const identity = deps.identity ?? (await loadOrCreateIdentity(config.identityDir));
  const carrierKeys = deps.carrierKeys ?? (await pinKeys(config.carrierKeyFiles.map(readPublicKey)));
  const db = SqliteState.open({ path: join(config.stateDir, 'state.db'), now });
  const log = deps.logger.child({ component: 'state' });
  if (db.recovery) log.error({ ...db.recovery }, 'state database was corrupt: moved aside, readable rows recovered');
  if (db.storageError) {
    log.error({ err: db.storageError.message }, 'state database unavailable: sessions are refused (storage_full) until it opens');
  }
  const outbox = new ResultOutbox({
    deviceId: config.deviceId, identity, store: db.outbox, state: db.state, agentVersion: deps.version,
    modelsHash: deps.modelsHash, maxEntries: config.outbox.maxEntries, now,
  });
  const validator = new RequestValidator({
    deviceId: config.deviceId, carrierKeys, state: db.state, maxBytes: config.requests.maxBytes,
    maxTtlMs: config.requests.maxTtlS * 1000, clockSkewMs: config.requests.clockSkewS * 1000, now,
    policySchema: deps.policySchema,
  });
  const m = config.mqtt;
  const link = new CarrierLink({
    deviceId: config.deviceId, url: m.url, protocolVersion: m.protocolVersion, clientId: m.clientId,
    tls: m.caFile && m.certFile && m.keyFile
      ? { caFile: m.caFile, certFile: m.certFile, keyFile: m.keyFile, servername: m.servername } : undefined,
    credentials: deps.credentials,
    keepaliveS: m.keepaliveS, sessionExpiryS: m.sessionExpiryS, connectTimeoutMs: m.connectTimeoutMs,
    backoff: { initialMs: m.reconnectMinMs, maxMs: m.reconnectMaxMs }, resendAfterMs: m.resendAfterMs,
    maxPacketBytes: 2 * config.requests.maxBytes + 64 * 1024,
    version: deps.version, modelsHash: deps.modelsHash, inventory: deps.inventory, validator, outbox, isBusy: deps.isBusy, unavailable: deps.unavailable,
    logger: deps.logger, timer: deps.timer, random: deps.random, now,
  });
  return {
    link, outbox, kid: identity.kid, storageError: () => db.storageError?.message,
    close: async () => {
      try {
        await link.stop();
      } finally {
        db.close();
      }
    },
  };
}
