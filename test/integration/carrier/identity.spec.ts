import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyId } from '../../../src/carrier/keys.ts';
import { createIdentity, loadIdentity, loadOrCreateIdentity, PRIVATE_KEY_FILE } from '../../../src/carrier/device-key.ts';

describe('device identity', () => {
  let dir = '';
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'regterm-id-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates an Ed25519 key with mode 0600 and a kid derived from the public key', async () => {
    const id = await createIdentity(dir);
    expect(statSync(join(dir, PRIVATE_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(id.privateKey.asymmetricKeyType).toBe('ed25519');
    expect(id.kid).toBe(await keyId(id.publicKey));
    expect(id.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('loads the same identity after a restart and never overwrites it', async () => {
    const a = await loadOrCreateIdentity(dir);
    const b = await loadOrCreateIdentity(dir);
    expect(b.kid).toBe(a.kid);
    await expect(createIdentity(dir)).rejects.toThrow(/refusing to overwrite/);
  });

  it('refuses a private key readable by group or others', async () => {
    await createIdentity(dir);
    chmodSync(join(dir, PRIVATE_KEY_FILE), 0o640);
    await expect(loadIdentity(dir)).rejects.toThrow(/must be 0600/);
  });
});
