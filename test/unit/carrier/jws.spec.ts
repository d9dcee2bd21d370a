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

  it('a result whose commit failed is retried with the same signed bytes, never re-signed', async () => {
    const store = new MemoryOutboxStore();
    const box = new ResultOutbox({ deviceId: 'dev-1', identity: device, store, state: new MemoryStateStore(),
      agentVersion: '0.1.0', modelsHash: 'abc', maxEntries: 10, now: () => 0 });
    const put = store.put.bind(store);
    const tried: string[] = [];
    store.put = async (e) => { tried.push(e.jws); if (tried.length < 3) throw new Error('disk full'); return put(e); };
    await expect(box.submit(decision('s-1'))).rejects.toThrow('disk full');
    await expect(box.submit(decision('s-1'))).rejects.toThrow('disk full');
    const entry = await box.submit(decision('s-1'));
    expect(new Set(tried)).toEqual(new Set([entry.jws]));
    expect(entry.seq).toBe(1);
  });

  it('signs `interrupted` (decidedBy restart) for sessions a previous run accepted, not for its own', async () => {
    const store = new MemoryOutboxStore();
    await store.accept({ sessionId: 'old-1', nonce: 'n-old-1', acceptedAt: Date.UTC(2026, 0, 1) });
    const box = new ResultOutbox({ deviceId: 'dev-1', identity: device, store, state: new MemoryStateStore(),
      agentVersion: '0.1.0', modelsHash: 'abc', maxEntries: 10, now: () => Date.UTC(2026, 0, 1, 0, 1) });
    await box.accept('live-1', 'n-live-1');
    const recovered = await box.recoverInterrupted();
    expect(recovered.map((e) => e.sessionId)).toEqual(['old-1']);
    const { payload } = await verifyResult(recovered[0]!.jws, device.publicKey);
    expect(payload).toMatchObject({ sessionId: 'old-1', nonce: 'n-old-1', decision: 'interrupted', decidedBy: 'restart',
      startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z' });
    expect((await store.accepted()).map((r) => r.sessionId)).toEqual(['live-1']);
    expect(await box.recoverInterrupted()).toEqual([]);
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
