import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { verifyCarrierJws } from './carrier-jws.ts';
import { untrustedText } from '../lib/untrusted-text.ts';
import { failedField, requestFields } from './request-fields.ts';
import {
  ID_PATTERN, INVALID_SESSION, NONCE_PATTERN, sessionRequestSchema, type RejectReason, type SessionRequest,
} from './protocol.ts';
import type { StateStore } from './store.ts';

/**
 * Validates a raw session request from the carrier. Checks, in order (cheapest and least trusting first): the signed
 * envelope (carrier-jws.ts: size, shape, JSON depth, pinned kid, EdDSA signature, JSON) → sessionId/nonce/expiresAt readable → not expired → nonce and sessionId not seen before (both
 * claimed durably in the StateStore, so a replay after a restart is still caught) → strict schema → policy →
 * deviceId → issuedAt and the maximum validity window.
 *
 * Never throws for bad input: every failure is a `Rejection` with a reason and the level to answer on. A rejection
 * names the request's session (sessionId and nonce) only when the carrier's signature verified AND this is the first
 * time the terminal sees that nonce and that sessionId: then it is the session's one verdict. Everything else (not
 * verified, unreadable, expired, a replay, a session id already used) is answered on INVALID_SESSION, which is no
 * session's verdict; its nonce is echoed only when the signature verified (docs/reliability.md, Requests).
 * Untrusted text in a `detail` is bounded (untrustedText).
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
  | { ok: false; reason: RejectReason; detail: string; sessionId: string; nonce: string; field?: string };

export const REQUEST_VALIDATOR_DEFAULTS = { maxBytes: 1024 * 1024, maxTtlMs: 10 * 60_000, clockSkewMs: 30_000 };

/**
 * How long after a request's expiry its sessionId stays claimed. Far longer than any session runs, so a second
 * request naming a running or decided session is never answered as that session (results still undelivered are
 * checked in the outbox as well, however old).
 */
export const SESSION_ID_MEMORY_MS = 24 * 3600_000;

/** The fields that address an answer; read (non-strictly) before the full schema so the claims come first. */
const addressSchema = z.object({
  sessionId: z.string().regex(ID_PATTERN),
  nonce: z.string().regex(NONCE_PATTERN),
  expiresAt: z.iso.datetime({ offset: true }),
});
/** Sessions are claimed in the nonce table under a prefix no nonce can have (`:` is not in NONCE_PATTERN). */
const SESSION_CLAIM_PREFIX = 'session:';

export class RequestValidator {
  /** the field names a `schema` rejection may carry (request-fields.ts) */
  private readonly fields: ReadonlySet<string>;

  constructor(private readonly options: RequestValidatorOptions) {
    this.fields = requestFields(options.policySchema);
  }

  async validate(raw: Uint8Array): Promise<Validation> {
    const o = this.options;
    const signed = await verifyCarrierJws(raw, o);
    if (!signed.ok) return unaddressed(signed.reason, signed.detail);
    // From here on the payload is the carrier's own words.
    const json = signed.json;
    const address = addressSchema.safeParse(json);
    if (!address.success) {
      return unaddressed('schema', `no readable sessionId/nonce/expiresAt: ${issueText(address.error)}`,
        failedField(address.error.issues[0], this.fields));
    }
    const { sessionId, nonce } = address.data;
    const expiresAt = Date.parse(address.data.expiresAt);
    // Not the session's verdict, but the carrier signed this nonce: echoing it lets the carrier find its request.
    const noSession = { sessionId: INVALID_SESSION, nonce };
    if (!Number.isFinite(expiresAt)) {
      return reject('schema', `session ${sessionId}: expiresAt is not a time`, noSession, 'expiresAt');
    }

    // An expired request may be a replay whose claims were already forgotten: never answer it as its session.
    // The carrier knows its own request's expiry, so it loses nothing.
    const now = o.now();
    if (expiresAt <= now - o.clockSkewMs) {
      return reject('expired', `session ${sessionId} expired at ${new Date(expiresAt).toISOString()}`, noSession);
    }
    // Remember the nonce until the request could no longer pass the expiry check.
    if (!(await o.state.claimNonce(nonce, expiresAt + o.clockSkewMs, now))) {
      return reject('replayed', `session ${sessionId}: nonce already seen`, noSession);
    }
    const sessionClaimExpiry = expiresAt + o.clockSkewMs + SESSION_ID_MEMORY_MS;
    if (!(await o.state.claimNonce(SESSION_CLAIM_PREFIX + sessionId, sessionClaimExpiry, now))) {
      return reject('replayed', `session ${sessionId} already requested`, noSession);
    }

    // First sight of this signed session: every answer from here on is the session's one verdict.
    const own = { sessionId, nonce };
    const parsed = sessionRequestSchema.safeParse(json);
    if (!parsed.success) {
      return reject('schema', issueText(parsed.error), own, failedField(parsed.error.issues[0], this.fields));
    }
    const request = parsed.data;
    const policy = o.policySchema?.safeParse(request.policy);
    if (policy && !policy.success) {
      return reject('schema', `policy.${issueText(policy.error)}`, own, failedField(policy.error.issues[0], this.fields, 'policy'));
    }
    if (request.deviceId !== o.deviceId) return reject('wrong_device', `for device ${request.deviceId}`, own);
    const issuedAt = Date.parse(request.issuedAt);
    // Negated comparisons, so a time Date.parse cannot read (NaN) fails them too.
    if (!(issuedAt <= now + o.clockSkewMs)) {
      return reject('not_yet_valid', `issuedAt ${untrustedText(request.issuedAt)} is in the future`, own);
    }
    if (!(expiresAt - issuedAt <= o.maxTtlMs)) return reject('ttl_too_long', `validity window > ${o.maxTtlMs} ms`, own);
    return { ok: true, request };
  }
}

/** `field`: for `schema`, the request field that failed (request-fields.ts) */
function reject(reason: RejectReason, detail: string, answerTo: { sessionId: string; nonce: string }, field?: string): Validation {
  return { ok: false, reason, detail, ...answerTo, ...(field ? { field } : {}) };
}

/** A rejection that names no session and echoes no nonce: the request's content cannot be trusted. */
function unaddressed(reason: RejectReason, detail: string, field?: string): Validation {
  return reject(reason, detail, { sessionId: INVALID_SESSION, nonce: '' }, field);
}

/** The first schema issue, bounded (its path and message may repeat keys of the request). */
function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  return untrustedText(`${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
}
