import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId, readPublicKey } from '../../../src/carrier/keys.ts';
import { progressEventSchema, resultPayloadSchema, statusPayloadSchema } from '../../../src/carrier/protocol.ts';
import { DEMO_CLIP, DEMO_REFERENCE } from '../../../src/compose/demo/asset.ts';
import { recordAttack } from '../../attacks/table.ts';
import { until, type AgentProcess } from '../agent/agent-process.ts';
import { AgentRig } from '../agent/agent-rig.ts';

/**
 * A carrier written from docs/protocol.md alone (python-carrier.py: Debian's python3-paho-mqtt, python3-jwt and
 * python3-cryptography, no code of ours) against the real agent (`regterm run`) behind the documented mosquitto
 * configuration, on the carrier listener: its first request, built from the page, must be accepted and answered with
 * a result it can verify and ack, and a request with a wrong reference format is rejected `schema` naming the field.
 * What it received must match the page's schemas (docs/protocol/*.schema.json come from the same zod schemas).
 */
const PYTHON = '/usr/bin/python3';
const CARRIER = join(import.meta.dirname, 'python-carrier.py');
const DEVICE = 'term-py';
const run = promisify(execFile);

interface Received {
  deviceKid: string;
  carrierKid: string;
  first: { sessionId: string; topic: string; header: Record<string, unknown>; payload: Record<string, unknown> };
  bad: { sessionId: string; topic: string; header: Record<string, unknown>; payload: Record<string, unknown> };
  status: unknown[];
  progress: unknown[];
}

const rig = new AgentRig({ deviceId: DEVICE, carrier: false, config: () => ({ log: undefined,
  camera: { backend: 'replay', recording: DEMO_CLIP, pace: 'fast' }, mqtt: { reconnectMinMs: 200, reconnectMaxMs: 2000 }, telemetry: undefined }) });
let agent: AgentProcess | undefined;
let received: Received;

beforeAll(async () => {
  await rig.start();
  const carrierKeyFile = join(rig.dir, 'carrier.key.pem');
  writeFileSync(carrierKeyFile, rig.carrierKey.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  agent = await rig.startAgent();

  const { pki, mosquitto } = rig;
  const carrierCert = pki.client('carrier');
  const { stdout } = await run(PYTHON, [CARRIER, '--host', '127.0.0.1', '--port', String(mosquitto.carrierListenerPort),
    '--ca', pki.ca, '--cert', carrierCert.cert, '--key', carrierCert.key, '--device', DEVICE, '--carrier-key', carrierKeyFile,
    '--device-public-key', rig.devicePublicKeyFile, '--reference', DEMO_REFERENCE], { timeout: 200_000 });
  received = JSON.parse(stdout) as Received;
}, 300_000);

afterAll(() => rig.close());

describe('a carrier written from docs/protocol.md (Python, paho-mqtt + PyJWT) against the real agent', () => {
  it('gets its first request accepted and a result it verifies, whose kid it computed the way the page says', async () => {
    const { first } = received;
    expect(first.topic).toBe(`regterm/v1/${DEVICE}/session/${first.sessionId}/result`);
    expect(first.header).toMatchObject({ alg: 'EdDSA', typ: 'regterm-result+jws', kid: received.deviceKid });
    expect(received.deviceKid).toBe(await keyId(readPublicKey(rig.devicePublicKeyFile)));
    expect(resultPayloadSchema.parse(first.payload)).toMatchObject({ deviceId: DEVICE, sessionId: first.sessionId });
    expect(first.payload.decision).not.toBe('rejected');
    expect(first.payload.decision).toBe('match');
    expect(agent!.lines.some((l) => l.msg === 'session request accepted' && l.sessionId === first.sessionId)).toBe(true);
    // the page's client id: the device id itself, which the documented broker also takes from the certificate CN
    expect(agent!.lines.find((l) => l.msg === 'connected')?.clientId).toBe(DEVICE);
  });

  it('acks it as the page says (empty payload, QoS 1): the terminal removes it from its outbox', async () => {
    await until(() => agent!.lines.some((l) => l.msg === 'result acknowledged' && l.sessionId === received.first.sessionId),
      10_000, 'the ack');
  });

  it('a request with a reference format the page does not allow is rejected `schema`, naming reference.format', () => {
    const { bad } = received;
    const p = bad.payload;
    recordAttack({ area: 'request', attack: 'reference format gif, from a Python carrier', expected: 'signed rejected/schema field reference.format',
      observed: `${bad.topic.endsWith('/_invalid/result') ? 'on _invalid ' : ''}signed ${String(p.decision)}/${String(p.reason)} field ${String(p.field)}` });
    expect(bad.topic).toBe(`regterm/v1/${DEVICE}/session/${bad.sessionId}/result`);
    expect(resultPayloadSchema.parse(bad.payload)).toMatchObject({
      decision: 'rejected', decidedBy: 'request', reason: 'schema', field: 'reference.format', sessionId: bad.sessionId,
    });
  });

  it('the status and progress messages it saw are what the page and its schemas describe', () => {
    expect(received.status.length).toBeGreaterThan(0);
    for (const s of received.status) expect(statusPayloadSchema.parse(s)).toMatchObject({ deviceId: DEVICE });
    expect(received.progress.length).toBeGreaterThan(0);
    const events = received.progress.map((p) => progressEventSchema.parse(p));
    expect(events.map((e) => e.prompt)).toContain('turn_left');
  });
});
