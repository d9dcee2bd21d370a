import fc from 'fast-check';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { signJson } from '../../../src/carrier/jws.ts';
import { INVALID_SESSION, REJECT_REASONS } from '../../../src/carrier/protocol.ts';
import { RequestValidator, REQUEST_VALIDATOR_DEFAULTS } from '../../../src/carrier/request-validator.ts';
import { MemoryStateStore } from '../../../src/carrier/store.ts';
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

  it('rejects a replayed nonce, even with a new sessionId, and answers on the session topic', async () => {
    const val = validator();
    const first = draft({ sessionId: 's-1' });
    expect((await val.validate(bytes(await signSessionRequest(first, carrier.privateKey, carrier.kid)))).ok).toBe(true);
    const replay = await val.validate(bytes(await signSessionRequest({ ...first, sessionId: 's-2' }, carrier.privateKey, carrier.kid)));
    expect(replay).toMatchObject({ ok: false, reason: 'replayed', sessionId: 's-2', nonce: first.nonce });
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
