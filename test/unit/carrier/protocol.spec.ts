import { describe, expect, it } from 'vitest';
import { Topics, assertPublishTopic, resultDecisionSchema, sessionRequestSchema } from '../../../src/carrier/protocol.ts';
import { decision } from './helpers.ts';

describe('topics', () => {
  const t = new Topics('dev-1');
  it('builds every topic under the device prefix', () => {
    expect([t.status, t.telemetry, t.request, t.ackFilter, t.result('s1'), t.progress('s1'), t.ack('s1')]).toEqual([
      'regterm/v1/dev-1/status', 'regterm/v1/dev-1/telemetry', 'regterm/v1/dev-1/session/request',
      'regterm/v1/dev-1/session/+/ack', 'regterm/v1/dev-1/session/s1/result', 'regterm/v1/dev-1/session/s1/progress',
      'regterm/v1/dev-1/session/s1/ack',
    ]);
  });

  it('parses only well-formed acks of its own device', () => {
    expect(t.parseAck('regterm/v1/dev-1/session/s1/ack')).toBe('s1');
    expect(t.parseAck('regterm/v1/dev-2/session/s1/ack')).toBeUndefined();
    expect(t.parseAck('regterm/v1/dev-1/session/a/b/ack')).toBeUndefined();
    expect(t.parseAck('regterm/v1/dev-1/session/s1/result')).toBeUndefined();
  });

  it('refuses wildcard publishes and publishes outside the prefix', () => {
    expect(() => assertPublishTopic('regterm/v1/dev-1/session/#/progress', t.prefix)).toThrow(/wildcard/);
    expect(() => assertPublishTopic('regterm/v1/dev-1/+/x', t.prefix)).toThrow(/wildcard/);
    expect(() => assertPublishTopic('regterm/v1/dev-2/status', t.prefix)).toThrow(/outside/);
    expect(() => assertPublishTopic(t.status, t.prefix)).not.toThrow();
  });
});

describe('schemas', () => {
  it('a result decision has no field that could carry an image, crop or embedding', () => {
    for (const extra of ['image', 'crop', 'embedding', 'template', 'reference']) {
      expect(resultDecisionSchema.safeParse({ ...decision('s'), [extra]: 'x' }).success, extra).toBe(false);
    }
    expect(resultDecisionSchema.safeParse({ ...decision('s'), scores: { match: [0.1, 0.2] } }).success).toBe(false);
  });

  it('session ids cannot smuggle topic levels or wildcards', () => {
    for (const sessionId of ['a/b', '+', '#', '', ' x', 'a'.repeat(65)]) {
      expect(resultDecisionSchema.safeParse({ ...decision('s'), sessionId }).success, sessionId).toBe(false);
    }
  });

  it('requests default the policy to {} and accept only a JSON object there', () => {
    const base = { v: 1, deviceId: 'd', sessionId: 's', nonce: 'n'.repeat(16), issuedAt: '2026-11-28T12:00:00Z',
      expiresAt: '2026-11-28T12:01:00Z', reference: { format: 'jpeg', data: 'AAAA' } };
    expect(sessionRequestSchema.parse(base).policy).toEqual({});
    expect(sessionRequestSchema.safeParse({ ...base, policy: [1] }).success).toBe(false);
    expect(sessionRequestSchema.safeParse({ ...base, policy: 'strict' }).success).toBe(false);
  });
});
