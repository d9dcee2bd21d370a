import type { KeyObject } from 'node:crypto';
import { CompactSign, compactVerify } from 'jose';
import { resultPayloadSchema, type ResultPayload } from './protocol.ts';

/**
 * JWS compact serialisation with `alg: EdDSA` (Ed25519) and a `kid` header, via jose. The payload is the UTF-8 JSON
 * of the object as given; signing the same object twice gives the same bytes (Ed25519 is deterministic), but the
 * outbox stores the signed bytes anyway so a re-delivery never re-signs.
 */
export async function signJson(value: unknown, privateKey: KeyObject, kid: string, typ?: string): Promise<string> {
  const header = typ ? { alg: 'EdDSA', kid, typ } : { alg: 'EdDSA', kid };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(value))).setProtectedHeader(header).sign(privateKey);
}

export const RESULT_TYP = 'regterm-result+jws';
export const REQUEST_TYP = 'regterm-request+jws';
export const CONFIG_TYP = 'regterm-config+jws';
export const CONFIG_REPORT_TYP = 'regterm-config-report+jws';
export const TRACE_REQUEST_TYP = 'regterm-trace-request+jws';
export const TRACE_TYP = 'regterm-trace+jws';
export const UPDATE_REQUEST_TYP = 'regterm-update-request+jws';
export const UPDATE_REPORT_TYP = 'regterm-update-report+jws';

export class SignatureError extends Error {}

/** Verifies a device result against one public key and checks the payload schema. Throws SignatureError. */
export async function verifyResult(jws: string, publicKey: KeyObject): Promise<{ kid?: string; payload: ResultPayload }> {
  let verified;
  try {
    verified = await compactVerify(jws.trim(), publicKey, { algorithms: ['EdDSA'] });
  } catch (e: unknown) {
    throw new SignatureError(`signature verification failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parsed = resultPayloadSchema.safeParse(JSON.parse(new TextDecoder().decode(verified.payload)));
  if (!parsed.success) throw new SignatureError(`signed payload is not a result: ${parsed.error.issues[0]?.message}`);
  return { kid: verified.protectedHeader.kid, payload: parsed.data };
}
