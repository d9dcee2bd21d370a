import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyId } from '../../../src/carrier/keys.ts';
import { z } from 'zod';
import { carrierKeyFiles, openCarrierPart, trustedCarrierKeys } from '../../../src/compose/carrier-from-config.ts';
import { loadSigningKeyFile } from '../../../src/carrier/device-key.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { createLogger } from '../../../src/lib/logger.ts';

const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'regterm-carrier-config-'));
  dirs.push(d);
  return d;
};
afterAll(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('carrier part: keys from the agent config', () => {
  it('loads the device signing key file and derives its kid', async () => {
    const d = dir();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const file = join(d, 'device-key.pem');
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const identity = await loadSigningKeyFile(file);
    expect(identity.kid).toBe(await keyId(publicKey));
  });

  it('refuses a signing key others can read, a missing one and a non-Ed25519 one, naming the file', async () => {
    const d = dir();
    const file = join(d, 'device-key.pem');
    writeFileSync(file, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
    chmodSync(file, 0o644);
    await expect(loadSigningKeyFile(file)).rejects.toThrow(`device key ${file} has mode 644; it must be 0600`);
    await expect(loadSigningKeyFile(join(d, 'absent.pem'))).rejects.toThrow(/cannot read device key .*absent\.pem/);
    const ec = join(d, 'ec.pem');
    writeFileSync(ec, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    await expect(loadSigningKeyFile(ec)).rejects.toThrow(`device key ${ec} is not ed25519`);
  });

  it('lists every PEM in the carrier key directory', () => {
    const d = dir();
    mkdirSync(join(d, 'keys'));
    expect(carrierKeyFiles(join(d, 'keys'))).toEqual([]);
    writeFileSync(join(d, 'keys', 'b.pem'), '');
    writeFileSync(join(d, 'keys', 'a.pem'), '');
    writeFileSync(join(d, 'keys', 'README'), '');
    expect(carrierKeyFiles(join(d, 'keys'))).toEqual([join(d, 'keys', 'a.pem'), join(d, 'keys', 'b.pem')]);
    expect(() => carrierKeyFiles(join(d, 'absent'))).toThrow(/cannot read carrier keys/);
  });
});

describe('carrier part: the trusted carrier keys (provisioned, remote, revoked)', () => {
  const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'spki' }) as string;
  const carrier = (keysDir: string, keys: Record<string, string> = {}, revokedKids: string[] = []) =>
    ({ keysDir, keys, revokedKids, maxRequestBytes: 1 << 20, drainBudgetMs: 0, outboxMaxResults: 10 });

  it('trusts the provisioned keys plus the remote ones, less the revoked kids', async () => {
    const d = dir();
    mkdirSync(join(d, 'keys'));
    const provisioned = generateKeyPairSync('ed25519').publicKey;
    const added = generateKeyPairSync('ed25519').publicKey;
    writeFileSync(join(d, 'keys', 'p.pem'), pem(provisioned));
    const p = await keyId(provisioned);
    const a = await keyId(added);
    expect([...(await trustedCarrierKeys(carrier(join(d, 'keys')))).keys()]).toEqual([p]);
    expect([...(await trustedCarrierKeys(carrier(join(d, 'keys'), { [a]: pem(added) }))).keys()].sort()).toEqual([p, a].sort());
    expect([...(await trustedCarrierKeys(carrier(join(d, 'keys'), { [a]: pem(added) }, [p]))).keys()]).toEqual([a]);
  });

  it('refuses a remote key under another kid, a non-Ed25519 key, and a set with no key left', async () => {
    const d = dir();
    mkdirSync(join(d, 'keys'));
    const key = generateKeyPairSync('ed25519').publicKey;
    const other = await keyId(generateKeyPairSync('ed25519').publicKey);
    await expect(trustedCarrierKeys(carrier(join(d, 'keys'), { [other]: pem(key) }))).rejects.toThrow(/not the key's thumbprint/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    await expect(trustedCarrierKeys(carrier(join(d, 'keys'), { [other]: pem(ec) }))).rejects.toThrow(/not an Ed25519 key/);
    await expect(trustedCarrierKeys(carrier(join(d, 'keys')))).rejects.toThrow(/no trusted carrier key/);
    const kid = await keyId(key);
    await expect(trustedCarrierKeys(carrier(join(d, 'keys'), { [kid]: pem(key) }, [kid]))).rejects.toThrow(/no trusted carrier key/);
  });
});

describe('carrier part: TLS files', () => {
  it('refuses a client certificate without the broker CA before opening anything', async () => {
    const d = dir();
    const config = loadConfig({ env: {}, overrides: {
      stateDir: join(d, 'state'), 'mqtt.certFile': join(d, 'device.crt'), 'mqtt.keyFile': join(d, 'device.key'),
    } });
    await expect(openCarrierPart(config, { logger: createLogger({ level: 'silent' }), version: '0', modelsHash: 'm', isBusy: () => false, policySchema: z.object({}) }))
      .rejects.toThrow('mqtt.caFile, mqtt.certFile and mqtt.keyFile go together (the broker CA is pinned)');
    expect(existsSync(join(d, 'state'))).toBe(false);
  });
});
