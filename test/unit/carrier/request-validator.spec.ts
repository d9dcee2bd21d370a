import fc from 'fast-check';
import { CompactSign } from 'jose';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { signJson } from '../../../src/carrier/jws.ts';
import { INVALID_SESSION, REJECT_REASONS } from '../../../src/carrier/protocol.ts';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from '../../../src/carrier/carrier-jws.ts';
import { RequestValidator, REQUEST_VALIDATOR_DEFAULTS, type Validation } from '../../../src/carrier/request-validator.ts';
import { requestFields } from '../../../src/carrier/request-fields.ts';
import { policySchema } from '../../../src/session/policy.ts';
import { MemoryStateStore } from '../../../src/carrier/store.ts';
import { recordAttack } from '../../attacks/table.ts';
import { REFERENCE, testKeys } from './helpers.ts';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const carrier = await testKeys();
const stranger = await testKeys();

function validator(maxBytes = REQUEST_VALIDATOR_DEFAULTS.maxBytes) {
  return new RequestValidator({
    deviceId: 'dev-1', carrierKeys: new Map([[carrier.kid, carrier.publicKey]]), state: new MemoryStateStore(),
    maxBytes, maxTtlMs: REQUEST_VALIDATOR_DEFAULTS.maxTtlMs, clockSkewMs: 30_000, now: () => NOW,
  });
}

const draft = (over: Partial<Parameters<typeof buildSessionRequest>[0]> = {}) =>
  buildSessionRequest({ deviceId: 'dev-1', reference: REFERENCE, ttlS: 120, now: NOW, ...over });
const bytes = (s: string) => Buffer.from(s);

describe('RequestValidator', () => {
  it('accepts a valid request and returns the parsed payload', async () => {
    const req = draft({ sessionId: 's-1' });
    const v = await validator().validate(bytes(await signSessionRequest(req, carrier.privateKey, carrier.kid)));
    expect(v).toEqual({ ok: true, request: req });
  });

  it.each([
    ['too_large', async (): Promise<string> => 'x'.repeat(2000), 1000],
    ['malformed', async (): Promise<string> => 'not a jws'],
    ['unknown_key', async (): Promise<string> => signSessionRequest(draft(), stranger.privateKey, stranger.kid)],
    ['bad_signature', async (): Promise<string> => signSessionRequest(draft(), stranger.privateKey, carrier.kid)],
    ['schema', async (): Promise<string> => signSessionRequest({ ...draft(), extra: 1 }, carrier.privateKey, carrier.kid)],
    ['schema', async (): Promise<string> => signSessionRequest({ ...draft(), reference: { format: 'gif', data: 'AAAA' } }, carrier.privateKey, carrier.kid)],
    ['wrong_device', async (): Promise<string> => signSessionRequest(draft({ deviceId: 'dev-2' }), carrier.privateKey, carrier.kid)],
    ['expired', async (): Promise<string> => signSessionRequest(draft({ now: NOW - 600_000, ttlS: 60 }), carrier.privateKey, carrier.kid)],
    ['not_yet_valid', async (): Promise<string> => signSessionRequest(draft({ now: NOW + 600_000 }), carrier.privateKey, carrier.kid)],
    ['ttl_too_long', async (): Promise<string> => signSessionRequest(draft({ ttlS: 3600 }), carrier.privateKey, carrier.kid)],
  ] as const)('rejects with %s', async (reason, make, maxBytes?: number) => {
    const v = await validator(maxBytes).validate(bytes(await make()));
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toBe(reason);
  });

  describe('a schema rejection names the field that failed, from a fixed vocabulary and never a value', () => {
    const withPolicySchema = () => new RequestValidator({ deviceId: 'dev-1', carrierKeys: new Map([[carrier.kid, carrier.publicKey]]),
      state: new MemoryStateStore(), maxBytes: 1 << 20, maxTtlMs: 600_000, clockSkewMs: 30_000, now: () => NOW, policySchema });
    const signed = (payload: object) => signSessionRequest(payload as never, carrier.privateKey, carrier.kid);
    const { v: _v, ...withoutV } = draft();
    it.each([
      ['reference.format', () => ({ ...draft(), reference: { format: 'gif', data: 'AAAA' } })],
      ['reference.data', () => ({ ...draft(), reference: { format: 'jpeg', data: 'not base64!' } })],
      ['reference', () => ({ ...draft(), reference: { ...draft().reference, secret: 'x' } })],
      ['v', () => withoutV],
      ['deviceId', () => ({ ...draft(), deviceId: 'a/b' })],
      ['issuedAt', () => ({ ...draft(), issuedAt: 'yesterday' })],
      ['nonce', () => ({ ...draft(), nonce: 'short' })],
      ['sessionId', () => ({ ...draft(), sessionId: 'has space' })],
      ['request', () => ({ ...draft(), ['made-up-key-with-value']: 1 })],
      ['policy.challenges.count', () => ({ ...draft(), policy: { challenges: { count: 99 } } })],
      ['policy.challenges.set', () => ({ ...draft(), policy: { challenges: { set: ['blink', 'somersault'] } } })],
      ['policy.turn.prompted', () => ({ ...draft(), policy: { turn: { prompted: { made_up_threshold: 1 } } } })],
      ['policy', () => ({ ...draft(), policy: { skipLiveness: true } })],
    ] as const)('%s', async (field, make) => {
      const v = await withPolicySchema().validate(bytes(await signed(make())));
      expect(v).toMatchObject({ ok: false, reason: 'schema', field });
      if (!v.ok) expect(requestFields(policySchema)).toContain(v.field);
    });
  });

  it('rejects a replayed nonce, even with a new sessionId, on the invalid-session level with the (verified) nonce', async () => {
    const val = validator();
    const first = draft({ sessionId: 's-1' });
    expect((await val.validate(bytes(await signSessionRequest(first, carrier.privateKey, carrier.kid)))).ok).toBe(true);
    const replay = await val.validate(bytes(await signSessionRequest({ ...first, sessionId: 's-2' }, carrier.privateKey, carrier.kid)));
    expect(replay).toMatchObject({ ok: false, reason: 'replayed', sessionId: INVALID_SESSION, nonce: first.nonce });
  });

  it('addresses rejections of unreadable requests to the invalid-session topic', async () => {
    const v = await validator().validate(bytes('a.b.c'));
    expect(v).toMatchObject({ ok: false, sessionId: INVALID_SESSION });
  });

  it('key rotation: requests signed with either pinned key pass; after unpinning the old key they fail', async () => {
    const next = await testKeys();
    const both = new RequestValidator({ deviceId: 'dev-1', state: new MemoryStateStore(), now: () => NOW, clockSkewMs: 30_000,
      maxBytes: 1 << 20, maxTtlMs: 600_000, carrierKeys: new Map([[carrier.kid, carrier.publicKey], [next.kid, next.publicKey]]) });
    expect((await both.validate(bytes(await signSessionRequest(draft(), carrier.privateKey, carrier.kid)))).ok).toBe(true);
    expect((await both.validate(bytes(await signSessionRequest(draft(), next.privateKey, next.kid)))).ok).toBe(true);
    const rotated = new RequestValidator({ deviceId: 'dev-1', state: new MemoryStateStore(), now: () => NOW, clockSkewMs: 30_000,
      maxBytes: 1 << 20, maxTtlMs: 600_000, carrierKeys: new Map([[next.kid, next.publicKey]]) });
    expect(await rotated.validate(bytes(await signSessionRequest(draft(), carrier.privateKey, carrier.kid))))
      .toMatchObject({ ok: false, reason: 'unknown_key' });
  });

  it('checks the policy with the session engine\'s schema when one is given', async () => {
    const policySchema = z.strictObject({ challenges: z.strictObject({ count: z.number().int().min(1).max(8) }).partial() }).partial();
    const val = new RequestValidator({ deviceId: 'dev-1', state: new MemoryStateStore(), now: () => NOW, clockSkewMs: 30_000,
      maxBytes: 1 << 20, maxTtlMs: 600_000, carrierKeys: new Map([[carrier.kid, carrier.publicKey]]), policySchema });
    const check = async (policy: Record<string, never> | object) =>
      val.validate(bytes(await signSessionRequest(draft({ policy: policy as never }), carrier.privateKey, carrier.kid)));
    expect((await check({ challenges: { count: 3 } })).ok).toBe(true);
    expect(await check({ challenges: { count: 99 } })).toMatchObject({ ok: false, reason: 'schema' });
    expect(await check({ skipLiveness: true })).toMatchObject({ ok: false, reason: 'schema' });
  });

  it('rejects alg other than EdDSA even with a pinned kid', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid: carrier.kid })).toString('base64url');
    const body = Buffer.from(JSON.stringify(draft())).toString('base64url');
    const v = await validator().validate(bytes(`${header}.${body}.AAAA`));
    expect(v).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('property: arbitrary bytes never throw and never validate', async () => {
    const val = validator(4096);
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 6000 }), async (raw) => {
      const v = await val.validate(raw);
      expect(v.ok).toBe(false);
      if (!v.ok) expect(REJECT_REASONS).toContain(v.reason);
    }), { numRuns: 2000 });
  });

  it('property: mutated valid requests (bit flips, truncation, re-signing foreign JSON) are all rejected', async () => {
    const val = validator();
    const valid = await signSessionRequest(draft({ sessionId: 's-base' }), carrier.privateKey, carrier.kid);
    await fc.assert(fc.asyncProperty(
      fc.oneof(
        fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 127 })).map(([i, x]) =>
          valid.slice(0, i) + String.fromCharCode(valid.charCodeAt(i) ^ x) + valid.slice(i + 1)),
        fc.nat(valid.length - 1).map((n) => valid.slice(0, n)),
      ),
      async (text) => {
        fc.pre(text !== valid);
        const v = await val.validate(bytes(text));
        expect(v.ok).toBe(false);
      }), { numRuns: 1500 });
  });

  it('property: correctly signed payloads that break the schema are rejected with schema/malformed', async () => {
    const val = validator();
    await fc.assert(fc.asyncProperty(fc.jsonValue(), async (junk) => {
      const jws = await signJson(junk, carrier.privateKey, carrier.kid);
      const v = await val.validate(bytes(jws));
      expect(v.ok).toBe(false);
      if (!v.ok) expect(['schema', 'malformed']).toContain(v.reason);
    }), { numRuns: 1000 });
  });

  it('a valid request after thousands of hostile ones still passes', async () => {
    const val = validator();
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 300 }), async (s) => {
      expect((await val.validate(bytes(s))).ok).toBe(false);
    }), { numRuns: 1000 });
    const v = await val.validate(bytes(await signSessionRequest(draft(), carrier.privateKey, carrier.kid)));
    expect(v.ok).toBe(true);
  });
});

/** A compact JWS over the given header and payload texts, signed by the carrier (JSON.stringify cannot nest deeply). */
async function signRaw(payload: string, header: object = { alg: 'EdDSA', kid: carrier.kid }): Promise<string> {
  return new CompactSign(Buffer.from(payload)).setProtectedHeader(header as { alg: string }).sign(carrier.privateKey);
}
/** An unsigned request: header and payload as given, a junk signature. */
const unsigned = (header: string, payload: string): string =>
  `${Buffer.from(header).toString('base64url')}.${Buffer.from(payload).toString('base64url')}.AAAA`;
const nested = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
const answer = (v: Validation): string => (v.ok ? 'accepted' : `rejected/${v.reason} on ${v.sessionId}`);
const DETAIL_BOUND = 300;

describe('RequestValidator: hostile headers and payloads', () => {
  const LIVE = 's-live';
  const payloadNaming = JSON.stringify(draft({ sessionId: LIVE }));

  it.each([
    ['kid is an object whose toString is not a function', { alg: 'EdDSA', kid: { toString: 1, valueOf: 1 } }, 'unknown_key'],
    ['kid is an array', { alg: 'EdDSA', kid: [carrier.kid] }, 'unknown_key'],
    ['kid is a number', { alg: 'EdDSA', kid: 7 }, 'unknown_key'],
    ['kid is a 100,000-character string', { alg: 'EdDSA', kid: 'k'.repeat(100_000) }, 'unknown_key'],
    ['alg is an object whose toString is not a function', { alg: { toString: 1, valueOf: 1 }, kid: carrier.kid }, 'bad_signature'],
    ['header nested 10,000 deep', `{"alg":"EdDSA","kid":"${carrier.kid}","x":${nested(10_000)}}`, 'malformed'],
  ] as const)('unsigned, %s: rejected on the invalid-session level, bounded detail', async (attack, header, reason) => {
    const v = await validator().validate(bytes(unsigned(typeof header === 'string' ? header : JSON.stringify(header), payloadNaming)));
    recordAttack({ area: 'request', attack: `unsigned, ${attack}`, expected: `rejected/${reason} on ${INVALID_SESSION}`, observed: answer(v) });
    expect(v).toMatchObject({ ok: false, reason, sessionId: INVALID_SESSION, nonce: '' });
    if (!v.ok) expect(v.detail.length).toBeLessThanOrEqual(DETAIL_BOUND);
  });

  it('carrier-signed payload with a policy nested 10,000 deep: malformed, no recursive parser sees it', async () => {
    const deep = JSON.stringify(draft({ sessionId: 's-deep' })).replace('"policy":{}', `"policy":{"x":${nested(10_000)}}`);
    expect(deep).toContain(nested(10_000));
    const v = await validator().validate(bytes(await signRaw(deep)));
    recordAttack({ area: 'request', attack: 'carrier-signed policy nested 10,000 deep', expected: `rejected/malformed on ${INVALID_SESSION}`, observed: answer(v) });
    expect(v).toMatchObject({ ok: false, reason: 'malformed', sessionId: INVALID_SESSION });
  });

  it(`accepts a signed request nested exactly ${MAX_JSON_DEPTH} deep, and rejects one level more`, async () => {
    const schema = z.record(z.string(), z.json());
    const val = new RequestValidator({ deviceId: 'dev-1', carrierKeys: new Map([[carrier.kid, carrier.publicKey]]), state: new MemoryStateStore(),
      maxBytes: 1 << 20, maxTtlMs: 600_000, clockSkewMs: 30_000, now: () => NOW, policySchema: schema });
    // payload object (1) → policy object (2) → `x` nested d deep
    const withPolicyDepth = async (d: number) => val.validate(bytes(await signSessionRequest(
      draft({ policy: { x: JSON.parse(nested(d)) as never } }), carrier.privateKey, carrier.kid)));
    expect((await withPolicyDepth(MAX_JSON_DEPTH - 2)).ok).toBe(true);
    expect(await withPolicyDepth(MAX_JSON_DEPTH - 1)).toMatchObject({ ok: false, reason: 'malformed', sessionId: INVALID_SESSION });
  });

  it('a request that is not validly signed never names a session, whatever its payload says', async () => {
    const forged = await signSessionRequest(draft({ sessionId: LIVE }), stranger.privateKey, carrier.kid);
    const v = await validator().validate(bytes(forged));
    recordAttack({ area: 'request', attack: 'forged signature naming a session id', expected: `rejected/bad_signature on ${INVALID_SESSION}`, observed: answer(v) });
    expect(v).toMatchObject({ ok: false, reason: 'bad_signature', sessionId: INVALID_SESSION, nonce: '' });
  });

  it('a genuine request replayed (or its session id reused) is never answered as that session', async () => {
    const val = validator();
    const genuine = await signSessionRequest(draft({ sessionId: LIVE }), carrier.privateKey, carrier.kid);
    expect((await val.validate(bytes(genuine))).ok).toBe(true);
    const again = await val.validate(bytes(genuine));
    recordAttack({ area: 'request', attack: 'genuine request republished', expected: `rejected/replayed on ${INVALID_SESSION}`, observed: answer(again) });
    expect(again).toMatchObject({ ok: false, reason: 'replayed', sessionId: INVALID_SESSION });
    const sameSession = await val.validate(bytes(await signSessionRequest(draft({ sessionId: LIVE }), carrier.privateKey, carrier.kid)));
    expect(sameSession).toMatchObject({ ok: false, reason: 'replayed', sessionId: INVALID_SESSION });
  });

  it('a genuine request replayed after its expiry is answered as expired on the invalid-session level', async () => {
    let now = NOW;
    const val = new RequestValidator({ deviceId: 'dev-1', carrierKeys: new Map([[carrier.kid, carrier.publicKey]]), state: new MemoryStateStore(),
      maxBytes: 1 << 20, maxTtlMs: 600_000, clockSkewMs: 30_000, now: () => now });
    const req = draft({ sessionId: 's-old' });
    const genuine = await signSessionRequest(req, carrier.privateKey, carrier.kid);
    expect((await val.validate(bytes(genuine))).ok).toBe(true);
    now += 3_600_000; // the nonce claim has lapsed
    expect(await val.validate(bytes(genuine))).toMatchObject({ ok: false, reason: 'expired', sessionId: INVALID_SESSION, nonce: req.nonce });
  });

  it('a request rejected as not yet valid stays rejected once valid: its nonce was claimed', async () => {
    let now = NOW;
    const val = new RequestValidator({ deviceId: 'dev-1', carrierKeys: new Map([[carrier.kid, carrier.publicKey]]), state: new MemoryStateStore(),
      maxBytes: 1 << 20, maxTtlMs: 600_000, clockSkewMs: 30_000, now: () => now });
    const early = await signSessionRequest(draft({ sessionId: 's-early', now: NOW + 120_000 }), carrier.privateKey, carrier.kid);
    expect(await val.validate(bytes(early))).toMatchObject({ ok: false, reason: 'not_yet_valid', sessionId: 's-early' });
    now += 120_000;
    expect(await val.validate(bytes(early))).toMatchObject({ ok: false, reason: 'replayed', sessionId: INVALID_SESSION });
  });

  it('bounds schema messages that repeat the request\'s keys', async () => {
    const v = await validator().validate(bytes(await signSessionRequest({ ...draft(), ['x'.repeat(50_000)]: 1 }, carrier.privateKey, carrier.kid)));
    expect(v).toMatchObject({ ok: false, reason: 'schema' });
    if (!v.ok) expect(v.detail.length).toBeLessThanOrEqual(DETAIL_BOUND);
  });

  it('property: any header (kid, alg, nesting) never throws, gives a known reason and a bounded detail, names no session', async () => {
    const val = validator();
    const value = fc.oneof(fc.jsonValue(), fc.string({ maxLength: 5000 }), fc.constant({ toString: 1, valueOf: 1 }),
      fc.integer({ min: 1, max: 3000 }).map((d) => JSON.parse(nested(d)) as unknown));
    await fc.assert(fc.asyncProperty(value, value, fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }), async (kid, alg, extra) => {
      const v = await val.validate(bytes(unsigned(JSON.stringify({ ...extra, alg, kid }), payloadNaming)));
      expect(v.ok).toBe(false);
      if (v.ok) return;
      expect(REJECT_REASONS).toContain(v.reason);
      expect(v.detail.length).toBeLessThanOrEqual(DETAIL_BOUND);
      expect(v).toMatchObject({ sessionId: INVALID_SESSION, nonce: '' });
    }), { numRuns: 500 });
  });

  it('property: carrier-signed payloads of any shape and nesting never throw and give a known reason and a bounded detail', async () => {
    const val = validator();
    const payload = fc.oneof(fc.jsonValue().map((j) => JSON.stringify(j)), fc.integer({ min: 1, max: 20_000 }).map(nested),
      fc.integer({ min: 1, max: 5000 }).map((d) => payloadNaming.replace('"policy":{}', `"policy":{"p":${nested(d)}}`)));
    await fc.assert(fc.asyncProperty(payload, async (text) => {
      const v = await val.validate(bytes(await signRaw(text)));
      if (v.ok) return;
      expect(REJECT_REASONS).toContain(v.reason);
      expect(v.detail.length).toBeLessThanOrEqual(DETAIL_BOUND);
    }), { numRuns: 300 });
  });

  it('property: the depth scan agrees with the real nesting depth', () => {
    const depth = (j: unknown): number => (typeof j === 'object' && j !== null
      ? 1 + Math.max(0, ...Object.values(j).map(depth)) : 0);
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 12 }), fc.integer({ min: 0, max: 14 }), (j, limit) => {
      expect(jsonDepthExceeds(JSON.stringify(j), limit)).toBe(depth(j) > limit);
    }), { numRuns: 2000 });
  });
});
