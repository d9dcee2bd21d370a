import type { KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { untrustedText } from '../lib/untrusted-text.ts';
import type { RejectReason } from './protocol.ts';

/**
 * The first, content-blind half of checking anything the carrier signs (session requests, desired configurations,
 * trace and update commands): size limit → compact JWS shape → canonical base64url → header JSON depth → pinned
 * `kid` and `alg: EdDSA` → signature → payload JSON depth → UTF-8 JSON. Never throws for bad input; untrusted text in
 * a `detail` is bounded, and no recursive parser sees JSON nested deeper than MAX_JSON_DEPTH.
 */
export interface CarrierJwsOptions {
  /** carrier public keys by kid (see keys.ts `pinKeys`) */
  carrierKeys: ReadonlyMap<string, KeyObject>;
  maxBytes: number;
}

export type CarrierJws =
  | { ok: true; kid: string; json: unknown }
  | { ok: false; reason: Extract<RejectReason, 'too_large' | 'malformed' | 'bad_signature' | 'unknown_key'>; detail: string };

/** Deepest JSON nesting accepted in the header and the payload (a request needs 4). */
export const MAX_JSON_DEPTH = 32;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export async function verifyCarrierJws(raw: Uint8Array, o: CarrierJwsOptions): Promise<CarrierJws> {
  if (raw.length > o.maxBytes) return { ok: false, reason: 'too_large', detail: `${raw.length} bytes > limit ${o.maxBytes}` };
  const text = Buffer.from(raw).toString('latin1').trim();
  if (!COMPACT_JWS.test(text)) return { ok: false, reason: 'malformed', detail: 'not a compact JWS' };
  const segments = text.split('.');
  // Non-canonical base64url (stray low bits in the last character) would let one signed message have many
  // spellings; accept only the canonical one.
  if (segments.some((seg) => Buffer.from(seg, 'base64url').toString('base64url') !== seg)) {
    return { ok: false, reason: 'malformed', detail: 'non-canonical base64url' };
  }
  if (jsonDepthExceeds(Buffer.from(segments[0]!, 'base64url').toString('utf8'), MAX_JSON_DEPTH)) {
    return { ok: false, reason: 'malformed', detail: `JWS header nested deeper than ${MAX_JSON_DEPTH}` };
  }
  let kid: unknown;
  let alg: unknown;
  try {
    ({ kid, alg } = decodeProtectedHeader(text));
  } catch {
    return { ok: false, reason: 'malformed', detail: 'unreadable JWS header' };
  }
  if (alg !== 'EdDSA') return { ok: false, reason: 'bad_signature', detail: `alg ${untrustedText(alg)} is not EdDSA` };
  const key = typeof kid === 'string' ? o.carrierKeys.get(kid) : undefined;
  if (!key) return { ok: false, reason: 'unknown_key', detail: `kid ${untrustedText(kid)} is not a pinned carrier key` };
  let payloadBytes: Uint8Array;
  try {
    payloadBytes = (await compactVerify(text, key, { algorithms: ['EdDSA'] })).payload;
  } catch {
    return { ok: false, reason: 'bad_signature', detail: 'signature does not verify' };
  }
  try {
    const payloadText = new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes);
    if (jsonDepthExceeds(payloadText, MAX_JSON_DEPTH)) {
      return { ok: false, reason: 'malformed', detail: `payload nested deeper than ${MAX_JSON_DEPTH}` };
    }
    return { ok: true, kid: kid as string, json: JSON.parse(payloadText) };
  } catch {
    return { ok: false, reason: 'malformed', detail: 'payload is not UTF-8 JSON' };
  }
}

/**
 * Whether JSON text nests arrays/objects deeper than `limit`, by one pass over the characters (strings skipped), so
 * no recursive parser or schema ever sees a deeply nested document. Malformed text is left to JSON.parse.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
