/**
 * `camera.loop` on the replay camera: `regterm run` on a recording serves one session after another, the recording
 * starting over when it ends. The agent as a real process against the real mosquitto (TLS client certificates), the
 * bundled clip as its camera; two carrier requests in a row both decide `match`. Without the loop a later session has
 * only the clip's tail left, which ends before it can decide. How much of the clip a session uses depends on the
 * machine's speed (the session's phases run on the wall clock, the clip in lockstep with the frames analysed), so on
 * a loaded machine the second session may still find a turn in the tail: the test allows up to three.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSessionRequest, signSessionRequest } from '../../../src/carrier/carrier-side.ts';
import { keyId, readPublicKey } from '../../../src/carrier/keys.ts';
import { Topics } from '../../../src/carrier/protocol.ts';
import { DEMO_CLIP } from '../../../src/compose/demo/asset.ts';
import { extractJpegFrame } from '../../../src/compose/demo/reference-frame.ts';
import { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, createIdentity } from '../../../src/carrier/device-key.ts';
import { CarrierClient } from '../carrier/helpers/carrier-client.ts';
import { Mosquitto, freePort } from '../carrier/helpers/mosquitto.ts';
import { createPki } from '../carrier/helpers/pki.ts';
import { AgentProcess, NotifySocket, until } from './agent-process.ts';

const DEVICE = 'term-loop';
let dir = '';
let mosquitto: Mosquitto;
let carrier: CarrierClient;
let notify: NotifySocket;
let agent: AgentProcess | undefined;
let carrierKey: ReturnType<typeof generateKeyPairSync>;
let pki: ReturnType<typeof createPki>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'regterm-loop-'));
  mkdirSync(join(dir, 'pki'));
  pki = createPki(join(dir, 'pki'));
  mosquitto = new Mosquitto(dir, await freePort(), pki);
  await mosquitto.start();
  await createIdentity(join(dir, 'identity'));
  carrierKey = generateKeyPairSync('ed25519');
  mkdirSync(join(dir, 'carrier-keys'));
  writeFileSync(join(dir, 'carrier-keys', 'carrier.pem'), carrierKey.publicKey.export({ format: 'pem', type: 'spki' }));
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

function writeConfig(loop: boolean): string {
  const cert = pki.client(DEVICE);
  const path = join(dir, `config-${loop}.json`);
  writeFileSync(path, JSON.stringify({
    deviceId: DEVICE, stateDir: join(dir, `state-${loop}`), log: { level: 'info' },
    camera: { backend: 'replay', recording: DEMO_CLIP, pace: 'fast', loop }, panel: { backend: 'sim' },
    mqtt: { url: mosquitto.url, caFile: pki.ca, certFile: cert.cert, keyFile: cert.key, reconnectMinMs: 200, reconnectMaxMs: 2000 },
    carrier: { keysDir: join(dir, 'carrier-keys'), drainBudgetMs: 3000 },
    identity: { signingKeyFile: join(dir, 'identity', PRIVATE_KEY_FILE) },
  }));
  return path;
}

/** Carrier requests one after the other, up to `count`, stopping after the first that does not match; their decisions. */
async function sessions(loop: boolean, count: number): Promise<string[]> {
  const topics = new Topics(DEVICE);
  agent = new AgentProcess(['run', '--config', writeConfig(loop)], { PATH: process.env.PATH, HOME: process.env.HOME, NOTIFY_SOCKET: notify.path });
  const readyBefore = notify.states.filter((s) => s === 'READY=1').length;
  await until(() => notify.states.filter((s) => s === 'READY=1').length > readyBefore, 60_000, `READY=1 (stderr: ${agent?.stderr})`);
  const reference = await extractJpegFrame(DEMO_CLIP, -1);
  const decisions: string[] = [];
  for (let k = 0; k < count && !decisions.some((d) => d !== 'match'); k++) {
    const request = buildSessionRequest({ deviceId: DEVICE, reference: { format: 'jpeg', data: reference }, ttlS: 300,
      policy: { challenges: { set: ['turn_left'], required: [], count: 1 }, turn: { prompted: { startWithinMs: 7000 } } } });
    await carrier.publish(topics.request, await signSessionRequest(request, carrierKey.privateKey, await keyId(carrierKey.publicKey)));
    await carrier.until(() => carrier.results.has(request.sessionId), 120_000, `the result of session ${k + 1}`);
    const { payload } = await compactVerify(carrier.results.get(request.sessionId)![0]!, readPublicKey(join(dir, 'identity', PUBLIC_KEY_FILE)));
    decisions.push(String((JSON.parse(new TextDecoder().decode(payload)) as { decision: string }).decision));
  }
  agent.child.kill('SIGTERM');
  expect(await agent.exited).toEqual({ code: 0, signal: null });
  agent = undefined;
  return decisions;
}

describe('regterm run on a looped recording (camera.loop)', () => {
  it('serves two sessions in a row on one recording, each deciding match', async () => {
    expect(await sessions(true, 2)).toEqual(['match', 'match']);
  }, 300_000);

  it('without the loop, a later session runs out of recording', async () => {
    const decisions = await sessions(false, 3);
    expect(decisions[0]).toBe('match');
    expect(decisions.slice(1)).toContainEqual(expect.not.stringMatching(/^match$/));
  }, 300_000);
});
