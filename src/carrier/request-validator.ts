import type { KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import type { z } from 'zod';
import { ID_PATTERN, INVALID_SESSION, sessionRequestSchema, type RejectReason, type SessionRequest } from './protocol.ts';
import type { StateStore } from './store.ts';

/**
 * Validates a raw session request from the carrier. Checks, in order (cheapest and least trusting first):
 * size limit → compact JWS shape → pinned `kid` and `alg: EdDSA` → signature → JSON + strict schema → deviceId →
 * issuedAt/expiresAt (with clock skew) and the maximum validity window → nonce not seen within its window (claimed
 * durably in the StateStore, so a replay after a restart is still caught).
 *
 * Never throws for bad input: every failure is a `Rejection` with a reason and the sessionId/nonce to answer on.
 * The sessionId/nonce of a rejection are read from the (possibly unverified) payload only when they look like ids,
 * otherwise the rejection goes to INVALID_SESSION.
 */
export interface RequestValidatorOptions {
  deviceId: string;
  /** carrier public keys by kid (see keys.ts `pinKeys`) */
  carrierKeys: ReadonlyMap<string, KeyObject>;
  state: StateStore;
  maxBytes: number;
  /** longest accepted expiresAt − issuedAt; bounds how long nonces must be remembered */
  maxTtlMs: number;
  clockSkewMs: number;
  now: () => number;
  /** the session engine's policy schema; when given, `request.policy` must parse with it (strictly, ideally) */
  policySchema?: z.ZodType;
}

export type Validation =
  | { ok: true; request: SessionRequest }
  | { ok: false; reason: RejectReason; detail: string; sessionId: string; nonce: string };

export const REQUEST_VALIDATOR_DEFAULTS = { maxBytes: 1024 * 1024, maxTtlMs: 10 * 60_000, clockSkewMs: 30_000 };

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export class RequestValidator {
  constructor(private readonly options: RequestValidatorOptions) {}

  async validate(raw: Uint8Array): Promise<Validation> {
    const o = this.options;
    if (raw.length > o.maxBytes) return reject('too_large', `${raw.length} bytes > limit ${o.maxBytes}`);
    const text = Buffer.from(raw).toString('latin1').trim();
    if (!COMPACT_JWS.test(text)) return reject('malformed', 'not a compact JWS');
    const ids = peekIds(text);
    // Non-canonical base64url (stray low bits in the last character) would let one signed request have many
    // spellings; accept only the canonical one.
    if (text.split('.').some((seg) => Buffer.from(seg, 'base64url').toString('base64url') !== seg)) {
      return reject('malformed', 'non-canonical base64url', ids);
    }

    let kid: unknown;
    let alg: unknown;
    try {
      ({ kid, alg } = decodeProtectedHeader(text));
    } catch {
      return reject('malformed', 'unreadable JWS header', ids);
    }
    if (alg !== 'EdDSA') return reject('bad_signature', `alg ${String(alg)} is not EdDSA`, ids);
    const key = typeof kid === 'string' ? o.carrierKeys.get(kid) : undefined;
    if (!key) return reject('unknown_key', `kid ${String(kid)} is not a pinned carrier key`, ids);

    let payloadBytes: Uint8Array;
    try {
      payloadBytes = (await compactVerify(text, key, { algorithms: ['EdDSA'] })).payload;
    } catch {
      return reject('bad_signature', 'signature does not verify', ids);
    }
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes));
    } catch {
      return reject('malformed', 'payload is not UTF-8 JSON', ids);
    }
    const parsed = sessionRequestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return reject('schema', `${issue?.path.join('.') || '(root)'}: ${issue?.message}`, ids);
    }
    const request = parsed.data;
    const own = { sessionId: request.sessionId, nonce: request.nonce };
    const policy = o.policySchema?.safeParse(request.policy);
    if (policy && !policy.success) {
      const issue = policy.error.issues[0];
      return reject('schema', `policy.${issue?.path.join('.')}: ${issue?.message}`, own);
    }
    if (request.deviceId !== o.deviceId) return reject('wrong_device', `for device ${request.deviceId}`, own);

    const now = o.now();
    const issuedAt = Date.parse(request.issuedAt);
    const expiresAt = Date.parse(request.expiresAt);
    if (issuedAt > now + o.clockSkewMs) return reject('not_yet_valid', `issuedAt ${request.issuedAt} is in the future`, own);
    if (expiresAt <= now - o.clockSkewMs) return reject('expired', `expired at ${request.expiresAt}`, own);
    if (expiresAt - issuedAt > o.maxTtlMs) return reject('ttl_too_long', `validity window > ${o.maxTtlMs} ms`, own);
    // Remember the nonce until the request could no longer pass the expiry check.
    if (!(await o.state.claimNonce(request.nonce, expiresAt + o.clockSkewMs, now))) {
      return reject('replayed', 'nonce already seen', own);
    }
    return { ok: true, request };
  }
}

function reject(reason: RejectReason, detail: string, ids = { sessionId: INVALID_SESSION, nonce: '' }): Validation {
  return { ok: false, reason, detail, ...ids };
}

/** Best-effort sessionId/nonce from an unverified payload, used only to address the rejection. */
function peekIds(compact: string): { sessionId: string; nonce: string } {
  try {
    const body: unknown = JSON.parse(Buffer.from(compact.split('.')[1] ?? '', 'base64url').toString('utf8'));
    const rec = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const sessionId = typeof rec.sessionId === 'string' && ID_PATTERN.test(rec.sessionId) ? rec.sessionId : INVALID_SESSION;
    const nonce = typeof rec.nonce === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(rec.nonce) ? rec.nonce : '';
    return { sessionId, nonce };
  } catch {
    return { sessionId: INVALID_SESSION, nonce: '' };
  }
}
