import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { keyId } from '../../../src/carrier/keys.ts';

export interface TestKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
}

export async function testKeys(): Promise<TestKeys> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, kid: await keyId(publicKey) };
}

/** A tiny valid base64 "photo": the validator only checks the envelope, never decodes images. */
export const REFERENCE = { format: 'jpeg' as const, data: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]) };
