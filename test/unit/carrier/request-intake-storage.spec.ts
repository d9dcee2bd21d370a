import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { verifyResult } from '../../../src/carrier/jws.ts';
import { ResultOutbox } from '../../../src/carrier/outbox.ts';
import { INVALID_SESSION, type ResultPayload } from '../../../src/carrier/protocol.ts';
import { RequestIntake } from '../../../src/carrier/request-intake.ts';
import { RequestValidator } from '../../../src/carrier/request-validator.ts';
import { StateStorageError } from '../../../src/carrier/sqlite-store.ts';
import { MemoryOutboxStore, MemoryStateStore, type AcceptedSession } from '../../../src/carrier/store.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { REFERENCE, testKeys } from './helpers.ts';

/**
 * Storage failures at admission are answered `storage_full` (the SQLite store throws StateStorageError on a full
 * disk; the real file system case is test/integration/agent/storage.spec.ts). An accepted session is recorded before
 * the listeners see it.
 */
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const carrier = await testKeys();
const device = await testKeys();
const full = () => new StateStorageError('disk full: cannot write state /var/lib/regterm/state.db');

class FullStateStore extends MemoryStateStore {
  override async claimNonce(): Promise<boolean> { throw full(); }
}

class FullOutboxStore extends MemoryOutboxStore {
  override async accept(_record: AcceptedSession): Promise<void> { throw full(); }
}

function intake(state: MemoryStateStore, store: MemoryOutboxStore) {
  const outbox = new ResultOutbox({ deviceId: 'dev-1', identity: device, store, state: new MemoryStateStore(),
    agentVersion: '0.1.0', modelsHash: 'm', maxEntries: 10, now: () => NOW });
  const validator = new RequestValidator({ deviceId: 'dev-1', carrierKeys: new Map([[carrier.kid, carrier.publicKey]]),
    state, maxBytes: 1 << 20, maxTtlMs: 600_000, clockSkewMs: 30_000, now: () => NOW });
  const answers: { topicSession: string; payload: ResultPayload }[] = [];
  const accepted: string[] = [];
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const i = new RequestIntake({ validator, outbox, logger: createLogger({ destination: quiet }), now: () => NOW,
    publishRejection: async (topicSession, jws) => {
      answers.push({ topicSession, payload: (await verifyResult(jws, device.publicKey)).payload });
    } });
  i.onSessionRequest((r) => accepted.push(r.sessionId));
  const send = async (sessionId: string): Promise<void> => {
    const request = buildSessionRequest({ deviceId: 'dev-1', reference: REFERENCE, ttlS: 120, sessionId, now: NOW });
    i.enqueue(Buffer.from(await signSessionRequest(request, carrier.privateKey, carrier.kid)));
    for (let t = 0; answers.length + accepted.length === 0; t++) {
      if (t > 200) throw new Error('request got no answer');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { send, answers, accepted };
}

describe('RequestIntake on a full disk', () => {
  it('a nonce that cannot be claimed: rejected/storage_full on the invalid-session level', async () => {
    const t = intake(new FullStateStore(), new MemoryOutboxStore());
    await t.send('s-claim');
    expect(t.accepted).toEqual([]);
    expect(t.answers).toEqual([{ topicSession: INVALID_SESSION,
      payload: expect.objectContaining({ decision: 'rejected', reason: 'storage_full', sessionId: INVALID_SESSION }) }]);
  });

  it('a claimed request that cannot be recorded as accepted: storage_full on its own session, no session starts', async () => {
    const t = intake(new MemoryStateStore(), new FullOutboxStore());
    await t.send('s-accept');
    expect(t.accepted).toEqual([]);
    expect(t.answers).toEqual([{ topicSession: 's-accept',
      payload: expect.objectContaining({ decision: 'rejected', reason: 'storage_full', sessionId: 's-accept' }) }]);
  });

  it('an admitted session is recorded as accepted before the listeners see it', async () => {
    const store = new MemoryOutboxStore();
    const t = intake(new MemoryStateStore(), store);
    await t.send('s-ok');
    expect(t.accepted).toEqual(['s-ok']);
    expect(await store.accepted()).toEqual([expect.objectContaining({ sessionId: 's-ok', acceptedAt: NOW })]);
  });
});
