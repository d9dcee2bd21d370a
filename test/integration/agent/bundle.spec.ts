import { execFile, execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelease } from '../../../scripts/build.ts';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { keyId } from '../../../src/carrier/keys.ts';
import { Topics } from '../../../src/carrier/protocol.ts';
import { extractJpegFrame } from '../../../src/compose/demo/reference-frame.ts';
import { PATHS } from '../../../src/device/provision/layout.ts';
import { provision } from '../../../src/device/provision/provision.ts';
import { startBrokerRig, type BrokerRig } from '../carrier/helpers/broker-rig.ts';
import { makeRoot } from '../provision/fixture-root.ts';
import { AgentProcess, NotifySocket, until } from './agent-process.ts';
import { DEMO_CLIP } from '../../../src/compose/demo/asset.ts';

/**
 * The installed agent: `npm run build`'s release provisioned into a temporary root (`provision`: service user,
 * device key, TLS key + CSR, config, units), the CSR signed by the test CA, then the INSTALLED bundle
 * (<root>/opt/regterm/current/dist/regterm.mjs) started with the provisioned config against real mosquitto (TLS, ACL).
 * The device paths in that config are absolute (/etc/regterm/...), so REGTERM_* environment overrides point them
 * into the root, and select the replay camera and sim panel. The bundle's native modules resolve from the
 * repository's node_modules through a symlink (the release test covers `npm ci` of the release lock).
 */
const REPO = join(import.meta.dirname, '..', '..', '..');
/** the bundled demo clip (models/demo): one person, frontal, then a turn to their left */
const CLIP = DEMO_CLIP;
const DEVICE = 'term-0077';
const run = promisify(execFile);

let rig: BrokerRig | undefined;
let tmp = '';
let root = '';
let notify: NotifySocket;
let agent: AgentProcess | undefined;
const carrierKey = generateKeyPairSync('ed25519');

beforeAll(async () => {
  rig = await startBrokerRig({ name: 'bundle', carrier: { autoAck: true }, carrierFilter: `regterm/v1/${DEVICE}/#` });
  const { pki, broker: mosquitto } = rig;
  tmp = rig.root;
  root = makeRoot(join(tmp, 'root'));
  const release = join(tmp, 'release');
  await buildRelease(release);
  writeFileSync(join(tmp, 'carrier.pub.pem'), carrierKey.publicKey.export({ format: 'pem', type: 'spki' }));
  const enrolled = await provision({
    root, deviceId: DEVICE, brokerUrl: mosquitto.url, carrierKeys: [join(tmp, 'carrier.pub.pem')], caFile: pki.ca,
    releaseDir: release, systemdDir: join(release, 'systemd'), camera: 'rpicam', panel: 'onoff',
  });
  execFileSync('openssl', ['x509', '-req', '-in', join(root, PATHS.tlsCsr), '-CA', pki.ca, '-CAkey', join(pki.dir, 'ca.key'),
    '-out', join(root, PATHS.tlsCert), '-days', '2', '-set_serial', '0x77'], { stdio: 'ignore' });
  // what the carrier records at enrollment: the device's public signing key
  writeFileSync(join(tmp, 'device.pub.pem'), enrolled.signingKey.publicKeyPem);
  symlinkSync(join(REPO, 'node_modules'), join(root, PATHS.current, 'node_modules'));
  notify = new NotifySocket(join(tmp, 'notify.sock'));
}, 180_000);

afterAll(async () => {
  agent?.killGroup();
  notify?.close();
  await rig?.close();
});

describe('the provisioned release bundle (regterm run)', () => {
  it('runs a session from the installed bundle and stops cleanly on SIGTERM', async () => {
    const { carrier, broker: mosquitto } = rig!;
    const config = JSON.parse(readFileSync(join(root, PATHS.config), 'utf8')) as { deviceId: string; mqtt: { url: string } };
    expect(config).toMatchObject({ deviceId: DEVICE, mqtt: { url: mosquitto.url } });
    const inRoot = (p: string) => join(root, p);
    const bundle = inRoot(PATHS.bundle);
    agent = new AgentProcess(['run', '--config', inRoot(PATHS.config)], {
      PATH: process.env.PATH, NOTIFY_SOCKET: notify.path,
      REGTERM_STATE_DIR: inRoot(PATHS.stateDir), REGTERM_CARRIER_KEYS_DIR: inRoot(PATHS.carrierKeys),
      REGTERM_IDENTITY_SIGNING_KEY_FILE: inRoot(PATHS.signingKey), REGTERM_MQTT_CA_FILE: inRoot(PATHS.tlsCa),
      REGTERM_MQTT_CERT_FILE: inRoot(PATHS.tlsCert), REGTERM_MQTT_KEY_FILE: inRoot(PATHS.tlsKey),
      REGTERM_CAMERA_BACKEND: 'replay', REGTERM_CAMERA_RECORDING: CLIP, REGTERM_CAMERA_PACE: 'fast', REGTERM_PANEL_BACKEND: 'sim',
    }, bundle);
    await until(() => notify.states.includes('READY=1'), 60_000, `READY=1 (stderr: ${agent.stderr})`);

    const topics = new Topics(DEVICE);
    const reference = await extractJpegFrame(CLIP, -1);
    const request = buildSessionRequest({ deviceId: DEVICE, reference: { format: 'jpeg', data: reference }, ttlS: 300,
      policy: { challenges: { set: ['turn_left'], required: [], count: 1 }, turn: { prompted: { startWithinMs: 7000 } } } });
    await carrier.publish(topics.request, await signSessionRequest(request, carrierKey.privateKey, await keyId(carrierKey.publicKey)));
    await carrier.until(() => carrier.results.has(request.sessionId), 120_000, 'the session result');
    writeFileSync(join(tmp, 'result.jws'), carrier.results.get(request.sessionId)![0]!);
    // the carrier's tool, from the same release
    const verified = await run(process.execPath, [bundle, 'verify-result', '--key', join(tmp, 'device.pub.pem'), join(tmp, 'result.jws')], { encoding: 'utf8' });
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, payload: { deviceId: DEVICE, sessionId: request.sessionId, decision: 'match' } });
    await until(() => agent!.hasLog('result acknowledged'), 10_000, 'the ack');

    agent.child.kill('SIGTERM');
    expect(await agent.exited).toEqual({ code: 0, signal: null });
    expect(notify.states.at(-1)).toBe('STOPPING=1');
    // the process ended on its own: stop() released every handle (no forced exit after the grace period)
    expect(agent.hasLog('handles still open after stop; exiting')).toBe(false);
    await until(() => agent!.leftovers().length === 0, 3000, 'no leftovers').catch(() => undefined);
    expect(agent.leftovers()).toEqual([]);
  }, 240_000);
});
