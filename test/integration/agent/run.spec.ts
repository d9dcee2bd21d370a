import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { keyId } from '../../../src/carrier/keys.ts';
import { Topics } from '../../../src/carrier/protocol.ts';
import { extractJpegFrame } from '../../../src/compose/demo/reference-frame.ts';
import { createIdentity, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from '../../../src/device/identity.ts';
import { referenceTemplate } from '../../../src/session/reference-intake.ts';
import { FaceEngine } from '../../../src/vision/engine.ts';
import { CarrierClient } from '../carrier/helpers/carrier-client.ts';
import { Mosquitto, freePort } from '../carrier/helpers/mosquitto.ts';
import { createPki } from '../carrier/helpers/pki.ts';
import { AgentProcess, NotifySocket, REGTERM, until } from './agent-process.ts';
import { findBiometricLeaks } from './log-scan.ts';
import { faceDataRoot } from '../../../src/face-data.ts';

/**
 * `regterm run` end to end: the agent as a real process (bin/regterm.js, tsx) against the real mosquitto with TLS
 * client certificates and the per-device ACL, the replay camera on a real clip and the sim panel. A test carrier
 * signs a session request; the signed result is verified with the carrier's tool (`regterm verify-result`) and
 * acknowledged; SIGTERM stops the agent with exit 0, `offline` retained and no child process left. The agent logs
 * at trace level and every line is scanned for biometric data.
 */
const DATA = faceDataRoot();
const CLIP = join(DATA, 'liveportrait_driving_videos', 'd3.mp4');
const DEVICE = 'term-e2e';
const run = promisify(execFile);

let dir = '';
let mosquitto: Mosquitto;
let carrier: CarrierClient;
let notify: NotifySocket;
let agent: AgentProcess;
let devicePub = '';
let configPath = '';
let carrierKey: ReturnType<typeof generateKeyPairSync>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-agent-'));
  mkdirSync(join(dir, 'pki'));
  const pki = createPki(join(dir, 'pki'));
  mosquitto = new Mosquitto(dir, await freePort(), pki);
  await mosquitto.start();
  await createIdentity(join(dir, 'identity'));
  devicePub = join(dir, 'identity', PUBLIC_KEY_FILE);
  carrierKey = generateKeyPairSync('ed25519');
  mkdirSync(join(dir, 'carrier-keys'));
  writeFileSync(join(dir, 'carrier-keys', 'carrier.pem'), carrierKey.publicKey.export({ format: 'pem', type: 'spki' }));
  const cert = pki.client(DEVICE);
  configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({
    deviceId: DEVICE, stateDir: join(dir, 'state'), log: { level: 'trace' },
    camera: { backend: 'replay', recording: CLIP, pace: 'fast' }, panel: { backend: 'sim' },
    mqtt: { url: mosquitto.url, caFile: pki.ca, certFile: cert.cert, keyFile: cert.key, reconnectMinMs: 200, reconnectMaxMs: 2000 },
    carrier: { keysDir: join(dir, 'carrier-keys'), drainBudgetMs: 3000 },
    identity: { signingKeyFile: join(dir, 'identity', PRIVATE_KEY_FILE) },
    telemetry: { intervalS: 5 },
  }));
  carrier = new CarrierClient(mosquitto.url, pki.ca, pki.client('carrier'), { autoAck: true });
  await carrier.start(`regterm/v1/${DEVICE}/#`);
  notify = new NotifySocket(join(dir, 'notify.sock'));
});

afterAll(async () => {
  agent?.killGroup();
  await carrier?.stop();
  notify?.close();
  await mosquitto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('regterm run (real mosquitto, TLS + ACL, replay camera, sim panel)', () => {
  it('runs a carrier-requested session, delivers a verifiable signed result, and stops cleanly on SIGTERM', async () => {
    expect(existsSync(CLIP)).toBe(true);
    const topics = new Topics(DEVICE);
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '2000000' };
    agent = new AgentProcess(['run', '--config', configPath], env);

    await until(() => notify.states.includes('READY=1'), 60_000, `READY=1 (stderr: ${agent.stderr})`);
    await carrier.until(() => carrier.messages.some((m) => m.topic === topics.status && m.payload.includes('"online"')), 10_000, 'online');
    // fed while healthy: frames are not expected from a lockstep replay nobody reads, the broker answers pings
    await until(() => notify.states.filter((s) => s === 'WATCHDOG=1').length >= 2, 5000, 'WATCHDOG=1');

    const reference = await extractJpegFrame(CLIP, 10.5);
    const request = buildSessionRequest({ deviceId: DEVICE, reference: { format: 'jpeg', data: reference }, ttlS: 300,
      policy: { challenges: { set: ['turn_left'], required: [], count: 1 }, turn: { prompted: { startWithinMs: 7000 } } } });
    const requestJws = await signSessionRequest(request, carrierKey.privateKey, await keyId(carrierKey.publicKey));
    await carrier.publish(topics.request, requestJws);
    await carrier.until(() => carrier.results.has(request.sessionId), 120_000, 'the session result');

    const jws = carrier.results.get(request.sessionId)![0]!;
    const jwsFile = join(dir, 'result.jws');
    writeFileSync(jwsFile, jws);
    const verified = await run(process.execPath, [REGTERM, 'verify-result', '--key', devicePub, jwsFile], { encoding: 'utf8' });
    const { valid, payload } = JSON.parse(verified.stdout) as { valid: boolean; payload: Record<string, unknown> };
    expect(valid).toBe(true);
    expect(payload).toMatchObject({ deviceId: DEVICE, sessionId: request.sessionId, nonce: request.nonce, decision: 'match', seq: 1 });
    expect((payload.challenges as Array<{ type: string; passed: boolean }>)).toEqual([expect.objectContaining({ type: 'turn_left', passed: true })]);
    const progress = carrier.messages.filter((m) => m.topic === topics.progress(request.sessionId)).map((m) => JSON.parse(m.payload) as { prompt?: string });
    expect(progress.map((p) => p.prompt)).toContain('turn_left');
    await until(() => agent.hasLog('result acknowledged'), 10_000, 'the ack to reach the outbox');

    agent.child.kill('SIGTERM');
    const exit = await agent.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(notify.states.at(-1)).toBe('STOPPING=1');
    // the process ended on its own: stop() released every handle (no forced exit after the grace period)
    expect(agent.hasLog('handles still open after stop; exiting')).toBe(false);
    await carrier.until(() => carrier.messages.some((m) => m.topic === topics.status && m.payload.includes('"offline"')), 5000, 'offline');
    // nothing the agent started outlives it (an exited child is a zombie until init reaps it: allow a moment)
    await until(() => agent.leftovers().length === 0, 3000, `no leftover processes (${agent.leftovers().join('; ')})`).catch(() => undefined);
    expect(agent.leftovers()).toEqual([]);
    for (const component of ['systemd', 'telemetry', 'session', 'carrier', 'camera', 'buttons', 'leds', 'engine']) {
      expect(agent.lines.some((l) => l.msg === 'stopped' && l.component === component), component).toBe(true);
    }
    expect(agent.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);

    // Biometric data never reaches the log: not the reference photo (raw, base64, inside the request JWS), not its
    // template, no image-sized blobs, no embedding-like number arrays, no unredacted biometric field.
    const engine = new FaceEngine();
    await engine.start();
    const template = await referenceTemplate(engine, await extractJpegFrame(CLIP, 10.5));
    await engine.stop();
    expect(template.ok).toBe(true);
    const values = template.ok ? Object.values(template.template).flatMap((v) => [...v.subarray(0, 4)]) : [];
    expect(findBiometricLeaks(agent.raw, { reference, requestJws, templateValues: values, allowed: [jws] })).toEqual([]);
    expect(agent.lines.length).toBeGreaterThan(50);
  }, 240_000);

  it('SIGTERM during a session: the cancelled result is signed, delivered and acknowledged within the drain budget', async () => {
    const topics = new Topics(DEVICE);
    const notify2 = new NotifySocket(join(dir, 'notify2.sock'));
    try {
      agent = new AgentProcess(['run', '--config', configPath], { PATH: process.env.PATH, NOTIFY_SOCKET: notify2.path });
      await until(() => notify2.states.includes('READY=1'), 60_000, `READY=1 (stderr: ${agent.stderr})`);
      const request = buildSessionRequest({ deviceId: DEVICE, reference: { format: 'jpeg', data: await extractJpegFrame(CLIP, 10.5) },
        ttlS: 300, policy: { challenges: { set: ['turn_left'], required: [], count: 1 }, turn: { prompted: { startWithinMs: 7000 } } } });
      await carrier.publish(topics.request, await signSessionRequest(request, carrierKey.privateKey, await keyId(carrierKey.publicKey)));
      await carrier.until(() => carrier.messages.some((m) => m.topic === topics.progress(request.sessionId)), 30_000, 'the session to start');
      agent.child.kill('SIGTERM');
      expect(await agent.exited).toEqual({ code: 0, signal: null });

      expect(carrier.results.has(request.sessionId)).toBe(true);
      const jwsFile = join(dir, 'cancelled.jws');
      writeFileSync(jwsFile, carrier.results.get(request.sessionId)![0]!);
      const verified = await run(process.execPath, [REGTERM, 'verify-result', '--key', devicePub, jwsFile], { encoding: 'utf8' });
      expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, payload: { sessionId: request.sessionId, decision: 'cancelled', decidedBy: 'agent', seq: 2 } });
      const order = agent.lines.map((l) => (l.msg === 'stopped' ? `stopped ${String(l.component)}` : String(l.msg)));
      expect(order.indexOf('result acknowledged')).toBeGreaterThan(order.indexOf('stopped session'));
      expect(order.indexOf('result acknowledged')).toBeLessThan(order.indexOf('stopped carrier'));
      expect(agent.leftovers().filter((p) => !p.includes('<defunct>'))).toEqual([]);
    } finally {
      notify2.close();
    }
  }, 120_000);
});
