import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { compactVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { CONFIG_TYP, signJson } from '../../../src/carrier/jws.ts';
import { keyId, readPublicKey } from '../../../src/carrier/keys.ts';
import { INVALID_SESSION, configReportSchema, type ConfigReport } from '../../../src/carrier/protocol.ts';
import { EXIT } from '../../../src/lib/errors.ts';
import { REFERENCE } from '../../unit/carrier/helpers.ts';
import { REGTERM, until, type AgentProcess } from './agent-process.ts';
import { AgentRig, NO_CAMERA } from './agent-rig.ts';

/**
 * Remote configuration end to end: the agent as a real process on mosquitto (TLS, client certificates), the carrier
 * publishing signed desired configurations retained on `config/desired` and reading the device-signed reports on
 * `config/reported`. Live changes, key rotation (a removed key's requests are refused), every kind of refusal, a
 * change that takes a restart, and one that never reaches READY and is rolled back by the agent itself.
 */
const DEVICE = 'term-remote';
const key1 = generateKeyPairSync('ed25519');
const key2 = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'spki' }) as string;
const rig = new AgentRig({ deviceId: DEVICE, carrierKey: key1, config: () => ({ camera: NO_CAMERA,
  mqtt: { reconnectMinMs: 200, reconnectMaxMs: 2000 }, carrier: { drainBudgetMs: 1000 }, telemetry: undefined }) });
const { topics } = rig;

let carrier: AgentRig['carrier'];
let configPath = '';
let devicePub: KeyObject;
let agent: AgentProcess | undefined;
let kid1 = '';
let kid2 = '';

beforeAll(async () => {
  await rig.start();
  ({ carrier, configPath } = rig);
  devicePub = readPublicKey(rig.devicePublicKeyFile);
  kid1 = await keyId(key1.publicKey);
  kid2 = await keyId(key2.publicKey);
});

afterAll(() => rig.close());

async function startAgent(): Promise<AgentProcess> {
  const a = rig.spawnAgent();
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
  return (await carrier.verifiedJson(topics.configReported, devicePub)).map((j) => configReportSchema.parse(j));
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
