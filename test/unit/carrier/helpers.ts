import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Writable } from 'node:stream';
import { keyId } from '../../../src/carrier/keys.ts';
import type { ResultDecision } from '../../../src/carrier/protocol.ts';

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

/** A decided result as the session engine would hand it over. */
export const decision = (sessionId: string): ResultDecision => ({
  sessionId, nonce: 'nonce-0123456789abcdef', decision: 'match', decidedBy: 'matcher',
  scores: { match: 0.71, antispoof: 0.93 }, thresholds: { match: 0.42, antispoof: 0.5 },
  challenges: [{ type: 'blink', passed: true, ms: 812 }],
  startedAt: '2026-11-28T12:00:00.000Z', finishedAt: '2026-11-28T12:00:09.000Z',
});

/** A pino destination that keeps parsed JSON lines, so tests assert on logs (pino test/helper.js `sink()`). */
export class LogSink extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    cb();
  }
}
