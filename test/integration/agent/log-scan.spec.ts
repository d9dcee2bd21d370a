import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findBiometricLeaks } from './log-scan.ts';

/** The scanner the end-to-end log test relies on must actually find what it looks for. */
const reference = new Uint8Array(randomBytes(30_000));
const requestJws = `eyJhbGciOiJFZERTQSJ9.${Buffer.from(JSON.stringify({ reference: Buffer.from(reference).toString('base64') })).toString('base64url')}.sig`;
const known = { reference, requestJws, templateValues: [0.123456789, -0.04567891] };
const line = (o: object) => `${JSON.stringify({ level: 30, msg: 'x', ...o })}\n`;

describe('findBiometricLeaks', () => {
  it('passes a clean log', () => {
    expect(findBiometricLeaks(line({ sessionId: 's1', decision: 'match', scores: { match: 5.4 } }) + line({ reference: '[redacted]' }), known)).toEqual([]);
  });

  it('finds the reference photo as base64, as hex, and inside the request JWS', () => {
    const b64 = Buffer.from(reference.subarray(3000, 3300)).toString('base64');
    expect(findBiometricLeaks(line({ note: Buffer.from(reference).toString('base64').slice(6000, 6100) }), known)).toContain('reference photo bytes (base64)');
    expect(findBiometricLeaks(line({ note: Buffer.from(reference.subarray(9000, 9100)).toString('hex') }), known)).toContain('reference photo bytes (hex)');
    expect(findBiometricLeaks(line({ mqtt: requestJws.slice(5001, 5049) }), known)).toContain('request JWS payload (carries the reference photo)');
    expect(findBiometricLeaks(line({ note: b64 }), known)).toContain('a 200+ character base64/hex blob');
  });

  it('finds template values, embedding-like arrays and unredacted biometric fields', () => {
    expect(findBiometricLeaks(line({ v: 0.123456789 }), known)).toContain('template value 0.123456789');
    const arr = Array.from({ length: 20 }, (_, i) => i / 7);
    expect(findBiometricLeaks(line({ v: arr }), known)).toContain('an array of 16+ numbers');
    expect(findBiometricLeaks(line({ v: { ...new Float32Array(arr) } }), known)).toContain('a typed array of 16+ numbers');
    expect(findBiometricLeaks(line({ face: { embedding: [1, 2] } }), known)).toContain('field face.embedding is logged');
  });

  it('ignores allowed blobs (the signed results) but nothing else', () => {
    const result = 'A'.repeat(400);
    expect(findBiometricLeaks(line({ mqtt: `publish :: message \`${result}\`` }), { ...known, allowed: [result] })).toEqual([]);
    expect(findBiometricLeaks(line({ mqtt: `${result}B` }), { ...known, allowed: [`${result}C`] })).toContain('a 200+ character base64/hex blob');
  });
});
