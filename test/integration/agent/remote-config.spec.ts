import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { CONFIG_TYP, signJson } from '../../../src/carrier/jws.ts';
import { keyId, readPublicKey } from '../../../src/carrier/keys.ts';
import { INVALID_SESSION, Topics, configReportSchema, type ConfigReport } from '../../../src/carrier/protocol.ts';
import { createIdentity, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from '../../../src/carrier/device-key.ts';
import { EXIT } from '../../../src/lib/errors.ts';
import { REFERENCE } from '../../unit/carrier/helpers.ts';
import { CarrierClient } from '../carrier/helpers/carrier-client.ts';
import { Mosquitto, freePort } from '../carrier/helpers/mosquitto.ts';
import { createPki } from '../carrier/helpers/pki.ts';
import { AgentProcess, REGTERM, until } from './agent-process.ts';

/**
 * Remote configuration end to end: the agent as a real process on mosquitto (TLS, client certificates), the carrier
 * publishing signed desired configurations retained on `config/desired` and reading the device-signed reports on
 * `config/reported`. Live changes, key rotation (a removed key's requests are refused), every kind of refusal, a
 * change that takes a restart, and one that never reaches READY and is rolled back by the agent itself.
 */
const DEVICE = 'term-remote';
const NO_CAMERA = join(import.meta.dirname, '..', '..', 'fixtures', 'rpicam', 'no-camera-rpicam-vid');
const topics = new Topics(DEVICE);
const key1 = generateKeyPairSync('ed25519');
const key2 = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'spki' }) as string;

let dir = '';
let mosquitto: Mosquitto;
let carrier: CarrierClient;
let configPath = '';
let devicePub: KeyObject;
let agent: AgentProcess | undefined;
let kid1 = '';
let kid2 = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-remote-'));
  mkdirSync(join(dir, 'pki'));
  const pki = createPki(join(dir, 'pki'));
  mosquitto = new Mosquitto(dir, await freePort(), pki);
  await mosquitto.start();
  await createIdentity(join(dir, 'identity'));
  devicePub = readPublicKey(join(dir, 'identity', PUBLIC_KEY_FILE));
  mkdirSync(join(dir, 'carrier-keys'));
  writeFileSync(join(dir, 'carrier-keys', 'carrier.pem'), pem(key1.publicKey));
  kid1 = await keyId(key1.publicKey);
  kid2 = await keyId(key2.publicKey);
  const cert = pki.client(DEVICE);
  configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({
    deviceId: DEVICE, stateDir: join(dir, 'state'), log: { level: 'info' },
    camera: { backend: 'rpicam', rpicamBin: NO_CAMERA }, panel: { backend: 'sim' },
    mqtt: { url: mosquitto.url, caFile: pki.ca, certFile: cert.cert, keyFile: cert.key, reconnectMinMs: 200, reconnectMaxMs: 2000 },
    carrier: { keysDir: join(dir, 'carrier-keys'), drainBudgetMs: 1000 },
    identity: { signingKeyFile: join(dir, 'identity', PRIVATE_KEY_FILE) },
  }));
  carrier = new CarrierClient(mosquitto.url, pki.ca, pki.client('carrier'), { autoAck: true });
  await carrier.start(`regterm/v1/${DEVICE}/#`);
});

afterAll(async () => {
  agent?.killGroup();
  await carrier?.stop();
  await mosquitto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startAgent(): Promise<AgentProcess> {
  const a = new AgentProcess(['run', '--config', configPath], { PATH: process.env.PATH });
  agent = a;
  return a;
}

/** Publishes a signed desired configuration, retained, as the carrier does. */
async function desire(version: number, config: Record<string, unknown>, signer = key1): Promise<void> {
  const jws = await signJson({ v: 1, deviceId: DEVICE, version, issuedAt: new Date().toISOString(), config },
    signer.privateKey, await keyId(signer.publicKey), CONFIG_TYP);
  await new Promise<void>((resolve, reject) =>
    carrier.client.publish(topics.configDesired, jws, { qos: 1, retain: true }, (e) => (e ? reject(e) : resolve())));
}

/** Every report so far, each verified with the device key. */
async function reports(): Promise<ConfigReport[]> {
  const out: ConfigReport[] = [];
  for (const m of carrier.messages.filter((x) => x.topic === topics.configReported && x.payload)) {
    const { payload } = await compactVerify(m.payload, devicePub);
    out.push(configReportSchema.parse(JSON.parse(new TextDecoder().decode(payload))));
  }
  return out;
}

/** The first report after the first `after` ones that is about `version` (reports of a retained message re-sent on
 * reconnect may come in between). */
async function nextReport(after: number, what: string, version?: number): Promise<ConfigReport> {
  let found: ConfigReport | undefined;
  const look = async (): Promise<boolean> => {
    found = (await reports()).slice(after).find((r) => version === undefined || r.version === version);
    return found !== undefined;
  };
  const deadline = Date.now() + 20_000;
  while (!(await look())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return found!;
}

/** Each version is the whole remote layer: what it leaves out goes back to the layers below. */
const BASE = { log: { level: 'debug' }, session: { policy: { challenges: { count: 2 } } } };
const rotated = () => ({ ...BASE, carrier: { keys: { [kid2]: pem(key2.publicKey) }, revokedKids: [kid1] } });

const reportCount = () => carrier.messages.filter((x) => x.topic === topics.configReported).length;

/** A session request signed with `signer` for `deviceId`; resolves with the rejection it gets. */
async function requestAnswer(signer: typeof key1, sessionId: string, deviceId = 'another-device'): Promise<{ topic: string; reason?: string }> {
  const request = buildSessionRequest({ deviceId, sessionId, reference: REFERENCE, ttlS: 60 });
  const before = carrier.messages.length;
  await carrier.publish(topics.request, await signSessionRequest(request, signer.privateKey, await keyId(signer.publicKey)));
  await until(() => carrier.messages.slice(before).some((m) => m.topic.endsWith('/result')), 15_000, `answer to ${sessionId}`);
  const m = carrier.messages.slice(before).find((x) => x.topic.endsWith('/result'))!;
  const { payload } = await compactVerify(m.payload, devicePub);
  return { topic: m.topic, reason: (JSON.parse(new TextDecoder().decode(payload)) as { reason?: string }).reason };
}

function effectiveConfig(): { sources: Record<string, string>; config: { camera: { fps: number } } } {
  const r = spawnSync(process.execPath, [REGTERM, 'config', '--config', configPath, '--json'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { sources: Record<string, string>; config: { camera: { fps: number } } };
}

describe('remote configuration over the carrier link', () => {
  it('applies live changes and rotates carrier keys; a removed key is refused, the last key cannot be removed', async () => {
    const a = await startAgent();
    await until(() => a.hasLog('agent running'), 30_000, 'agent running');
    await until(() => a.hasLog('connected'), 15_000, 'connected');

    let n = reportCount();
    await desire(1, BASE);
    expect(await nextReport(n, 'v1 report', 1)).toMatchObject({ status: 'applied', version: 1, restart: [], inForce: { version: 1 } });
    expect((await reports())[n]!.live!.sort()).toEqual(['log.level', 'session.policy']);
    expect(effectiveConfig().sources['log.level']).toBe('remote v1');

    // a request signed with a key the terminal does not trust yet
    expect(await requestAnswer(key2, 's-before-add')).toEqual({ topic: topics.result(INVALID_SESSION), reason: 'unknown_key' });
    n = reportCount();
    await desire(2, { ...BASE, carrier: { keys: { [kid2]: pem(key2.publicKey) } } });
    expect(await nextReport(n, 'v2 report', 2)).toMatchObject({ status: 'applied', version: 2, live: ['carrier.keys'] });
    // now trusted: the signature verifies and the request is judged on its content
    expect(await requestAnswer(key2, 's-after-add')).toEqual({ topic: topics.result('s-after-add'), reason: 'wrong_device' });

    n = reportCount();
    await desire(3, rotated());
    expect(await nextReport(n, 'v3 report', 3)).toMatchObject({ status: 'applied', version: 3, live: ['carrier.revokedKids'] });
    expect(await requestAnswer(key1, 's-revoked')).toEqual({ topic: topics.result(INVALID_SESSION), reason: 'unknown_key' });

    n = reportCount();
    await desire(4, { ...BASE, carrier: { keys: { [kid2]: pem(key2.publicKey) }, revokedKids: [kid1, kid2] } }, key2);
    expect(await nextReport(n, 'v4 report', 4)).toMatchObject({ status: 'refused', version: 4, reason: 'last_key', inForce: { version: 3 } });
    // the refused change left key2 trusted
    expect(await requestAnswer(key2, 's-still-trusted')).toMatchObject({ reason: 'wrong_device' });
  });

  it('refuses stale and reused versions, forbidden keys, schema problems and foreign signatures, keeping the layer in force', async () => {
    const cases: Array<[number, Record<string, unknown>, typeof key1, Partial<ConfigReport>]> = [
      [2, { log: { level: 'warn' } }, key2, { status: 'refused', version: 2, reason: 'stale_version' }],
      [3, { log: { level: 'warn' } }, key2, { status: 'refused', version: 3, reason: 'version_reused' }],
      [5, { deviceId: 'evil', camera: { rpicamBin: '/bin/sh' } }, key2, { status: 'refused', version: 5, reason: 'forbidden_key' }],
      [5, { camera: { fps: 0, lens: 'wide' }, log: { level: 'loud' } }, key2, { status: 'refused', version: 5, reason: 'invalid' }],
      [5, { log: { level: 'warn' } }, stranger, { status: 'refused', reason: 'unknown_key' }],
    ];
    for (const [version, config, signer, expected] of cases) {
      const n = reportCount();
      await desire(version, config, signer);
      const report = await nextReport(n, `report on v${version}`, expected.version);
      expect(report).toMatchObject({ ...expected, inForce: { version: 3 } });
      if (expected.reason === 'invalid') expect(report.problems!.length).toBeGreaterThanOrEqual(3);
      if (expected.reason === 'forbidden_key') expect(report.problems).toEqual(['camera.rpicamBin: not settable remotely', 'deviceId: not settable remotely']);
    }
    expect(effectiveConfig().sources['log.level']).toBe('remote v3');
  });

  it('restarts for a change that cannot apply live, and confirms it once the new start is READY', async () => {
    let n = reportCount();
    await desire(6, { ...rotated(), camera: { fps: 20 } }, key2);
    expect(await nextReport(n, 'v6 restarting', 6)).toMatchObject({ status: 'restarting', version: 6, restart: ['camera.fps'] });
    expect((await agent!.exited).code).toBe(EXIT.restart);

    n = reportCount();
    const b = await startAgent();
    await until(() => b.hasLog('remote configuration confirmed'), 30_000, 'v6 confirmed');
    expect(await nextReport(n, 'v6 applied', 6)).toMatchObject({ status: 'applied', version: 6, inForce: { version: 6 } });
    expect(effectiveConfig()).toMatchObject({ config: { camera: { fps: 20 } }, sources: { 'camera.fps': 'remote v6' } });
  });

  it('rolls back by itself to the last good layer when a new one never reaches READY, and does not loop on it', async () => {
    let n = reportCount();
    // GPIO that this machine does not have: the agent cannot start with it
    await desire(7, { ...rotated(), camera: { fps: 20 }, panel: { backend: 'onoff' } }, key2);
    expect(await nextReport(n, 'v7 restarting', 7)).toMatchObject({ status: 'restarting', version: 7 });
    expect((await agent!.exited).code).toBe(EXIT.restart);

    // the supervisor starts it again and again, as systemd's Restart=on-failure does
    let starts = 0;
    let running: AgentProcess | undefined;
    n = reportCount();
    while (!running && starts < 5) {
      starts++;
      const c = await startAgent();
      const outcome = await Promise.race([
        c.exited.then((e) => ({ exited: e.code })),
        until(() => c.hasLog('agent running'), 30_000, 'agent running').then(() => ({ exited: undefined })),
      ]);
      if (outcome.exited === undefined) running = c;
      else expect(outcome.exited).not.toBe(0);
    }
    expect(running).toBeDefined();
    expect(starts).toBe(3);
    let rolled: ConfigReport | undefined;
    await until(() => carrier.messages.filter((x) => x.topic === topics.configReported).length > n, 15_000, 'a report');
    for (let i = 0; i < 100 && !rolled; i++) {
      rolled = (await reports()).slice(n).find((r) => r.status === 'rolled_back');
      if (!rolled) await new Promise((r) => setTimeout(r, 100));
    }
    expect(rolled).toMatchObject({ version: 7, reason: 'did_not_reach_ready', inForce: { version: 6 } });
    expect(running!.lines.some((l) => l.msg === 'remote configuration rolled back' && l.level === 50)).toBe(true);
    // the retained v7 arrives again on connect and is refused instead of looping
    await until(() => running!.lines.some((l) => l.msg === 'remote configuration refused'), 15_000, 'v7 refused again');
    expect(effectiveConfig().sources).toMatchObject({ 'panel.backend': configPath, 'camera.fps': 'remote v6' });
    await new Promise((r) => setTimeout(r, 2000));
    expect(running!.child.exitCode).toBeNull();
  });
});
