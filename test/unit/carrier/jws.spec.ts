import { describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { SignatureError, verifyResult } from '../../../src/carrier/jws.ts';
import { ResultOutbox } from '../../../src/carrier/outbox.ts';
import { MemoryOutboxStore, MemoryStateStore } from '../../../src/carrier/store.ts';
import { INVALID_SESSION, type ResultDecision } from '../../../src/carrier/protocol.ts';
import { decision, testKeys } from './helpers.ts';

const device = await testKeys();
const other = await testKeys();


function outbox(maxEntries = 10) {
  return new ResultOutbox({
    deviceId: 'dev-1', identity: device, store: new MemoryOutboxStore(), state: new MemoryStateStore(),
    agentVersion: '0.1.0', modelsHash: 'abc', maxEntries, now: () => 0,
  });
}

describe('result signing and the outbox', () => {
  it('signs an EdDSA JWS with the device kid that verifies back to the full payload', async () => {
    const entry = await outbox().submit(decision('s-1'));
    expect(decodeProtectedHeader(entry.jws)).toEqual({ alg: 'EdDSA', kid: device.kid, typ: 'regterm-result+jws' });
    const { payload } = await verifyResult(entry.jws, device.publicKey);
    expect(payload).toEqual({ ...decision('s-1'), v: 1, deviceId: 'dev-1', seq: 1, models: 'abc', agent: '0.1.0' });
  });

  it('fails verification with another key and on a tampered payload', async () => {
    const { jws } = await outbox().submit(decision('s-1'));
    await expect(verifyResult(jws, other.publicKey)).rejects.toThrow(SignatureError);
    const [h, p, s] = jws.split('.');
    const forged = Buffer.from(Buffer.from(p!, 'base64url').toString().replace('"match"', '"no_match"')).toString('base64url');
    await expect(verifyResult(`${h}.${forged}.${s}`, device.publicKey)).rejects.toThrow(SignatureError);
  });

  it('submitting the same session again returns the same bytes and seq', async () => {
    const box = outbox();
    const a = await box.submit(decision('s-1'));
    const b = await box.submit({ ...decision('s-1'), decision: 'no_match' });
    expect(b).toEqual(a);
    expect((await box.submit(decision('s-2'))).seq).toBeGreaterThan(a.seq);
  });

  it('refuses new sessions at the cap but still accepts results up to the hard limit', async () => {
    const box = outbox(2);
    await box.submit(decision('s-1'));
    expect(await box.hasRoom()).toBe(true);
    await box.submit(decision('s-2'));
    expect(await box.hasRoom()).toBe(false);
    await expect(box.submit(decision('s-3'))).resolves.toMatchObject({ sessionId: 's-3' });
  });

  it('signs a rejection addressed to the invalid-session level, which no request can claim', async () => {
    const { payload } = await outbox().sign({ ...decision('x'), sessionId: INVALID_SESSION, nonce: '', decision: 'rejected',
      decidedBy: 'request', reason: 'malformed' });
    expect(payload).toMatchObject({ sessionId: INVALID_SESSION, reason: 'malformed', seq: 1 });
  });

  it('carries the session engine\'s reason and phase timings', async () => {
    const { payload } = await outbox().sign({ ...decision('s-9'), decision: 'liveness_failed', decidedBy: 'continuity',
      reason: 'second_face', timings: { quality: 1200, challenges: 9100, total: 11000 } });
    expect(payload).toMatchObject({ reason: 'second_face', timings: { total: 11000 } });
  });

  it('rejects a payload carrying anything beyond the schema (no room for biometrics)', async () => {
    await expect(outbox().submit({ ...decision('s-1'), embedding: [0.1] } as ResultDecision)).rejects.toThrow();
  });
});
