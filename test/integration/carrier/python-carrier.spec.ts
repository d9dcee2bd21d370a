import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId, readPublicKey } from '../../../src/carrier/keys.ts';
import { progressEventSchema, resultPayloadSchema, statusPayloadSchema } from '../../../src/carrier/protocol.ts';
import { DEMO_CLIP, DEMO_REFERENCE } from '../../../src/compose/demo/asset.ts';
import { createIdentity, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from '../../../src/carrier/device-key.ts';
import { recordAttack } from '../../attacks/table.ts';
import { AgentProcess, until } from '../agent/agent-process.ts';
import { Mosquitto, freePort } from './helpers/mosquitto.ts';
import { createPki } from './helpers/pki.ts';

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

let dir = '';
let mosquitto: Mosquitto;
let agent: AgentProcess | undefined;
let received: Received;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-pycarrier-'));
  mkdirSync(join(dir, 'pki'));
  const pki = createPki(join(dir, 'pki'));
  mosquitto = new Mosquitto(dir, await freePort(), pki);
  await mosquitto.start();
  await createIdentity(join(dir, 'identity'));
  const carrierKey = generateKeyPairSync('ed25519');
  mkdirSync(join(dir, 'carrier-keys'));
  writeFileSync(join(dir, 'carrier-keys', 'carrier.pem'), carrierKey.publicKey.export({ format: 'pem', type: 'spki' }));
  const carrierKeyFile = join(dir, 'carrier.key.pem');
  writeFileSync(carrierKeyFile, carrierKey.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const cert = pki.client(DEVICE);
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({
    deviceId: DEVICE, stateDir: join(dir, 'state'),
    camera: { backend: 'replay', recording: DEMO_CLIP, pace: 'fast' }, panel: { backend: 'sim' },
    mqtt: { url: mosquitto.url, caFile: pki.ca, certFile: cert.cert, keyFile: cert.key, reconnectMinMs: 200, reconnectMaxMs: 2000 },
    carrier: { keysDir: join(dir, 'carrier-keys'), drainBudgetMs: 3000 },
    identity: { signingKeyFile: join(dir, 'identity', PRIVATE_KEY_FILE) },
  }));
  agent = new AgentProcess(['run', '--config', configPath], { PATH: process.env.PATH });
  await until(() => agent!.hasLog('connected') || agent!.child.exitCode !== null, 60_000, `the agent to connect (${agent.stderr})`);

  const carrierCert = pki.client('carrier');
  const { stdout } = await run(PYTHON, [CARRIER, '--host', '127.0.0.1', '--port', String(mosquitto.carrierListenerPort),
    '--ca', pki.ca, '--cert', carrierCert.cert, '--key', carrierCert.key, '--device', DEVICE, '--carrier-key', carrierKeyFile,
    '--device-public-key', join(dir, 'identity', PUBLIC_KEY_FILE), '--reference', DEMO_REFERENCE], { timeout: 200_000 });
  received = JSON.parse(stdout) as Received;
}, 300_000);

afterAll(async () => {
  agent?.killGroup();
  await agent?.exited;
  await mosquitto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a carrier written from docs/protocol.md (Python, paho-mqtt + PyJWT) against the real agent', () => {
  it('gets its first request accepted and a result it verifies, whose kid it computed the way the page says', async () => {
    const { first } = received;
    expect(first.topic).toBe(`regterm/v1/${DEVICE}/session/${first.sessionId}/result`);
    expect(first.header).toMatchObject({ alg: 'EdDSA', typ: 'regterm-result+jws', kid: received.deviceKid });
    expect(received.deviceKid).toBe(await keyId(readPublicKey(join(dir, 'identity', PUBLIC_KEY_FILE))));
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
