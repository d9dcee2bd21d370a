import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { CompactSign } from 'jose';
import { signJson, verifyResult } from '../../../src/carrier/jws.ts';
import { readPublicKey } from '../../../src/carrier/keys.ts';
import { openCarrier, type OpenCarrier } from '../../../src/carrier/open.ts';
import { INVALID_SESSION, type ResultPayload, type SessionRequest } from '../../../src/carrier/protocol.ts';
import { carrierConfigSchema } from '../../../src/carrier/config.ts';
import { createLogger } from '../../../src/lib/logger.ts';
import { LogSink, REFERENCE, decision, testKeys } from '../../unit/carrier/helpers.ts';
import { deviceConfig } from './helpers/device.ts';
import { useBrokerRig } from './helpers/broker-rig.ts';
import { recordAttack } from '../../attacks/table.ts';

/**
 * Hostile input over the real broker: a few hundred malformed, oversized, wrongly signed, expired and replayed
 * requests. The terminal never crashes, never starts a session, answers each with a signed rejection carrying the
 * right reason (addressed to its session only when it is that session's one verdict: carrier-signed and first seen;
 * everything else on `_invalid`), and a valid request afterwards still starts a session. (Thousands more go straight through the
 * validator in test/unit/carrier/request-validator.spec.ts.)
 */
const carrierKeys = await testKeys();
const stranger = await testKeys();
const rig = useBrokerRig({ name: 'hostile' });

async function device(deviceId: string, maxEntries?: number, maxBytes = 64 * 1024) {
  const config = deviceConfig(rig.root, deviceId, rig.pki, rig.broker.url, carrierKeys.publicKey);
  const sink = new LogSink();
  const c: OpenCarrier = await openCarrier(carrierConfigSchema.parse({ ...config, requests: { ...config.requests, maxBytes },
    outbox: { maxEntries: maxEntries ?? 1000 } }), { logger: createLogger({ destination: sink }), version: '0.1.0', modelsHash: 'm1' });
  const requests: SessionRequest[] = [];
  c.link.onSessionRequest((r) => requests.push(r));
  await c.link.start(new AbortController().signal);
  await rig.carrier.until(() => c.link.health().connected, 10_000, 'connected');
  const key = readPublicKey(join(rig.root, deviceId, 'identity', 'device.pub.pem'));
  const answers = async (sessionId: string): Promise<ResultPayload[]> =>
    Promise.all((rig.carrier.results.get(sessionId) ?? []).map(async (j) => (await verifyResult(j, key)).payload));
  return { ...c, sink, requests, answers };
}

type Case = { name: string; expected: string; sessionId: string; make: (i: number) => Promise<string | Buffer> };

describe('hostile session requests over mosquitto', () => {
  it('answers a few hundred bad requests with the right signed reason, then still serves a valid one', async () => {
    const d = await device('dev-hostile');
    const topic = 'regterm/v1/dev-hostile/session/request';
    const req = (i: number, over: Parameters<typeof buildSessionRequest>[0] extends infer T ? Partial<T> : never = {}) =>
      buildSessionRequest({ deviceId: 'dev-hostile', reference: REFERENCE, ttlS: 60, sessionId: `h-${i}`, ...over });
    const sign = (r: unknown) => signSessionRequest(r, carrierKeys.privateKey, carrierKeys.kid);
    const replayed = req(0, { sessionId: 'h-orig' });
    await rig.carrier.publish(topic, await sign(replayed));
    await rig.carrier.until(() => d.requests.length === 1, 5000, 'original request');
    const cases: Case[] = [
      { name: 'oversized', expected: 'too_large', sessionId: INVALID_SESSION, make: async () => Buffer.alloc(70 * 1024, 0x41) },
      { name: 'garbage', expected: 'malformed', sessionId: INVALID_SESSION, make: async (i) => Buffer.from(fc.sample(fc.string(), { seed: i, numRuns: 1 })[0] + '\u0000') },
      { name: 'stranger key', expected: 'unknown_key', sessionId: INVALID_SESSION, make: async (i) => signSessionRequest(req(i), stranger.privateKey, stranger.kid) },
      { name: 'forged with pinned kid', expected: 'bad_signature', sessionId: INVALID_SESSION, make: async (i) => signSessionRequest(req(i), stranger.privateKey, carrierKeys.kid) },
      { name: 'expired', expected: 'expired', sessionId: INVALID_SESSION, make: async (i) => sign(req(i, { now: Date.now() - 3_600_000 })) },
      { name: 'unknown field', expected: 'schema', sessionId: 'h-', make: async (i) => sign({ ...req(i), image: 'AAAA' }) },
      { name: 'other device', expected: 'wrong_device', sessionId: 'h-', make: async (i) => sign(req(i, { deviceId: 'dev-other' })) },
      { name: 'replay', expected: 'replayed', sessionId: INVALID_SESSION, make: async (i) => sign({ ...replayed, sessionId: `h-${i}` }) },
      { name: 'signed junk', expected: 'schema', sessionId: INVALID_SESSION, make: async (i) => signJson({ junk: i }, carrierKeys.privateKey, carrierKeys.kid) },
    ];
    const perCase = 30;
    const sent: { i: number; c: Case }[] = [];
    for (let k = 0; k < perCase; k++) {
      for (const [ci, c] of cases.entries()) {
        const i = 1000 + k * cases.length + ci;
        await rig.carrier.publish(topic, await c.make(i));
        sent.push({ i, c });
      }
    }
    const perSession = sent.filter((s) => s.c.sessionId === 'h-');
    await rig.carrier.until(() => perSession.every((s) => rig.carrier.results.has(`h-${s.i}`)), 60_000, 'every addressed rejection');
    const invalidCount = sent.length - perSession.length;
    await rig.carrier.until(() => (rig.carrier.results.get(INVALID_SESSION)?.length ?? 0) >= invalidCount, 30_000, 'unaddressed rejections');
    for (const s of perSession) {
      const [answer, ...more] = await d.answers(`h-${s.i}`);
      expect(more, s.c.name).toEqual([]);
      expect(answer, s.c.name).toMatchObject({ decision: 'rejected', reason: s.c.expected, sessionId: `h-${s.i}` });
    }
    const unaddressed = (await d.answers(INVALID_SESSION)).map((p) => p.reason).sort();
    const expectedUnaddressed = sent.filter((s) => s.c.sessionId === INVALID_SESSION).map((s) => s.c.expected).sort();
    expect(unaddressed).toEqual(expectedUnaddressed);
    expect(d.requests).toHaveLength(1);
    expect(d.sink.lines.filter((l) => l.msg === 'session request rejected')).toHaveLength(sent.length);

    // far beyond the limit: the broker drops it (MQTT 5 maximumPacketSize), the link never buffers it
    await rig.carrier.publish(topic, Buffer.alloc(2 * 1024 * 1024, 0x41));
    const good = req(9999, { sessionId: 'h-good' });
    await rig.carrier.publish(topic, await sign(good));
    await rig.carrier.until(() => d.requests.length === 2, 5000, 'valid request after the storm');
    expect(d.requests[1]).toEqual(good);
    expect(d.link.health().connected).toBe(true);
    // requests are handled in order: had the 2 MB one reached the link, it would have been rejected before `good`
    expect(d.sink.lines.filter((l) => l.msg === 'session request rejected')).toHaveLength(sent.length);
    await d.close();
  }, 120_000);

  it('refuses new sessions with outbox_full while undelivered results fill the outbox, and never drops them', async () => {
    const d = await device('dev-full', 2);
    for (const id of ['noack-1', 'noack-2']) await d.link.submitResult(decision(id));
    const req = buildSessionRequest({ deviceId: 'dev-full', reference: REFERENCE, ttlS: 60, sessionId: 'full-req' });
    await rig.carrier.publish('regterm/v1/dev-full/session/request', await signSessionRequest(req, carrierKeys.privateKey, carrierKeys.kid));
    await rig.carrier.until(() => rig.carrier.results.has('full-req'), 5000, 'outbox_full rejection');
    expect((await d.answers('full-req'))[0]).toMatchObject({ decision: 'rejected', reason: 'outbox_full' });
    expect(d.requests).toHaveLength(0);
    expect(await d.outbox.depth()).toBe(2);
    await rig.carrier.publish('regterm/v1/dev-full/session/noack-1/ack', '');
    await rig.carrier.until(() => d.link.health().outboxDepth === 1, 5000, 'manual ack');
    const again = buildSessionRequest({ deviceId: 'dev-full', reference: REFERENCE, ttlS: 60, sessionId: 'full-req-2' });
    await rig.carrier.publish('regterm/v1/dev-full/session/request', await signSessionRequest(again, carrierKeys.privateKey, carrierKeys.kid));
    await rig.carrier.until(() => d.requests.length === 1, 5000, 'accepted once there is room');
    await d.close();
  });
});

describe('requests that once got no answer, over mosquitto', () => {
  it('answers object kids, a 100,000-character kid, an object alg and deep nesting on _invalid, never as the named session, with bounded log lines', async () => {
    const deviceId = 'dev-edge';
    // the default 1 MB request limit, so the 100,000-character kid reaches the validator
    const d = await device(deviceId, undefined, 1024 * 1024);
    const topic = `regterm/v1/${deviceId}/session/request`;
    const named = 'edge-live';
    const body = JSON.stringify(buildSessionRequest({ deviceId, reference: REFERENCE, ttlS: 60, sessionId: named }));
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    const unsigned = (header: string) => `${b64(header)}.${b64(body)}.AAAA`;
    const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    const deepPolicy = await new CompactSign(Buffer.from(body.replace('"policy":{}', `"policy":{"x":${nested(10_000)}}`)))
      .setProtectedHeader({ alg: 'EdDSA', kid: carrierKeys.kid }).sign(carrierKeys.privateKey);
    const cases: { attack: string; expected: string; raws: string[] }[] = [
      { attack: 'unsigned, kid a JSON object', expected: 'unknown_key',
        raws: [{}, { toString: 1 }, { valueOf: 1 }, { toString: 1, valueOf: 1 }, { toString: 'x', valueOf: [] }]
          .map((kid) => unsigned(JSON.stringify({ alg: 'EdDSA', kid }))) },
      { attack: 'unsigned, kid of 100,000 characters', expected: 'unknown_key', raws: [unsigned(JSON.stringify({ alg: 'EdDSA', kid: 'k'.repeat(100_000) }))] },
      { attack: 'unsigned, alg a JSON object', expected: 'bad_signature',
        raws: [unsigned(JSON.stringify({ alg: { toString: 1, valueOf: 1 }, kid: carrierKeys.kid }))] },
      { attack: 'unsigned, header nested 10,000 deep', expected: 'malformed',
        raws: [unsigned(`{"alg":"EdDSA","kid":"${carrierKeys.kid}","x":${nested(10_000)}}`)] },
      { attack: 'carrier-signed, policy nested 10,000 deep', expected: 'malformed', raws: [deepPolicy] },
    ];
    for (const c of cases) for (const raw of c.raws) await rig.carrier.publish(topic, raw);
    const total = cases.reduce((n, c) => n + c.raws.length, 0);
    const invalidTopic = `regterm/v1/${deviceId}/session/${INVALID_SESSION}/result`;
    const key = readPublicKey(join(rig.root, deviceId, 'identity', 'device.pub.pem'));
    const answered = () => rig.carrier.messages.filter((m) => m.topic === invalidTopic);
    await rig.carrier.until(() => answered().length >= total, 15_000, `${total} answers on ${INVALID_SESSION}`).catch(() => undefined);
    const reasons = await Promise.all(answered().map(async (m) => (await verifyResult(m.payload, key)).payload.reason));
    let at = 0;
    for (const c of cases) {
      const got = reasons.slice(at, at + c.raws.length);
      at += c.raws.length;
      const observed = got.length === c.raws.length && got.every((r) => r === c.expected)
        ? `${c.expected} on ${INVALID_SESSION}` : `answers: ${got.join(', ') || 'none'} of ${c.raws.length}`;
      recordAttack({ area: 'request', attack: `${c.attack} (over MQTT)`, expected: `${c.expected} on ${INVALID_SESSION}`, observed });
    }
    const onNamed = rig.carrier.messages.filter((m) => m.topic.includes(`/session/${named}/`));
    recordAttack({ area: 'request', attack: `these ${total} requests name a session id in their payload (over MQTT)`,
      expected: 'no message on its topics', observed: onNamed.length === 0 ? 'no message on its topics' : `${onNamed.length} messages on its topics` });
    expect(reasons).toEqual(cases.flatMap((c) => c.raws.map(() => c.expected)));
    expect(onNamed).toEqual([]);
    expect(d.requests).toEqual([]);

    const longest = Math.max(...d.sink.lines.map((l) => Buffer.byteLength(JSON.stringify(l))));
    recordAttack({ area: 'request', attack: 'kid of 100,000 characters, longest log line (over MQTT)', expected: 'log lines <= 2048 B',
      observed: longest <= 2048 ? 'log lines <= 2048 B' : `a ${longest} B log line` });
    expect(longest).toBeLessThanOrEqual(2048);

    const good = buildSessionRequest({ deviceId, reference: REFERENCE, ttlS: 60, sessionId: 'edge-good' });
    await rig.carrier.publish(topic, await signSessionRequest(good, carrierKeys.privateKey, carrierKeys.kid));
    await rig.carrier.until(() => d.requests.length === 1, 5000, 'a valid request afterwards');
    await d.close();
  }, 60_000);
});
