import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { verifyResult } from '../../../src/carrier/jws.ts';
import { ResultOutbox } from '../../../src/carrier/outbox.ts';
import { INVALID_SESSION, type ResultPayload, type SessionRequest } from '../../../src/carrier/protocol.ts';
import { RequestIntake } from '../../../src/carrier/request-intake.ts';
import { RequestValidator } from '../../../src/carrier/request-validator.ts';
import { MemoryOutboxStore, MemoryStateStore, type StateStore } from '../../../src/carrier/store.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { recordAttack } from '../../attacks/table.ts';
import { REFERENCE, decision, testKeys } from './helpers.ts';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const carrier = await testKeys();
const device = await testKeys();
const LOG_LINE_BOUND = 2048;

/** A pino destination that keeps the raw lines, to measure them. */
class RawLines extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    cb();
  }
}

/** The intake with real parts: validator, outbox (memory stores) and a logger; answers are verified and kept. */
function intake(validatorState: StateStore = new MemoryStateStore()) {
  const log = new RawLines();
  const outbox = new ResultOutbox({ deviceId: 'dev-1', identity: device, store: new MemoryOutboxStore(), state: new MemoryStateStore(),
    agentVersion: '0.1.0', modelsHash: 'm', maxEntries: 10, now: () => NOW });
  const validator = new RequestValidator({ deviceId: 'dev-1', carrierKeys: new Map([[carrier.kid, carrier.publicKey]]),
    state: validatorState, maxBytes: 1 << 20, maxTtlMs: 600_000, clockSkewMs: 30_000, now: () => NOW });
  const answers: { topicSession: string; payload: ResultPayload }[] = [];
  const accepted: SessionRequest[] = [];
  const i = new RequestIntake({ validator, outbox, logger: createLogger({ destination: log }), now: () => NOW,
    publishRejection: async (topicSession, jws) => {
      answers.push({ topicSession, payload: (await verifyResult(jws, device.publicKey)).payload });
    } });
  i.onSessionRequest((r) => accepted.push(r));
  /** handles `raw` and resolves once it was answered or accepted */
  const send = async (raw: string | Buffer): Promise<void> => {
    const before = answers.length + accepted.length;
    i.enqueue(Buffer.from(raw));
    for (let t = 0; answers.length + accepted.length === before; t++) {
      if (t > 200) throw new Error('request got no answer');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { send, answers, accepted, log, outbox };
}

const request = (sessionId: string) => buildSessionRequest({ deviceId: 'dev-1', reference: REFERENCE, ttlS: 120, sessionId, now: NOW });
const unsignedWithHeader = (header: object, payload: object) =>
  `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.AAAA`;

describe('RequestIntake', () => {
  it('answers every unsigned request whose kid is an object (no String() of untrusted objects)', async () => {
    const t = intake();
    for (let k = 0; k < 5; k++) await t.send(unsignedWithHeader({ alg: 'EdDSA', kid: { toString: k, valueOf: k } }, request(`s-${k}`)));
    const observed = t.answers.map((a) => `${a.payload.reason} on ${a.topicSession}`);
    recordAttack({ area: 'request', attack: '5 unsigned requests, kid a JSON object', expected: `5 x unknown_key on ${INVALID_SESSION}`,
      observed: `${observed.length} x ${[...new Set(observed)].join(', ')}` });
    expect(observed).toEqual(Array(5).fill(`unknown_key on ${INVALID_SESSION}`));
    expect(t.answers.every((a) => a.payload.sessionId === INVALID_SESSION && a.payload.nonce === '')).toBe(true);
  });

  it('a failure inside the intake is still answered: internal_error on the invalid-session level', async () => {
    const broken = new MemoryStateStore();
    await broken.close(); // claimNonce now throws, as a failing database would
    const t = intake(broken);
    await t.send(await signSessionRequest(request('s-fault'), carrier.privateKey, carrier.kid));
    const a = t.answers[0];
    recordAttack({ area: 'request', attack: 'nonce store fails during validation', expected: `rejected/internal_error on ${INVALID_SESSION}`,
      observed: a ? `${a.payload.decision}/${a.payload.reason} on ${a.topicSession}` : 'no answer' });
    expect(t.answers).toHaveLength(1);
    expect(a).toMatchObject({ topicSession: INVALID_SESSION, payload: { decision: 'rejected', reason: 'internal_error', sessionId: INVALID_SESSION, nonce: '' } });
    expect(t.accepted).toEqual([]);
  });

  it('a request for a session whose result is still undelivered is not answered as that session', async () => {
    const t = intake();
    await t.outbox.submit(decision('s-done'));
    const again = request('s-done');
    await t.send(await signSessionRequest(again, carrier.privateKey, carrier.kid));
    expect(t.accepted).toEqual([]);
    expect(t.answers).toEqual([{ topicSession: INVALID_SESSION,
      payload: expect.objectContaining({ reason: 'replayed', sessionId: INVALID_SESSION, nonce: again.nonce }) }]);
  });

  it('signs the failed field into a schema rejection (an additive field), and names no field otherwise', async () => {
    const t = intake();
    const bad = { ...request('s-gif'), reference: { format: 'gif', data: 'AAAA' } };
    await t.send(await signSessionRequest(bad as never, carrier.privateKey, carrier.kid));
    await t.send(await signSessionRequest(request('s-other'), device.privateKey, device.kid));
    expect(t.answers).toEqual([
      { topicSession: 's-gif', payload: expect.objectContaining({ decision: 'rejected', reason: 'schema', field: 'reference.format' }) },
      { topicSession: INVALID_SESSION, payload: expect.not.objectContaining({ field: expect.anything() }) },
    ]);
    expect(t.answers[1]!.payload.reason).toBe('unknown_key');
    expect(t.log.lines.find((l) => l.includes('"reason":"schema"'))).toContain('"field":"reference.format"');
  });

  it('log lines stay bounded after a 100,000-character kid and a 100,000-character schema key', async () => {
    const t = intake();
    await t.send(unsignedWithHeader({ alg: 'EdDSA', kid: 'k'.repeat(100_000) }, request('s-kid')));
    await t.send(await signSessionRequest({ ...request('s-key'), ['x'.repeat(100_000)]: 1 }, carrier.privateKey, carrier.kid));
    const longest = Math.max(...t.log.lines.map((l) => Buffer.byteLength(l)));
    recordAttack({ area: 'request', attack: 'kid of 100,000 characters', expected: `log lines <= ${LOG_LINE_BOUND} B`,
      observed: longest <= LOG_LINE_BOUND ? `log lines <= ${LOG_LINE_BOUND} B` : `a ${longest} B log line` });
    expect(t.log.lines.length).toBeGreaterThanOrEqual(2);
    expect(longest).toBeLessThanOrEqual(LOG_LINE_BOUND);
    expect(t.answers.map((a) => a.payload.reason)).toEqual(['unknown_key', 'schema']);
  });
});
