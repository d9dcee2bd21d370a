import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { carrierConfigSchema, type CarrierConfig, type CarrierConfigInput } from '../../../../src/carrier/config.ts';
import type { TestPki } from './pki.ts';

/** A device's config pointing into `root` (identity, state) with its own client certificate. */
export function deviceConfig(root: string, deviceId: string, pki: TestPki, url: string, carrierPub: KeyObject,
  over: Partial<CarrierConfigInput['mqtt']> = {}): CarrierConfig {
  const dir = join(root, deviceId);
  mkdirSync(dir, { recursive: true });
  const carrierKeyFile = join(dir, 'carrier.pub.pem');
  writeFileSync(carrierKeyFile, carrierPub.export({ format: 'pem', type: 'spki' }));
  const cert = pki.client(deviceId);
  return carrierConfigSchema.parse({
    deviceId, stateDir: join(dir, 'state'), identityDir: join(dir, 'identity'), carrierKeyFiles: [carrierKeyFile],
    mqtt: { url, caFile: pki.ca, certFile: cert.cert, keyFile: cert.key, reconnectMinMs: 100, reconnectMaxMs: 1000,
      resendAfterMs: 2000, connectTimeoutMs: 3000, ...over },
  });
}

