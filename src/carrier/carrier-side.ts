import { randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { REQUEST_TYP, UPDATE_REQUEST_TYP, signJson } from './jws.ts';
import { PROTOCOL_VERSION, type SessionRequest, type UpdateRequest, updateRequestSchema } from './protocol.ts';

/**
 * What a carrier does, for `regterm carrier request`, integration tests and field tests: build and sign a session
 * request. The terminal never runs this; it only holds the carrier's public keys.
 */
export interface RequestDraft {
  deviceId: string;
  reference: { format: 'jpeg' | 'png'; data: Uint8Array };
  ttlS: number;
  sessionId?: string;
  nonce?: string;
  policy?: SessionRequest['policy'];
  now?: number;
}

export function buildSessionRequest(draft: RequestDraft): SessionRequest {
  const now = draft.now ?? Date.now();
  return {
    v: PROTOCOL_VERSION,
    deviceId: draft.deviceId,
    sessionId: draft.sessionId ?? randomUUID(),
    nonce: draft.nonce ?? randomBytes(18).toString('base64url'),
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + draft.ttlS * 1000).toISOString(),
    reference: { format: draft.reference.format, data: Buffer.from(draft.reference.data).toString('base64') },
    policy: draft.policy ?? {},
  };
}

export async function signSessionRequest(request: unknown, privateKey: KeyObject, kid: string): Promise<string> {
  return signJson(request, privateKey, kid, REQUEST_TYP);
}

/**
 * A signed update command (docs/release.md "The update command"): the tarball at `url` with the sha256 and version of
 * its release signature. Throws when the result would not pass the terminal's schema.
 */
export async function signUpdateCommand(draft: { deviceId: string; url: string; sha256: string; version: string; ttlS: number; now?: number },
  privateKey: KeyObject, kid: string): Promise<string> {
  const now = draft.now ?? Date.now();
  const command: UpdateRequest = updateRequestSchema.parse({
    v: PROTOCOL_VERSION, deviceId: draft.deviceId, nonce: randomBytes(18).toString('base64url'), issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + draft.ttlS * 1000).toISOString(), url: draft.url, sha256: draft.sha256, version: draft.version,
  });
  return signJson(command, privateKey, kid, UPDATE_REQUEST_TYP);
}
